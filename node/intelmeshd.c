/* SPDX-License-Identifier: MPL-2.0 */
/* intelmeshd.c -- the intelmesh node daemon: takes the data directory's lock,
 * runs the node actor, and stops it cleanly on SIGTERM or SIGINT. Without
 * --foreground it detaches once the node is ready, so that a started daemon
 * is a working one. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#ifdef HAVE_MALLOPT
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_log.h"
#include "im_node.h"

static volatile sig_atomic_t reload_asked = 0;

/* Keeps the memory freed after a burst for the next one. glibc gives an
 * allocation of 128 KiB or more its own mapping, unmapped when freed (the bar
 * rises to the largest such allocation freed, up to 32 MiB), and hands the
 * free top of a thread's heap back to the kernel once it passes twice that
 * bar: so the answers of a few hundred records, and the messages ZeroMQ's
 * thread reads, were in pages new to the process, each a page fault when first
 * touched. A fault costs 13 us on the virtual machines the benchmarks ran on:
 * 16 nodes relaying 32,000 indicators took 10,500 faults each, 8,200 with
 * these settings (make bench). The price: after a burst, up to NODE_TRIM_BYTES
 * of each thread's heap (the node's, ZeroMQ's, the workers') stays the node's
 * until it is used again. */
#define NODE_MMAP_BYTES (16 << 20) /* an allocation this large gets a mapping */
#define NODE_TRIM_BYTES (32 << 20) /* free top of a heap handed back past this */

static void
memory_settings (void)
{
#ifdef HAVE_MALLOPT
    if (mallopt (M_MMAP_THRESHOLD, NODE_MMAP_BYTES) != 1
        || mallopt (M_TRIM_THRESHOLD, NODE_TRIM_BYTES) != 1)
        fprintf (stderr, "intelmeshd: cannot set the allocator's thresholds "
                         "(going on with its own)\n");
#endif
}

static void
on_sighup (int sig)
{
    (void)sig;
    reload_asked = 1;
}

static void
usage (FILE *out)
{
    fprintf (out,
             "Usage: intelmeshd [-d DIR] [--foreground] [--syslog] [--log FILE]\n"
             "Runs an intelmesh node on the data directory DIR (else $INTELMESH_DIR,\n"
             "else /var/lib/intelmesh as root, ~/.local/share/intelmesh otherwise).\n"
             "\n"
             "  -d, --dir DIR      the node's data directory (made by 'intelmesh init')\n"
             "  -f, --foreground   stay in the foreground and log to standard error\n"
             "                     (to the journal, through syslog, under systemd)\n"
             "  -s, --syslog       log to syslog (the default when detached)\n"
             "  -l, --log FILE     log to FILE (appended to; opened again on SIGHUP)\n"
             "  -h, --help         show this help\n"
             "  -V, --version      show the version\n");
}

/* Tells the parent, waiting on the other end of a pipe, how the start went:
 * an empty message for success, the reason otherwise. */
static void
notify_parent (int fd, const char *reason)
{
    if (fd < 0)
        return;
    if (reason && *reason) {
        ssize_t n = write (fd, reason, strlen (reason));
        (void)n;
    }
    close (fd);
}

/* Removes the control socket and the pid file, at a stop or after a failed
 * start. The pid file goes while the lock is still held: no one else can
 * have taken it meanwhile. */
static void
remove_run_files (const char *dir)
{
    char path[PATH_MAX + 32];
    if (im_dir_path (dir, IM_CONTROL_FILE, path, sizeof path) == 0)
        unlink (path);
    if (im_dir_path (dir, IM_PID_FILE, path, sizeof path) == 0)
        unlink (path);
}

/* Forks; the parent waits until the child says it is ready and exits with
 * the child's verdict. Returns the write end of the pipe in the child. */
