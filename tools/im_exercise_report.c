/* SPDX-License-Identifier: MPL-2.0 */
/* im_exercise_report.c -- an exercise's score (receive times, first actions,
 * actions by kind, what was never acknowledged), its table for a terminal,
 * and the report directory: events.csv here, summary.md and the SVG
 * timelines by im_exercise_report_md.c and _svg.c, each file atomically. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "im_exercise_report.h"
#include "im_exercise_report_int.h"
#include "im_time.h"
#include "im_util.h"

void
ex_duration (double s, char *out, size_t outsz)
{
    long long whole = (long long)s;
    const char *half = s - (double)whole >= 0.5 ? ".5" : "";
    if (whole < 60)
        snprintf (out, outsz, "%lld%ss", whole, half);
    else if (whole < 3600)
        snprintf (out, outsz, "%lldm%02lld%ss", whole / 60, whole % 60, half);
    else
        snprintf (out, outsz, "%lldh%02lldm%02lld%ss", whole / 3600, whole / 60 % 60,
                  whole % 60, half);
}

/* ---- The score ---------------------------------------------------------- */

static int
cmp64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* {"median_s", "max_s"} of the N delays D (sorted here); nulls when N is 0. */
static json_t *
receive_stats (int64_t *d, size_t n)
{
    if (n == 0)
        return json_pack ("{s:n,s:n}", "median_s", "max_s");
    qsort (d, n, sizeof *d, cmp64);
    json_t *median;
    if (n % 2)
        median = json_integer (d[n / 2]);
    else if ((d[n / 2 - 1] + d[n / 2]) % 2 == 0)
        median = json_integer ((d[n / 2 - 1] + d[n / 2]) / 2);
    else
        median = json_real ((double)(d[n / 2 - 1] + d[n / 2]) / 2.0);
    return json_pack ("{s:o,s:I}", "median_s", median, "max_s", (json_int_t)d[n - 1]);
}

/* A time since FROM as JSON, or null for EX_NONE. */
static json_t *
since (int64_t t, int64_t from)
{
    return t == EX_NONE ? json_null () : json_integer (t - from);
}

static json_t *
party_score (const ex_model_t *m, size_t p, int64_t *delays, int detail)
{
    json_t *per = json_array (), *unack = json_array ();
    size_t acked = 0, sent = 0, counts[EX_ACTIONS] = { 0 };
    int64_t first = EX_NONE, first_sent = EX_NONE;
    int bad = !per || !unack;
    for (size_t i = 0; i < m->ninjects && !bad; i++) {
        const ex_inject_t *x = &m->injects[i];
        if (!ex_sent_to (m, i, p))
            continue; /* not this participant's to answer */
        if (sent++ == 0)
            first_sent = x->sent; /* the injects go by time sent */
        int64_t ack = m->ack[p * m->ninjects + i], act = m->act[p * m->ninjects + i];
        if (ack != EX_NONE)
            delays[acked++] = ack - x->sent;
        else
            bad |= json_array_append_new (unack, json_string (x->id));
        if (act != EX_NONE && (first == EX_NONE || act < first))
            first = act;
        if (detail)
            bad |= json_array_append_new (
                per,
                json_pack ("{s:s,s:o,s:o}", "inject", x->id, "receive_s",
                           since (ack, x->sent), "first_action_s", since (act, x->sent)));
    }
    for (size_t i = 0; i < m->nevents; i++)
        if (m->events[i].party == p && m->events[i].kind == EX_ACTION)
            counts[m->events[i].action]++;
    json_t *o = NULL;
    if (!bad)
        o = json_pack ("{s:s,s:s,s:I,s:I,s:o,s:o,s:{s:I,s:I,s:I,s:I},s:O,s:O}", "node",
                       m->parties[p].node, "name", m->parties[p].name, "injects",
                       (json_int_t)sent, "acknowledged", (json_int_t)acked, "receive",
                       receive_stats (delays, acked), "first_action_s",
                       since (first, first_sent), "actions", ex_action_names[EX_DETECTED],
                       (json_int_t)counts[EX_DETECTED], ex_action_names[EX_BLOCKED],
                       (json_int_t)counts[EX_BLOCKED], ex_action_names[EX_MITIGATED],
                       (json_int_t)counts[EX_MITIGATED], ex_action_names[EX_ESCALATED],
                       (json_int_t)counts[EX_ESCALATED], "unacknowledged", unack,
                       "per_inject", per);
    if (o && !detail)
        json_object_del (o, "per_inject");
    json_decref (per);
    json_decref (unack);
    return o;
}

