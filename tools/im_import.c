/* SPDX-License-Identifier: MPL-2.0 */
/* im_import.c -- the importer's driver: reads STIX 2.1 bundles, MISP events and
 * CSV files (im_import_stix.c, im_import_misp.c, im_import_csv.c) into publish
 * items (see im_import.h and the mapping in the import/export notes), all or
 * nothing per file, counting what is skipped, refused or changed by reason. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "im_import.h"
#include "im_import_int.h"
#include "im_ioc.h"
#include "im_record.h"
#include "im_time.h"
#include "im_util.h"

/* --- Formats ------------------------------------------------------------ */

int
im_format_parse (const char *name)
{
    if (name) {
        for (int f = IM_FORMAT_STIX; f <= IM_FORMAT_CSV; f++)
            if (strcasecmp (name, im_format_name (f)) == 0)
                return f;
    }
    errno = EINVAL;
    return -1;
}

const char *
im_format_name (int format)
{
    switch (format) {
    case IM_FORMAT_STIX: return "stix";
    case IM_FORMAT_MISP: return "misp";
    case IM_FORMAT_CSV: return "csv";
    default: return NULL;
    }
}

/* --- Guessing ----------------------------------------------------------- */

static int
guess_json (const json_t *root)
{
    const char *s;
    size_t len;
    if (json_is_object (root)) {
        if (im_imp_get_str (root, "type", &s, &len) == 1
            && (im_imp_eq_nocase (s, len, "bundle")
                || json_object_get (root, "spec_version")))
            return IM_FORMAT_STIX;
        if (json_object_get (root, "Event") || json_object_get (root, "response"))
            return IM_FORMAT_MISP;
        return IM_FORMAT_NONE;
    }
    if (json_is_array (root) && json_array_size (root) > 0) {
        const json_t *first = json_array_get (root, 0);
        if (!json_is_object (first))
            return IM_FORMAT_NONE;
        if (json_object_get (first, "Event"))
            return IM_FORMAT_MISP;
        if (json_object_get (first, "type") && json_object_get (first, "spec_version"))
            return IM_FORMAT_STIX;
    }
    return IM_FORMAT_NONE;
}

/* Skips a UTF-8 byte order mark and returns the offset of the first byte
 * that is not whitespace. */
