/* SPDX-License-Identifier: MPL-2.0 */
/* im_dir.h -- where a node lives: its data directory, the paths of the
 * files in it, whole-file reads and atomic replacement, the lock that
 * serialises edits, and the daemon's pid lock. */
#ifndef IM_DIR_H
#define IM_DIR_H

#include <stddef.h>
#include <sys/types.h>

#define IM_CONFIG_FILE "intelmesh.conf"
#define IM_PID_FILE "intelmeshd.pid"
#define IM_STORE_DIR "store"
#define IM_PATH_MAX 1024

/* The data directory: OPT when given, else $INTELMESH_DIR, else
 * /var/lib/intelmesh for root and ~/.local/share/intelmesh for others.
 * Returns 0, or -1 with errno (ENAMETOOLONG, ENOENT without a home). */
int im_dir_resolve (const char *opt, char *out, size_t outsz);

/* DIR/FILE into OUT. Returns 0 or -1 with errno ENAMETOOLONG. */
int im_dir_path (const char *dir, const char *file, char *out, size_t outsz);

/* Reads DIR/FILE whole. Returns a new string (the caller frees it), or NULL
 * with errno and a reason in ERR. */
char *im_dir_read (const char *dir, const char *file, char *err, size_t errsz);

/* Replaces DIR/FILE with TEXT: a new file (mode 0640, the old one's owner
 * kept when run as root), synced, renamed over, the rename synced. Returns 0
 * or -1 with errno and a reason in ERR. */
int im_dir_replace (const char *dir, const char *file, const char *text, char *err,
                    size_t errsz);

/* Whether DIR/FILE (FILE NULL: DIR itself, to be entered) can be used as
 * MODE (access(2): R_OK, W_OK...) says. Returns 0, or -1 with errno and a
 * reason that names the path: ENOENT "no data directory DIR" (and what sets
 * it) when DIR does not exist, EACCES "permission denied: PATH" (with its
 * owner and mode) when DIR or FILE cannot be used, else the error of FILE. */
int im_dir_usable (const char *dir, const char *file, int mode, char *err, size_t errsz);

/* The longest data directory path whose sockets (control.sock) fit in a
 * socket address: sizeof sun_path, less the NUL, a '/' and the longest
 * socket name (94 bytes on Linux). */
size_t im_dir_length_max (void);

/* Returns 0 when DIR (an absolute path) is at most im_dir_length_max bytes
 * long, else -1 with errno ENAMETOOLONG and a reason, with the limit, in
 * ERR. */
int im_dir_check_length (const char *dir, char *err, size_t errsz);

/* Takes an exclusive lock on DIR/FILE (created 0600 when absent; as root,
 * given the owner of DIR/intelmesh.conf, or of DIR), waiting for it. Returns the
 * descriptor, which im_dir_unlock releases, or -1 with errno and a reason in ERR. */
int im_dir_lock (const char *dir, const char *file, char *err, size_t errsz);

/* Releases a lock from im_dir_lock (FD < 0: nothing); preserves errno. */
void im_dir_unlock (int fd);

/* Takes the daemon's lock on DIR/intelmeshd.pid (as root, given the owner
 * of DIR/intelmesh.conf, or of DIR) and writes our pid there.
 * Returns the open descriptor (keep it open while running), or -1 with errno
 * EAGAIN when another process holds it (its pid in *HOLDER). */
int im_pidfile_acquire (const char *dir, pid_t *holder, char *err, size_t errsz);

/* The pid of the daemon holding DIR's lock, or 0 when none runs. */
pid_t im_pidfile_holder (const char *dir);

#endif