json_t *
ex_score (const ex_model_t *m, int detail)
{
    json_t *parts = json_array ();
    int64_t *delays = malloc ((m->ninjects ? m->ninjects : 1) * sizeof *delays);
    int bad = !parts || !delays;
    for (size_t p = 0; p < m->nparties && !bad; p++)
        bad |= json_array_append_new (parts, party_score (m, p, delays, detail));
    free (delays);
    if (bad) {
        json_decref (parts);
        errno = ENOMEM;
        return NULL;
    }
    json_t *score = json_pack (
        "{s:s,s:{s:s,s:s},s:I,s:I,s:I,s:b,s:I,s:o}", "name", m->name, "host", "node",
        m->host_node, "name", m->host_name, "start", (json_int_t)m->start, "end",
        (json_int_t)m->end, "now", (json_int_t)m->now, "pending", m->now < m->end,
        "injects", (json_int_t)m->ninjects, "participants", parts);
    if (!score)
        errno = ENOMEM;
    return score;
}

json_t *
im_exercise_score (const json_t *state, int64_t now, char *err, size_t errsz)
{
    ex_model_t m;
    if (!state) {
        im_fail (EINVAL, err, errsz, "no exercise state given");
        return NULL;
    }
    if (ex_model_load (&m, state, now, err, errsz))
        return NULL;
    json_t *score = ex_score (&m, 1);
    ex_model_free (&m);
    if (!score)
        im_fail (ENOMEM, err, errsz, "out of memory");
    return score;
}

/* ---- The table ---------------------------------------------------------- */

#define NAME_COLUMN_MAX 32

/* NAME for a terminal into OUT: unsafe characters as '?', at most MAX
 * characters (the last '~' when cut). Returns its width. */
static size_t
terminal_text (const char *name, size_t max, char *out, size_t outsz)
{
    const unsigned char *s = (const unsigned char *)name;
    size_t len = strlen (name), o = 0, width = 0, k;
    uint32_t cp;
    for (size_t i = 0; i < len && o + 5 < outsz; i += k, width++) {
        k = im_utf8_decode (s + i, len - i, &cp);
        if (width + 1 == max && i + (k ? k : 1) < len) {
            out[o++] = '~';
            width++;
            break;
        }
        if (k == 0 || im_utf8_unsafe (cp)) {
            out[o++] = '?';
            k = k ? k : 1;
        }
        else {
            memcpy (out + o, s + i, k);
            o += k;
        }
    }
    out[o] = 0;
    return width;
}

static size_t
terminal_name (const char *name, char *out, size_t outsz)
{
    return terminal_text (name, NAME_COLUMN_MAX, out, outsz);
}

static int
is_time (const json_t *v)
{
    return json_is_null (v) || json_is_number (v);
}

/* Whether P is a participant's score, as the table needs it. */
static int
party_ok (const json_t *p)
{
    json_t *receive = json_object_get (p, "receive");
    json_t *actions = json_object_get (p, "actions");
    int ok = json_is_string (json_object_get (p, "name"))
             && json_is_integer (json_object_get (p, "injects"))
             && json_is_integer (json_object_get (p, "acknowledged"))
             && is_time (json_object_get (receive, "median_s"))
             && is_time (json_object_get (receive, "max_s"))
             && is_time (json_object_get (p, "first_action_s"))
             && json_is_array (json_object_get (p, "unacknowledged"));
    for (int k = 0; k < EX_ACTIONS && ok; k++)
        ok = json_is_integer (json_object_get (actions, ex_action_names[k]));
    json_t *id;
    size_t i;
    json_array_foreach (json_object_get (p, "unacknowledged"), i, id) ok
        &= json_is_string (id);
    return ok;
}

static const char *
time_cell (const json_t *v, char *out, size_t outsz)
{
    if (json_is_null (v))
        snprintf (out, outsz, "-");
    else
        ex_duration (json_number_value (v), out, outsz);
    return out;
}

static void
print_row (FILE *out, const json_t *p, int width)
{
    char name[4 * NAME_COLUMN_MAX + 8], acked[48], median[32], max[32], first[32];
    json_t *receive = json_object_get (p, "receive");
    json_t *actions = json_object_get (p, "actions");
    size_t w = terminal_name (json_string_value (json_object_get (p, "name")), name,
                              sizeof name);
    snprintf (acked, sizeof acked, "%lld/%lld",
              (long long)json_integer_value (json_object_get (p, "acknowledged")),
              (long long)json_integer_value (json_object_get (p, "injects")));
    fprintf (out, "%s%*s  %-12s  %-10s  %-10s  %-12s", name, width - (int)w, "", acked,
             time_cell (json_object_get (receive, "median_s"), median, sizeof median),
             time_cell (json_object_get (receive, "max_s"), max, sizeof max),
             time_cell (json_object_get (p, "first_action_s"), first, sizeof first));
    for (int k = 0; k < EX_ACTIONS; k++)
        fprintf (out, "  %9lld",
                 (long long)json_integer_value (
                     json_object_get (actions, ex_action_names[k])));
    fprintf (out, "  %14zu\n", json_array_size (json_object_get (p, "unacknowledged")));
}