static size_t
content_start (const char *data, size_t len, size_t *bom)
{
    size_t i = 0;
    if (len >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    *bom = i;
    while (i < len && im_imp_is_space (data[i]))
        i++;
    return i;
}

int
im_import_guess (const char *data, size_t len)
{
    size_t bom;
    if (!data)
        return IM_FORMAT_NONE;
    size_t i = content_start (data, len, &bom);
    if (i < len && (data[i] == '{' || data[i] == '[')) {
        json_error_t jerr;
        json_t *root = json_loadb (data + bom, len - bom, JSON_ALLOW_NUL, &jerr);
        int f = root ? guess_json (root) : IM_FORMAT_NONE;
        json_decref (root);
        return f;
    }
    return im_imp_csv_guess (data + bom, len - bom) ? IM_FORMAT_CSV : IM_FORMAT_NONE;
}

/* --- The importer ------------------------------------------------------- */

im_import_t *
im_import_new (void)
{
    if (sodium_init () < 0) {
        errno = ENOMEM;
        return NULL;
    }
    im_import_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->items = json_array ();
    self->skipped = json_object ();
    self->refused = json_object ();
    self->notes = json_object ();
    self->messages = json_array ();
    self->reports = json_array ();
    self->context = json_object ();
    if (!self->items || !self->skipped || !self->refused || !self->notes
        || !self->messages || !self->reports || !self->context) {
        im_import_destroy (&self);
        errno = ENOMEM;
        return NULL;
    }
    return self;
}

void
im_import_destroy (im_import_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    im_import_t *self = *self_p;
    json_decref (self->items);
    json_decref (self->skipped);
    json_decref (self->refused);
    json_decref (self->notes);
    json_decref (self->messages);
    json_decref (self->reports);
    json_decref (self->context);
    free (self);
    *self_p = NULL;
    errno = saved;
}

void
im_import_set_tlp (im_import_t *self, int tlp)
{
    if (self && tlp >= IM_TLP_NONE && tlp < IM_TLP_COUNT)
        self->tlp_floor = tlp;
}

json_t *
im_import_items (im_import_t *self)
{
    return self ? self->items : NULL;
}

size_t
im_import_count (im_import_t *self)
{
    return self ? json_array_size (self->items) : 0;
}

json_t *
im_import_skipped (im_import_t *self)
{
    return self ? self->skipped : NULL;
}

json_t *
im_import_refused (im_import_t *self)
{
    return self ? self->refused : NULL;
}

json_t *
im_import_notes (im_import_t *self)
{
    return self ? self->notes : NULL;
}

json_t *
im_import_messages (im_import_t *self)
{
    return self ? self->messages : NULL;
}

json_t *
im_import_reports (im_import_t *self)
{
    return self ? self->reports : NULL;
}

json_t *
im_import_context (im_import_t *self)
{
    return self ? self->context : NULL;
}

static int
ctx_open (ctx_t *c, im_import_t *self, const char *name, char *err, size_t errsz)
{
    memset (c, 0, sizeof *c);
    c->self = self;
    c->err = err;
    c->errsz = errsz;
    im_imp_clean_copy (c->name, NAME_MAX_BYTES + 1, name, strlen (name));
    c->items = json_array ();
    c->skipped = json_object ();
    c->refused = json_object ();
    c->notes = json_object ();
    c->messages = json_array ();
    c->reports = json_array ();
    c->context = json_object ();
    if (!c->items || !c->skipped || !c->refused || !c->notes || !c->messages
        || !c->reports || !c->context)
        return im_imp_oom (c);
    return 0;
}

static void
ctx_close (ctx_t *c)
{
    json_decref (c->items);
    json_decref (c->skipped);
    json_decref (c->refused);
    json_decref (c->notes);
    json_decref (c->messages);
    json_decref (c->reports);
    json_decref (c->context);
}

static int
counts_merge (json_t *into, const json_t *from)
{
    const char *key;
    const json_t *v;
    json_object_foreach (
        (json_t *)from, key,
        v) if (im_imp_count_add (into, key, json_integer_value (v))) return -1;
    return 0;
}

/* Moves a successful call's work into the importer. */
static int
ctx_commit (ctx_t *c)
{
    im_import_t *self = c->self;
    size_t n = json_array_size (self->items), m = json_array_size (self->messages);
    if (json_array_extend (self->items, c->items)
        || json_array_extend (self->messages, c->messages)) {
        while (json_array_size (self->items) > n)
            json_array_remove (self->items, json_array_size (self->items) - 1);
        while (json_array_size (self->messages) > m)
            json_array_remove (self->messages, json_array_size (self->messages) - 1);
        return im_imp_oom (c);
    }
    /* Counts cannot be undone piecewise: merge into copies, then swap. */
    json_t *s = json_deep_copy (self->skipped), *r = json_deep_copy (self->refused),
           *t = json_deep_copy (self->notes), *x = json_deep_copy (self->context),
           *rep = json_copy (self->reports);
    if (!s || !r || !t || !x || !rep || counts_merge (s, c->skipped)
        || counts_merge (r, c->refused) || counts_merge (t, c->notes)
        || counts_merge (x, c->context) || json_array_extend (rep, c->reports)) {
        json_decref (s);
        json_decref (r);
        json_decref (t);
        json_decref (x);
        json_decref (rep);
        while (json_array_size (self->items) > n)
            json_array_remove (self->items, json_array_size (self->items) - 1);
        while (json_array_size (self->messages) > m)
            json_array_remove (self->messages, json_array_size (self->messages) - 1);
        return im_imp_oom (c);
    }
    json_decref (self->skipped);
    json_decref (self->refused);
    json_decref (self->notes);
    self->skipped = s;
    self->refused = r;
    self->notes = t;
    json_decref (self->context);
    json_decref (self->reports);
    self->context = x;
    self->reports = rep;
    return 0;
}

/* Parses DATA as FORMAT (or a guess) into the context. */
static int
import_into (ctx_t *c, const char *data, size_t len, int format)
{
    size_t bom;
    size_t start = content_start (data, len, &bom);
    if (format == IM_FORMAT_CSV)
        return im_imp_csv_parse (c, data + bom, len - bom);
    int json_like = start < len && (data[start] == '{' || data[start] == '[');
    if (format == IM_FORMAT_NONE && !json_like) {
        if (im_imp_csv_guess (data + bom, len - bom))
            return im_imp_csv_parse (c, data + bom, len - bom);
        return im_fail (EINVAL, c->err, c->errsz,
                        "%s: cannot tell the format (not STIX or MISP JSON, no CSV "
                        "header with type and value columns); give --format",
                        c->name);
    }
    json_error_t jerr;
    json_t *root = json_loadb (data + bom, len - bom, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        char text[sizeof jerr.text];
        return im_fail (
            EINVAL, c->err, c->errsz, "%s: line %d, column %d: %s", c->name, jerr.line,
            jerr.column,
            im_imp_clean_copy (text, sizeof text, jerr.text, strlen (jerr.text)));
    }
    if (format == IM_FORMAT_NONE)
        format = guess_json (root);
    int rc;
    if (format == IM_FORMAT_STIX)
        rc = im_imp_stix_parse (c, root);
    else if (format == IM_FORMAT_MISP)
        rc = im_imp_misp_parse (c, root);
    else
        rc = im_fail (EINVAL, c->err, c->errsz,
                      "%s: cannot tell the format (JSON, but neither a STIX bundle nor a "
                      "MISP event); give --format",
                      c->name);
    json_decref (root);
    return rc;
}

static int
check_args (im_import_t *self, const char *name, int format, char *err, size_t errsz)
{
    if (!self || !name)
        return im_fail (EINVAL, err, errsz, "import: no importer or no file name");
    if (format != IM_FORMAT_NONE && !im_format_name (format))
        return im_fail (EINVAL, err, errsz, "import: unknown format %d", format);
    return 0;
}

int
im_import_data (im_import_t *self, const char *name, const char *data, size_t len,
                int format, char *err, size_t errsz)
{
    if (check_args (self, name, format, err, errsz))
        return -1;
    if (!data && len)
        return im_fail (EINVAL, err, errsz, "import: no data");
    if (len > IM_IMPORT_FILE_MAX)
        return im_fail (EFBIG, err, errsz, "%s: larger than 256 MiB", name);
    ctx_t c;
    int rc = ctx_open (&c, self, name, err, errsz);
    if (rc == 0)
        rc = import_into (&c, data ? data : "", len, format);
    if (rc == 0)
        rc = ctx_commit (&c);
    int saved = errno;
    ctx_close (&c);
    errno = saved;
    if (rc == 0 && err && errsz)
        err[0] = '\0';
    return rc;
}

/* Reads the whole regular file PATH into a new buffer (NUL terminated). */
static int
read_whole (const char *path, const char *shown, char **data, size_t *len, char *err,
            size_t errsz)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0)
        return im_fail (errno, err, errsz, "%s: %s", shown, strerror (errno));
    if (fstat (fd, &st) < 0) {
        int e = errno;
        close (fd);
        return im_fail (e, err, errsz, "%s: %s", shown, strerror (e));
    }
    if (S_ISDIR (st.st_mode)) {
        close (fd);
        return im_fail (EISDIR, err, errsz, "%s: is a directory", shown);
    }
    if (!S_ISREG (st.st_mode)) {
        close (fd);
        return im_fail (EINVAL, err, errsz, "%s: not a regular file", shown);
    }
    if ((unsigned long long)st.st_size > IM_IMPORT_FILE_MAX) {
        close (fd);
        return im_fail (EFBIG, err, errsz, "%s: larger than 256 MiB", shown);
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc (cap + 1);
    if (!buf) {
        close (fd);
        return im_fail (ENOMEM, err, errsz, "%s: out of memory", shown);
    }
    for (;;) {
        ssize_t r = read (fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free (buf);
            close (fd);
            return im_fail (e, err, errsz, "%s: %s", shown, strerror (e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            /* The file grew while being read. */
            if (cap > IM_IMPORT_FILE_MAX) {
                free (buf);
                close (fd);
                return im_fail (EFBIG, err, errsz, "%s: larger than 256 MiB", shown);
            }
            size_t ncap
                = cap * 2 > IM_IMPORT_FILE_MAX + 1 ? IM_IMPORT_FILE_MAX + 1 : cap * 2;
            char *nb = realloc (buf, ncap + 1);
            if (!nb) {
                free (buf);
                close (fd);
                return im_fail (ENOMEM, err, errsz, "%s: out of memory", shown);
            }
            buf = nb;
            cap = ncap;
        }
    }
    close (fd);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return 0;
}

/* A MISP feed directory: manifest.json names the event files. */
static int
import_feed (ctx_t *c, const char *dir)
{
    char path[PATH_MAX], shown[NAME_MAX_BYTES + 64];
    char *data = NULL;
    size_t len;
    int n = snprintf (path, sizeof path, "%s/manifest.json", dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return im_fail (ENAMETOOLONG, c->err, c->errsz, "%s: path too long", c->name);
    snprintf (shown, sizeof shown, "%s/manifest.json", c->name);
    if (read_whole (path, shown, &data, &len, c->err, c->errsz))
        return -1;
    json_error_t jerr;
    json_t *manifest = json_loadb (data, len, JSON_ALLOW_NUL, &jerr);
    free (data);
    if (!manifest) {
        char text[sizeof jerr.text];
        return im_fail (
            EINVAL, c->err, c->errsz, "%s: line %d, column %d: %s", shown, jerr.line,
            jerr.column,
            im_imp_clean_copy (text, sizeof text, jerr.text, strlen (jerr.text)));
    }
    if (!json_is_object (manifest)) {
        json_decref (manifest);
        return im_fail (EINVAL, c->err, c->errsz, "%s: not an object keyed by event uuid",
                        shown);
    }
    char dirname[NAME_MAX_BYTES + 8];
    memcpy (dirname, c->name, sizeof dirname);
    int rc = 0;
    const char *key;
    json_t *v;
    json_object_foreach (manifest, key, v)
    {
        char uuid[IM_ID_STR_SIZE], q[QUOTE_MAX + 1];
        if (im_imp_parse_uuid (key, strlen (key), uuid)) {
            rc = im_fail (EINVAL, c->err, c->errsz, "%s: '%s' is not an event uuid",
                          shown, im_imp_quote (q, key, strlen (key)));
            break;
        }
        snprintf (path, sizeof path, "%s/%s.json", dir, key);
        char shown_event[NAME_MAX_BYTES + 64];
        snprintf (shown_event, sizeof shown_event, "%s/%s.json", dirname, uuid);
        im_imp_clean_copy (c->name, NAME_MAX_BYTES + 1, shown_event,
                           strlen (shown_event));
        if (access (path, F_OK) != 0 && errno == ENOENT) {
            rc = im_fail (ENOENT, c->err, c->errsz,
                          "%s: listed in manifest.json but missing", c->name);
            break;
        }
        if (read_whole (path, c->name, &data, &len, c->err, c->errsz)) {
            rc = -1;
            break;
        }
        size_t bom;
        content_start (data, len, &bom);
        json_t *root = json_loadb (data + bom, len - bom, JSON_ALLOW_NUL, &jerr);
        free (data);
        if (!root) {
            char text[sizeof jerr.text];
            rc = im_fail (
                EINVAL, c->err, c->errsz, "%s: line %d, column %d: %s", c->name,
                jerr.line, jerr.column,
                im_imp_clean_copy (text, sizeof text, jerr.text, strlen (jerr.text)));
            break;
        }
        rc = im_imp_misp_parse (c, root);
        json_decref (root);
        if (rc)
            break;
    }
    json_decref (manifest);
    memcpy (c->name, dirname, sizeof dirname);
    return rc;
}

int
im_import_file (im_import_t *self, const char *path, int format, char *err, size_t errsz)
{
    if (check_args (self, path, format, err, errsz))
        return -1;
    ctx_t c;
    struct stat st;
    char *data = NULL;
    size_t len = 0;
    int rc = ctx_open (&c, self, path, err, errsz);
    if (rc == 0 && stat (path, &st) < 0)
        rc = im_fail (errno, err, errsz, "%s: %s", c.name, strerror (errno));
    if (rc == 0 && S_ISDIR (st.st_mode)) {
        if (format != IM_FORMAT_NONE && format != IM_FORMAT_MISP)
            rc = im_fail (EINVAL, err, errsz,
                          "%s: is a directory (only a MISP feed directory can be "
                          "imported)",
                          c.name);
        else
            rc = import_feed (&c, path);
    }
    else if (rc == 0) {
        rc = read_whole (path, c.name, &data, &len, err, errsz);
        if (rc == 0)
            rc = import_into (&c, data, len, format);
        free (data);
    }
    if (rc == 0)
        rc = ctx_commit (&c);
    int saved = errno;
    ctx_close (&c);
    errno = saved;
    if (rc == 0 && err && errsz)
        err[0] = '\0';
    return rc;
}
