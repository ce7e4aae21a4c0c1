/* SPDX-License-Identifier: MPL-2.0 */
/* im_dir.c -- the data directory: where it is, the paths in it, whole-file
 * reads and atomic replacement, the edit lock (flock) and the daemon's pid
 * lock (a POSIX record lock, so it vanishes with the process however it
 * ends). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "im_ctl.h"
#include "im_dir.h"
#include "im_util.h"

int
im_dir_path (const char *dir, const char *file, char *out, size_t outsz)
{
    int n = snprintf (out, outsz, "%s/%s", dir, file);
    if (n < 0 || (size_t)n >= outsz) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int
im_dir_resolve (const char *opt, char *out, size_t outsz)
{
    const char *env = getenv ("INTELMESH_DIR");
    int n;
    if (opt && *opt)
        n = snprintf (out, outsz, "%s", opt);
    else if (env && *env)
        n = snprintf (out, outsz, "%s", env);
    else if (geteuid () == 0)
        n = snprintf (out, outsz, "/var/lib/intelmesh");
    else {
        const char *home = getenv ("HOME");
        if (!home || !*home) {
            errno = ENOENT;
            return -1;
        }
        n = snprintf (out, outsz, "%s/.local/share/intelmesh", home);
    }
    if (n < 0 || (size_t)n >= outsz) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* No trailing slash, so that DIR/FILE reads well in messages. */
    size_t len = strlen (out);
    while (len > 1 && out[len - 1] == '/')
        out[--len] = 0;
    return 0;
}

char *
im_dir_read (const char *dir, const char *file, char *err, size_t errsz)
{
    char path[4096];
    if (im_dir_path (dir, file, path, sizeof path)) {
        im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
        return NULL;
    }
    FILE *f = fopen (path, "r");
    if (!f) {
        im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
        return NULL;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream (&text, &size);
    char buf[8192];
    size_t n;
    while (mem && (n = fread (buf, 1, sizeof buf, f)) > 0)
        fwrite (buf, 1, n, mem);
    int bad = ferror (f);
    fclose (f);
    if (!mem || fclose (mem) != 0 || bad) {
        free (text);
        im_fail (EIO, err, errsz, "%s: cannot read", path);
        return NULL;
    }
    return text;
}

/* A failed write of PATH: a full disk (or quota) says so, the rest as the
 * system does. */
static int
write_fail (int code, const char *path, char *err, size_t errsz)
{
    if (code == ENOSPC || code == EDQUOT)
        return im_fail (ENOSPC, err, errsz, "disk full: no room to write %s (%s)", path,
                        strerror (code));
    return im_fail (code, err, errsz, "%s: %s", path, strerror (code));
}

int
im_dir_replace (const char *dir, const char *file, const char *text, char *err,
                size_t errsz)
{
    char path[4096], tmp[4200];
    if (im_dir_path (dir, file, path, sizeof path))
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
    snprintf (tmp, sizeof tmp, "%s.new.%ld", path, (long)getpid ());
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return write_fail (errno, tmp, err, errsz);
    /* The new file keeps the old one's owner (a root admin editing the
     * configuration of a node that runs as its own user). */
    struct stat st;
    if (stat (path, &st) == 0 && geteuid () == 0
        && fchown (fd, st.st_uid, st.st_gid) != 0) {
        int saved = errno;
        close (fd);
        unlink (tmp);
        return im_fail (saved, err, errsz, "%s: %s", tmp, strerror (saved));
    }
    size_t len = strlen (text);
    int ok = write (fd, text, len) == (ssize_t)len && fsync (fd) == 0;
    int saved = errno;
    close (fd);
    if (!ok || rename (tmp, path) != 0) {
        saved = ok ? errno : saved;
        unlink (tmp);
        return write_fail (saved, path, err, errsz);
    }
    int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync (dfd); /* the rename itself, durable */
        close (dfd);
    }
    return 0;
}

int
im_dir_usable (const char *dir, const char *file, int mode, char *err, size_t errsz)
{
    char path[4096];
    struct stat st;
    int dir_ok = access (dir, X_OK) == 0;
    if (!dir_ok && errno == ENOENT)
        return im_fail (ENOENT, err, errsz,
                        "no data directory %s (-d DIR or INTELMESH_DIR says where it "
                        "is; 'intelmesh init -d DIR' makes a node)",
                        dir);
    if (dir_ok && file) {
        if (im_dir_path (dir, file, path, sizeof path))
            return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
        if (access (path, mode) == 0)
            return 0;
    }
    else if (dir_ok)
        return 0;
    else
        snprintf (path, sizeof path, "%s", dir);
    int saved = errno;
    if (saved != EACCES && saved != EPERM)
        return im_fail (saved, err, errsz, "%s: %s", path, strerror (saved));
    const struct passwd *pw = stat (path, &st) == 0 ? getpwuid (st.st_uid) : NULL;
    if (!pw)
        return im_fail (EACCES, err, errsz, "permission denied: %s", path);
    return im_fail (EACCES, err, errsz, "permission denied: %s (owned by %s, mode %04o)",
                    path, pw->pw_name, (unsigned)(st.st_mode & 07777));
}

