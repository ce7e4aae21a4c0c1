/* SPDX-License-Identifier: MPL-2.0 */
/* im_log.c -- the daemon's log file: czmq's log stream on a file opened for
 * appending, opened again (the stream's descriptor replaced at once, so that
 * other threads never write to a closed one) on SIGHUP and reload. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "im_log.h"
#include "im_util.h"

static char log_path[PATH_MAX];
static FILE *log_stream;

static int
open_fd (const char *path)
{
    return open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

int
im_log_open (const char *path, char *err, size_t errsz)
{
    char cwd[PATH_MAX];
    if (path[0] != '/' && !getcwd (cwd, sizeof cwd))
        return im_fail (errno, err, errsz, "--log %s: %s", path, strerror (errno));
    int n = path[0] == '/' ? snprintf (log_path, sizeof log_path, "%s", path)
                           : snprintf (log_path, sizeof log_path, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= sizeof log_path)
        return im_fail (ENAMETOOLONG, err, errsz, "--log %s: the path is too long", path);
    int fd = open_fd (log_path);
    FILE *f = fd >= 0 ? fdopen (fd, "a") : NULL;
    if (!f) {
        int saved = errno;
        if (fd >= 0)
            close (fd);
        *log_path = 0;
        return im_fail (saved, err, errsz, "cannot open the log file %s: %s", path,
                        strerror (saved));
    }
    setvbuf (f, NULL, _IOLBF, 0);
    if (log_stream)
        fclose (log_stream);
    log_stream = f;
    zsys_set_logsystem (false);
    zsys_set_logstream (log_stream);
    return 0;
}

int
im_log_reopen (void)
{
    if (!log_stream)
        return 0;
    int fd = open_fd (log_path);
    if (fd < 0) {
        int saved = errno;
        zsys_error ("cannot open the log file %s again (logging on to the old one): %s",
                    log_path, strerror (saved));
        errno = saved;
        return -1;
    }
    fflush (log_stream);
    int rc = dup2 (fd, fileno (log_stream)) < 0 ? -1 : 0;
    int saved = errno;
    close (fd);
    errno = saved;
    return rc;
}

const char *
im_log_path (void)
{
    return log_stream ? log_path : NULL;
}