static int
detach (void)
{
    int fds[2];
    if (pipe (fds) != 0) {
        fprintf (stderr, "intelmeshd: pipe: %s\n", strerror (errno));
        exit (1);
    }
    pid_t pid = fork ();
    if (pid < 0) {
        fprintf (stderr, "intelmeshd: fork: %s\n", strerror (errno));
        exit (1);
    }
    if (pid > 0) {
        close (fds[1]);
        char reason[1024];
        size_t got = 0;
        ssize_t n;
        while (got < sizeof reason - 1
               && (n = read (fds[0], reason + got, sizeof reason - 1 - got)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break;
            got += (size_t)n;
        }
        reason[got] = 0;
        if (got) {
            fprintf (stderr, "intelmeshd: %s\n", reason);
            exit (1);
        }
        exit (0);
    }
    close (fds[0]);
    setsid ();
    int null = open ("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2 (null, STDIN_FILENO);
        dup2 (null, STDOUT_FILENO);
        dup2 (null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close (null);
    }
    return fds[1];
}

/* --log FILE; or, where syslog is wanted and there is none (no /dev/log),
 * standard error in the foreground and DIR/intelmeshd.log detached: the log
 * is never lost. */
static void
set_log_file (const char *dir, const char *log_opt, int foreground, int to_syslog)
{
    char err[1024], path[PATH_MAX + 32];
    if (log_opt) {
        if (im_log_open (log_opt, err, sizeof err) != 0)
            zsys_error ("%s", err); /* it opened a moment ago: to syslog */
        return;
    }
    if (!to_syslog || access ("/dev/log", F_OK) == 0)
        return;
    if (foreground) {
        zsys_set_logsystem (false);
        zsys_set_logstream (stderr);
        zsys_warning ("syslog is not available (no /dev/log): logging to standard error");
        return;
    }
    if (im_dir_path (dir, IM_LOG_FILE, path, sizeof path) != 0
        || im_log_open (path, err, sizeof err) != 0)
        return; /* nothing better is left */
    zsys_warning ("syslog is not available (no /dev/log): logging to %s", path);
}

int
main (int argc, char *argv[])
{
    static const struct option options[] = {
        { "dir", required_argument, NULL, 'd' },
        { "foreground", no_argument, NULL, 'f' },
        { "syslog", no_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { "log", required_argument, NULL, 'l' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir_opt = NULL, *log_opt = NULL;
    int foreground = 0, use_syslog = 0, c;
    while ((c = getopt_long (argc, argv, "d:fshVl:", options, NULL)) != -1) {
        switch (c) {
        case 'd': dir_opt = optarg; break;
        case 'f': foreground = 1; break;
        case 's': use_syslog = 1; break;
        case 'l': log_opt = optarg; break;
        case 'h': usage (stdout); return 0;
        case 'V': printf ("intelmeshd %s\n", PACKAGE_VERSION); return 0;
        default: usage (stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "intelmeshd: unexpected argument '%s' (see --help)\n",
                 argv[optind]);
        return 2;
    }
    memory_settings ();
    char given[PATH_MAX], dir[PATH_MAX], err[1024];
    if (im_dir_resolve (dir_opt, given, sizeof given) != 0) {
        fprintf (stderr, "intelmeshd: cannot tell the data directory: use -d DIR\n");
        return 2;
    }
    if (!realpath (given, dir)) {
        int saved = errno;
        if (im_dir_usable (given, NULL, X_OK, err, sizeof err) == 0)
            snprintf (err, sizeof err, "%.900s: %s", given, strerror (saved));
        fprintf (stderr, "intelmeshd: %s\n", err);
        return 1;
    }
    im_config_t cfg;
    if (im_dir_check_length (dir, err, sizeof err) != 0
        || im_config_load (dir, &cfg, err, sizeof err) != 0) {
        fprintf (stderr, "intelmeshd: %s\n", err);
        return 1;
    }
    if (sodium_init () < 0) {
        fprintf (stderr, "intelmeshd: libsodium failed to initialise\n");
        return 1;
    }
    /* A log file that cannot be opened is said here, before detaching. */
    if (log_opt && im_log_open (log_opt, err, sizeof err) != 0) {
        fprintf (stderr, "intelmeshd: %s\n", err);
        return 1;
    }
    int ready_fd = foreground ? -1 : detach ();

    /* The lock is taken after the fork: record locks are not inherited. */
    pid_t holder = 0;
    int lock_fd = im_pidfile_acquire (dir, &holder, err, sizeof err);
    if (lock_fd < 0) {
        if (foreground)
            fprintf (stderr, "intelmeshd: %s\n", err);
        notify_parent (ready_fd, err);
        return 1;
    }
    signal (SIGPIPE, SIG_IGN);
    struct sigaction hup = { .sa_handler = on_sighup };
    sigemptyset (&hup.sa_mask);
    sigaction (SIGHUP, &hup, NULL);
    zsys_init ();
    zsys_set_logident ("intelmeshd");
    /* Started by systemd (which sets these), the log goes to syslog, which
     * the journal takes with each line's priority. */
    int under_systemd = getenv ("JOURNAL_STREAM") || getenv ("INVOCATION_ID");
    int to_syslog = use_syslog || cfg.syslog || !foreground || under_systemd;
    zsys_set_logsystem (to_syslog);
    zsys_set_logstream (to_syslog ? NULL : stderr);
    set_log_file (dir, log_opt, foreground, to_syslog);

    zactor_t *node = zactor_new (im_node_actor, dir);
    char *reply = NULL;
    if (node) {
        zstr_send (node, "START");
        reply = zstr_recv (node);
    }
    if (!reply || strcmp (reply, "OK") != 0) {
        const char *why = reply ? reply : "cannot start the node actor";
        zsys_error ("%s", why);
        if (foreground)
            fprintf (stderr, "intelmeshd: %s\n", why);
        notify_parent (ready_fd, why);
        zstr_free (&reply);
        zactor_destroy (&node);
        remove_run_files (dir);
        close (lock_fd);
        return 1;
    }
    zstr_free (&reply);
    notify_parent (ready_fd, NULL);

    /* Wait for SIGTERM or SIGINT (czmq's handler sets zsys_interrupted). */
    while (!zsys_interrupted) {
        zclock_sleep (100);
        if (reload_asked) {
            reload_asked = 0;
            zsys_info ("SIGHUP: reloading the configuration");
            zstr_send (node, "RELOAD");
        }
    }
    zsys_info ("signal received, stopping");
    zactor_destroy (&node);
    remove_run_files (dir);
    close (lock_fd);
    zsys_shutdown ();
    return 0;
}