/* The sockets the daemon makes in its data directory (a feed socket there
 * belongs on this list too). */
static const char *const dir_sockets[] = { IM_CONTROL_FILE };

size_t
im_dir_length_max (void)
{
    size_t longest = 0;
    for (size_t i = 0; i < sizeof dir_sockets / sizeof dir_sockets[0]; i++)
        if (strlen (dir_sockets[i]) > longest)
            longest = strlen (dir_sockets[i]);
    /* A socket's path, its NUL included, fills at most sun_path. */
    return sizeof ((struct sockaddr_un *)0)->sun_path - 1 - 1 - longest;
}

int
im_dir_check_length (const char *dir, char *err, size_t errsz)
{
    size_t len = strlen (dir), max = im_dir_length_max ();
    if (len <= max)
        return 0;
    return im_fail (ENAMETOOLONG, err, errsz,
                    "the data directory %s is %zu bytes long; it may be at most %zu, "
                    "so that the paths of the sockets in it fit in %zu bytes",
                    dir, len, max, sizeof ((struct sockaddr_un *)0)->sun_path - 1);
}

/* Run as root, gives FD the owner of DIR's configuration (of DIR when it has
 * none yet): a lock or pid file made by a root command stays usable by the
 * user the node runs as. */
static int
own_like_config (int fd, const char *dir)
{
    if (geteuid () != 0)
        return 0;
    char path[4096];
    struct stat st;
    if ((im_dir_path (dir, IM_CONFIG_FILE, path, sizeof path) || stat (path, &st) != 0)
        && stat (dir, &st) != 0)
        return -1;
    return fchown (fd, st.st_uid, st.st_gid);
}

int
im_dir_lock (const char *dir, const char *file, char *err, size_t errsz)
{
    char path[4096];
    if (!dir)
        return im_fail (EINVAL, err, errsz, "%s: missing directory", file);
    if (im_dir_path (dir, file, path, sizeof path))
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", path, strerror (errno));
    if (own_like_config (fd, dir) != 0) {
        int saved = errno;
        close (fd);
        return im_fail (saved, err, errsz, "%s: %s", path, strerror (saved));
    }
    while (flock (fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int saved = errno;
            close (fd);
            return im_fail (saved, err, errsz, "%s: %s", path, strerror (saved));
        }
    }
    return fd;
}

void
im_dir_unlock (int fd)
{
    int saved = errno;
    if (fd >= 0)
        close (fd); /* releases the lock */
    errno = saved;
}

static int
pidfile_open (const char *dir, int flags)
{
    char path[4096];
    if (im_dir_path (dir, IM_PID_FILE, path, sizeof path))
        return -1;
    return open (path, flags | O_CLOEXEC, 0644);
}

int
im_pidfile_acquire (const char *dir, pid_t *holder, char *err, size_t errsz)
{
    int fd = pidfile_open (dir, O_RDWR | O_CREAT);
    if (fd < 0 || own_like_config (fd, dir) != 0) {
        int saved = errno;
        if (fd >= 0)
            close (fd);
        return im_fail (saved, err, errsz, "%s/%s: %s", dir, IM_PID_FILE,
                        strerror (saved));
    }
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl (fd, F_SETLK, &lk) != 0) {
        int saved = errno;
        pid_t pid = im_pidfile_holder (dir);
        if (holder)
            *holder = pid;
        close (fd);
        if (saved == EACCES || saved == EAGAIN)
            return im_fail (EAGAIN, err, errsz,
                            "intelmeshd is already running on %s (pid %ld)", dir,
                            (long)pid);
        return im_fail (saved, err, errsz, "%s/%s: %s", dir, IM_PID_FILE,
                        strerror (saved));
    }
    char text[32];
    int n = snprintf (text, sizeof text, "%ld\n", (long)getpid ());
    if (ftruncate (fd, 0) != 0 || write (fd, text, (size_t)n) != n) {
        int saved = errno;
        close (fd);
        return im_fail (saved, err, errsz, "%s/%s: %s", dir, IM_PID_FILE,
                        strerror (saved));
    }
    return fd;
}

pid_t
im_pidfile_holder (const char *dir)
{
    int fd = pidfile_open (dir, O_RDONLY);
    if (fd < 0)
        return 0;
    struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    pid_t pid = 0;
    if (fcntl (fd, F_GETLK, &lk) == 0 && lk.l_type != F_UNLCK)
        pid = lk.l_pid;
    close (fd);
    return pid;
}