static void
print_unacknowledged (FILE *out, const json_t *parts)
{
    const json_t *p;
    size_t i;
    fprintf (out, "\nUnacknowledged injects\n");
    json_array_foreach (parts, i, p)
    {
        char name[4 * NAME_COLUMN_MAX + 8];
        const json_t *ids = json_object_get (p, "unacknowledged");
        terminal_name (json_string_value (json_object_get (p, "name")), name,
                       sizeof name);
        if (json_array_size (ids) == 0) {
            fprintf (out, "  %s: none\n", name);
            continue;
        }
        fprintf (out, "  %s: %zu of %lld\n", name, json_array_size (ids),
                 (long long)json_integer_value (json_object_get (p, "injects")));
        const json_t *id;
        size_t j;
        json_array_foreach (ids, j, id)
        {
            char safe[4 * 64 + 8];
            terminal_text (json_string_value (id), 64, safe, sizeof safe);
            fprintf (out, "    %s\n", safe);
        }
    }
}

int
im_exercise_score_print (FILE *out, const json_t *score)
{
    const json_t *parts = json_object_get (score, "participants"), *p;
    size_t i;
    int width = (int)strlen ("PARTICIPANT");
    if (!out || !json_is_string (json_object_get (score, "name"))
        || !json_is_array (parts)) {
        errno = EINVAL;
        return -1;
    }
    json_array_foreach (parts, i, p)
    {
        char name[4 * NAME_COLUMN_MAX + 8];
        if (!party_ok (p)) {
            errno = EINVAL;
            return -1;
        }
        size_t w = terminal_name (json_string_value (json_object_get (p, "name")), name,
                                  sizeof name);
        width = (int)w > width ? (int)w : width;
    }
    char name[4 * NAME_COLUMN_MAX + 8];
    terminal_name (json_string_value (json_object_get (score, "name")), name,
                   sizeof name);
    fprintf (out, "Exercise %s: %lld injects, %zu participants%s\n", name,
             (long long)json_integer_value (json_object_get (score, "injects")),
             json_array_size (parts),
             json_is_true (json_object_get (score, "pending")) ? " (still running)" : "");
    fprintf (out, "%-*s  %-12s  %-10s  %-10s  %-12s  %9s  %9s  %9s  %9s  %14s\n", width,
             "PARTICIPANT", "ACKNOWLEDGED", "MEDIAN", "MAX", "FIRST ACTION", "DETECTED",
             "BLOCKED", "MITIGATED", "ESCALATED", "UNACKNOWLEDGED");
    json_array_foreach (parts, i, p) print_row (out, p, width);
    print_unacknowledged (out, parts);
    if (fflush (out) != 0 || ferror (out)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* ---- The report directory ------------------------------------------------ */

/* Writes S as one CSV cell (RFC 4180: quoted when it holds a comma, a quote,
 * CR or LF, quotes doubled; a leading = + - @ TAB or CR neutralised with an
 * apostrophe), then SEP. */
static void
csv_cell (FILE *out, const char *s, const char *sep)
{
    int quote = strpbrk (s, ",\"\r\n") != NULL;
    if (quote)
        fputc ('"', out);
    if (*s && strchr ("=+-@\t\r", *s))
        fputc ('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc ('"', out);
        fputc (*s, out);
    }
    if (quote)
        fputc ('"', out);
    fputs (sep, out);
}

static int
csv_write (FILE *out, const ex_model_t *m, const json_t *score, size_t unused)
{
    (void)score;
    (void)unused;
    fputs ("time,participant,inject,kind,action,note,inject_label\r\n", out);
    for (size_t i = 0; i < m->nevents && !ferror (out); i++) {
        const ex_event_t *e = &m->events[i];
        char t[IM_TIME_STR_SIZE];
        csv_cell (out, im_time_format (e->at, t), ",");
        csv_cell (out, m->parties[e->party].name, ",");
        csv_cell (out, m->injects[e->inject].id, ",");
        csv_cell (out, e->kind == EX_ACK ? "ack" : "action", ",");
        csv_cell (out, e->kind == EX_ACK ? "" : ex_action_names[e->action], ",");
        csv_cell (out, e->note ? e->note : "", ",");
        csv_cell (out, m->injects[e->inject].label, "\r\n");
    }
    return ferror (out) ? -1 : 0;
}

static int
summary_write (FILE *out, const ex_model_t *m, const json_t *score, size_t unused)
{
    (void)unused;
    return ex_summary_write (out, m, score);
}

static int
svg_write (FILE *out, const ex_model_t *m, const json_t *score, size_t p)
{
    (void)score;
    return ex_svg_write (out, m, p);
}

typedef int (*writer_t) (FILE *, const ex_model_t *, const json_t *, size_t);

/* DIR/NAME as WRITE makes it: written to a temporary name in DIR (mode
 * 0640), synced, renamed over. */
static int
write_file (const char *dir, const char *name, writer_t write, const ex_model_t *m,
            const json_t *score, size_t p, char *err, size_t errsz)
{
    char path[4096], tmp[4200];
    if ((size_t)snprintf (path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return im_fail (ENAMETOOLONG, err, errsz, "%s: path too long", dir);
    snprintf (tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid ());
    unlink (tmp); /* one left by a run that died, with our pid */
    int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0)
        return im_fail (errno, err, errsz, "could not write %s: %s", tmp,
                        strerror (errno));
    FILE *f = fchmod (fd, 0640) == 0 ? fdopen (fd, "w") : NULL;
    if (!f) {
        int saved = errno;
        close (fd);
        unlink (tmp);
        return im_fail (saved, err, errsz, "could not write %s: %s", tmp,
                        strerror (saved));
    }
    errno = 0;
    int rc = write (f, m, score, p);
    if (rc == 0 && (fflush (f) != 0 || fsync (fileno (f)) != 0))
        rc = -1;
    int saved = errno ? errno : EIO;
    if (fclose (f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename (tmp, path) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink (tmp);
        return im_fail (saved, err, errsz, "could not write %s: %s", path,
                        strerror (saved));
    }
    return 0;
}

/* DIR, made when missing (0750), or refused when it is not a directory we can
 * write into. */
static int
report_dir (const char *dir, char *err, size_t errsz)
{
    struct stat st;
    if (stat (dir, &st) != 0) {
        if (errno != ENOENT)
            return im_fail (errno, err, errsz, "report directory %s: %s", dir,
                            strerror (errno));
        if (mkdir (dir, 0750) != 0) {
            int saved = errno;
            return im_fail (saved, err, errsz,
                            "could not make the report directory %s: %s", dir,
                            saved == ENOENT ? "the directory above it does not exist"
                                            : strerror (saved));
        }
        if (chmod (dir, 0750) != 0)
            return im_fail (errno, err, errsz, "report directory %s: %s", dir,
                            strerror (errno));
        return 0;
    }
    if (!S_ISDIR (st.st_mode))
        return im_fail (ENOTDIR, err, errsz,
                        "report directory %s exists and is not a directory; give a "
                        "directory, or a path that does not exist yet",
                        dir);
    if (access (dir, W_OK | X_OK) != 0)
        return im_fail (EACCES, err, errsz,
                        "report directory %s cannot be written (owner uid %u, mode %04o)",
                        dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    return 0;
}

int
im_exercise_report_write (const json_t *state, const char *dir, int64_t now, char *err,
                          size_t errsz)
{
    if (!state)
        return im_fail (EINVAL, err, errsz, "no exercise state given");
    if (!dir || !*dir)
        return im_fail (EINVAL, err, errsz, "no report directory given");
    ex_model_t m;
    if (ex_model_load (&m, state, now, err, errsz))
        return -1;
    json_t *score = ex_score (&m, 0);
    int rc = score ? 0 : im_fail (ENOMEM, err, errsz, "out of memory");
    if (rc == 0)
        rc = report_dir (dir, err, errsz);
    if (rc == 0)
        rc = write_file (dir, "summary.md", summary_write, &m, score, 0, err, errsz);
    if (rc == 0)
        rc = write_file (dir, "events.csv", csv_write, &m, score, 0, err, errsz);
    for (size_t p = 0; p < m.nparties && rc == 0; p++)
        rc = write_file (dir, m.parties[p].file, svg_write, &m, score, p, err, errsz);
    int dfd = rc == 0 ? open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        fsync (dfd); /* the renames themselves, durable */
        close (dfd);
    }
    int saved = errno;
    json_decref (score);
    ex_model_free (&m);
    errno = saved;
    return rc;
}
