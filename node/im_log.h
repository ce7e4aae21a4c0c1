/* SPDX-License-Identifier: MPL-2.0 */
/* im_log.h -- the daemon's log file (intelmeshd --log FILE, or the default
 * file in the data directory when syslog is not there): appended to, mode
 * 0640, opened again on SIGHUP and reload so that logrotate can move it. */
#ifndef IM_LOG_H
#define IM_LOG_H

#include <stddef.h>

#define IM_LOG_FILE "intelmeshd.log" /* in the data directory */

/* Opens PATH (made absolute) for appending, 0640 when made, and sends czmq's
 * log there instead of to syslog. Returns 0, or -1 with errno and a reason
 * in ERR. */
int im_log_open (const char *path, char *err, size_t errsz);

/* Opens the log file again under its name (it may have been moved away):
 * what is written next goes to the new file. Nothing without a log file.
 * Returns 0 or -1 with errno (the old file is kept then). */
int im_log_reopen (void);

/* The log file's path, or NULL when the log goes elsewhere. */
const char *im_log_path (void);

#endif
