/* SPDX-License-Identifier: MPL-2.0 */
/* im_export.c -- STIX 2.1 bundle, MISP event and CSV (RFC 4180) writers for
 * `intelmesh export`: a prologue, one record at a time, then the epilogue.
 * CSV cells starting with = + - @ are NOT altered: this is data, not a
 * spreadsheet; whoever opens it in one must take care of formula injection. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "im_export.h"
#include "im_ioc.h"
#include "im_record.h"
#include "im_stix.h"
#include "im_time.h"
#include "im_types.h"
#include "im_util.h"

typedef enum { FORMAT_STIX = 1, FORMAT_MISP, FORMAT_CSV } format_t;

#define NOTE_MAX 256
/* The CSV tags cell: every tag and a separator each. */
#define TAGS_CELL_MAX (IM_TAGS_MAX * (IM_TAG_MAX + 1) + 1)

struct _im_export_t {
    format_t format;
    FILE *out;
    int64_t now;
    char *origin_label;
    char doc_id[IM_ID_STR_SIZE]; /* bundle or event uuid */
    char *org_name;              /* the MISP event's Orgc */
    char org_uuid[IM_ID_STR_SIZE];
    char event_uuid[IM_ID_STR_SIZE]; /* a MISP export's event: the same every time */
    int started;                     /* prologue written */
    int list;                        /* MISP: a list of events (reports held) */
    int closed;                      /* MISP: the indicators' event closed */
    int finished;
    int failed; /* a write failed: everything is EIO now */
    size_t count;
    size_t extra; /* objects written that are not records (a report's, STIX) */
    size_t notes;
    char note[NOTE_MAX];
    unsigned markings;        /* bit per im_tlp_t referenced (STIX) */
    const json_t *sightings;  /* "ORIGINHEX/ID": [sighting...] (borrowed) */
    json_t *sighters;         /* STIX: the identities written */
    json_t *misp_uuids;       /* MISP: the member uuids written */
    im_record_t rec;          /* the record being written */
    char tags[TAGS_CELL_MAX]; /* its CSV tags cell */
};

/* --- Small helpers ------------------------------------------------------ */

/* A random (version 4) UUID as text. */
static void
uuid4 (char out[IM_ID_STR_SIZE])
{
    uint8_t id[IM_ID_SIZE];
    randombytes_buf (id, sizeof id);
    id[6] = (uint8_t)((id[6] & 0x0F) | 0x40);
    id[8] = (uint8_t)((id[8] & 0x3F) | 0x80);
    im_id_format (id, out);
}

/* True when S (LEN bytes) is UTF-8 without control characters. */
static int
line_text (const char *s, size_t len)
{
    if (!im_utf8_valid (s, len))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7F)
            return 0;
    return 1;
}

/* Marks the exporter failed after a write error. */
static int
io_fail (im_export_t *self, char *err, size_t errsz)
{
    self->failed = 1;
    return im_fail (EIO, err, errsz, "export: write error: %s", strerror (EIO));
}

static int
write_text (im_export_t *self, const char *s)
{
    size_t n = strlen (s);
    return fwrite (s, 1, n, self->out) == n && !ferror (self->out) ? 0 : -1;
}

/* Writes OBJ as compact JSON. */
static int
write_json (im_export_t *self, const json_t *obj)
{
    return json_dumpf (obj, self->out, JSON_COMPACT) == 0 && !ferror (self->out) ? 0 : -1;
}

/* --- Reading a record --------------------------------------------------- */

/* Reads the absolute time NAME of REC into *T (0 when absent or null, unless
 * REQUIRED). Durations are refused: a stored record has absolute times. */
static int
read_time (const json_t *rec, const char *name, int required, int64_t *t, char *err,
           size_t errsz)
{
    const json_t *v = json_object_get (rec, name);
    *t = 0;
    if (!v || json_is_null (v)) {
        if (required)
            return im_fail (EINVAL, err, errsz, "%s: missing", name);
        return 0;
    }
    const char *s = json_is_string (v) ? json_string_value (v) : NULL;
    if (!s || strlen (s) < 10 || s[4] != '-' || im_time_parse (s, 0, t) != 0 || *t <= 0
        || *t > IM_TIME_MAX)
        return im_fail (EINVAL, err, errsz,
                        "%s: not a time (RFC 3339 like 2026-12-31T00:00:00Z)", name);
    return 0;
}

/* Fills self->rec from RECORD, checking every field the export uses. */
static int
read_record (im_export_t *self, const json_t *record, char *err, size_t errsz)
{
    im_record_t *r = &self->rec;
    im_record_init (r);
    if (!json_is_object (record))
        return im_fail (EINVAL, err, errsz, "record: not a JSON object");

    const json_t *v = json_object_get (record, "id");
    if (!json_is_string (v) || json_string_length (v) != IM_ID_STR_SIZE - 1
        || im_id_parse (json_string_value (v), r->id) != 0)
        return im_fail (EINVAL, err, errsz, "id: missing or not a UUID");
    v = json_object_get (record, "origin");
    if (!json_is_string (v) || json_string_length (v) != IM_NODE_HEX_SIZE - 1
        || im_node_parse (json_string_value (v), r->origin) != 0)
        return im_fail (EINVAL, err, errsz,
                        "origin: missing or not a node id (64 hex digits)");
    v = json_object_get (record, "op");
    if (json_is_string (v) && strcmp (json_string_value (v), "put") == 0)
        r->op = IM_OP_PUT;
    else if (json_is_string (v) && strcmp (json_string_value (v), "revoke") == 0)
        r->op = IM_OP_REVOKE;
    else
        return im_fail (EINVAL, err, errsz, "op: missing or not \"put\" or \"revoke\"");

    /* The content fields, checked as the control socket checks them. Those
     * with a default must be given: an export does not invent values. */
    static const char *const content[]
        = { "type", "value",       "tlp",    "confidence", "reach",
            "tags", "description", "detect", NULL };
    static const char *const required[] = { "tlp", "confidence", "reach", NULL };
    for (int i = 0; required[i]; i++) {
        v = json_object_get (record, required[i]);
        if (!v || json_is_null (v))
            return im_fail (EINVAL, err, errsz, "%s: missing", required[i]);
    }
    json_t *sub = json_object ();
    if (!sub)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    int bad = 0;
    for (int i = 0; content[i]; i++)
        if ((v = json_object_get (record, content[i])))
            bad |= json_object_set (sub, content[i], (json_t *)v) != 0;
    if (bad) {
        json_decref (sub);
        return im_fail (ENOMEM, err, errsz, "out of memory");
    }
    int rc = im_record_from_json (r, sub, self->now, err, errsz);
    json_decref (sub);
    if (rc != 0) {
        errno = EINVAL;
        return -1;
    }

    if (read_time (record, "created", 1, &r->created, err, errsz)
        || read_time (record, "modified", 1, &r->modified, err, errsz)
        || read_time (record, "valid_from", 0, &r->valid_from, err, errsz)
        || read_time (record, "valid_until", 0, &r->valid_until, err, errsz))
        return -1;
    if (r->valid_from && r->valid_until && r->valid_until < r->valid_from)
        return im_fail (EINVAL, err, errsz, "valid_until: before valid_from");
    return 0;
}

/* --- STIX 2.1 ------------------------------------------------------------ */

/* Counts a note when R, just written, is not written as it is stored or not
 * as the format wants it: STIX as im_stix_note() says; MISP when valid-from
 * had to move before valid-until. */
static void
export_note (im_export_t *self, const im_record_t *r)
{
    const char *text = NULL;
    char id[IM_STIX_ID_SIZE];
    im_stix_id (r, id);
    if (self->format == FORMAT_STIX)
        text = im_stix_note (r);
    else if (self->format == FORMAT_MISP && r->valid_from
             && im_stix_valid_from (r) != r->valid_from)
        text = "valid_until is not later than valid_from: valid-from written as "
               "valid_until - 1 s";
    if (!text)
        return;
    snprintf (self->note, sizeof self->note, "%s: %s",
              self->format == FORMAT_STIX ? id : strstr (id, "--") + 2, text);
    self->notes++;
}

/* --- MISP ---------------------------------------------------------------- */

/* MISP's spelling of a TLP tag. */
static const char *
misp_tlp_tag (int tlp)
{
    static const char *const names[IM_TLP_COUNT] = {
        [IM_TLP_CLEAR] = "tlp:clear", [IM_TLP_GREEN] = "tlp:green",
        [IM_TLP_AMBER] = "tlp:amber", [IM_TLP_AMBER_STRICT] = "tlp:amber+strict",
        [IM_TLP_RED] = "tlp:red",
    };
    return names[tlp];
}

static int
misp_check (const im_record_t *r, char *err, size_t errsz)
{
    for (size_t i = 0; i < r->ntags; i++)
        if (strncasecmp (r->tags[i], "tlp:", 4) == 0
            || strncasecmp (r->tags[i], "intelmesh:", 10) == 0)
            return im_fail (
                EINVAL, err, errsz,
                "tags: '%s' would read back from MISP as a %s, not as a tag", r->tags[i],
                strncasecmp (r->tags[i], "tlp:", 4) == 0 ? "TLP label" : "setting");
    return 0;
}

static json_t *
misp_tag (const char *name)
{
    return json_pack ("{s:s}", "name", name);
}

static json_t *
misp_attribute (const im_record_t *r)
{
    char id[IM_ID_STR_SIZE], text[64 + IM_TIME_STR_SIZE];
    uint8_t uuid[IM_ID_SIZE];
    int bad = 0;
    json_t *o = json_object ();
    if (!o)
        return NULL;
    im_id_export (r->origin, r->id, uuid);
    im_id_format (uuid, id);
    const char *dist = im_type_misp_distribution (r->reach);
    im_stix_put (o, "uuid", json_string (id), &bad);
    const im_type_info_t *ti = im_type_info (r->type);
    im_stix_put (o, "type", json_string (ti->misp_type), &bad);
    im_stix_put (o, "category", json_string (ti->misp_category), &bad);
    /* MISP's AS attributes hold the number alone. */
    im_stix_put (o, "value",
                 json_string (r->value + (ti->num_prefix ? strlen (ti->num_prefix) : 0)),
                 &bad);
    im_stix_put (o, "to_ids", json_boolean (!r->no_detect), &bad);
    im_stix_put (o, "distribution", json_string (dist), &bad);
    im_stix_put (o, "comment", json_string (r->description), &bad);
    snprintf (text, sizeof text, "%lld", (long long)r->modified);
    im_stix_put (o, "timestamp", json_string (text), &bad);
    if (r->op == IM_OP_REVOKE)
        im_stix_put (o, "deleted", json_true (), &bad);
    json_t *tags = json_array ();
    if (tags) {
        im_stix_append (tags, misp_tag (misp_tlp_tag (r->tlp)), &bad);
        if (r->type == IM_TYPE_ATTACK_PATTERN) {
            /* MISP has no attribute type for a technique: its galaxy tag
             * says what the text attribute is (and reads back as one). */
            snprintf (text, sizeof text, "misp-galaxy:mitre-attack-pattern=\"%.9s\"",
                      r->value); /* T1234.567 */
            size_t i = 0;
            while (i < r->ntags && strcmp (r->tags[i], text) != 0)
                i++;
            if (i == r->ntags) /* not already a tag (imported from MISP) */
                im_stix_append (tags, misp_tag (text), &bad);
        }
        for (size_t i = 0; i < r->ntags; i++)
            im_stix_append (tags, misp_tag (r->tags[i]), &bad);
        snprintf (text, sizeof text, "intelmesh:confidence=\"%d\"", (int)r->confidence);
        im_stix_append (tags, misp_tag (text), &bad);
        if (r->reach >= 3 && r->reach != IM_REACH_UNLIMITED) {
            /* MISP's distribution 3 is "all": the exact reach goes along. */
            snprintf (text, sizeof text, "intelmesh:reach=\"%d\"", (int)r->reach);
            im_stix_append (tags, misp_tag (text), &bad);
        }
        if (r->valid_from) {
            /* As in STIX: never valid_until or later. */
            char t[IM_TIME_STR_SIZE];
            snprintf (text, sizeof text, "intelmesh:valid-from=\"%s\"",
                      im_time_format (im_stix_valid_from (r), t));
            im_stix_append (tags, misp_tag (text), &bad);
        }
        if (r->valid_until) {
            char t[IM_TIME_STR_SIZE];
            snprintf (text, sizeof text, "intelmesh:valid-until=\"%s\"",
                      im_time_format (r->valid_until, t));
            im_stix_append (tags, misp_tag (text), &bad);
        }
    }
    im_stix_put (o, "Tag", tags, &bad);
    if (bad) {
        json_decref (o);
        return NULL;
    }
    return o;
}

/* --- CSV ----------------------------------------------------------------- */

#define CSV_HEADER                                                                       \
    "id,origin,type,value,tlp,confidence,reach,tags,description,valid_from,valid_until," \
    "revoke\r\n"

static int
csv_check (const im_record_t *r, char *err, size_t errsz)
{
    for (size_t i = 0; i < r->ntags; i++)
        if (strchr (r->tags[i], ';'))
            return im_fail (EINVAL, err, errsz,
                            "tags: '%s' holds ';', the CSV tag separator", r->tags[i]);
    return 0;
}

/* Writes S as one cell (RFC 4180: quoted when it holds a comma, a quote, CR or
 * LF, with quotes doubled), then SEP. */
static int
csv_cell (FILE *out, const char *s, const char *sep)
{
    if (strpbrk (s, ",\"\r\n") == NULL) {
        if (fputs (s, out) == EOF)
            return -1;
    }
    else {
        if (fputc ('"', out) == EOF)
            return -1;
        for (; *s; s++)
            if ((*s == '"' && fputc ('"', out) == EOF) || fputc (*s, out) == EOF)
                return -1;
        if (fputc ('"', out) == EOF)
            return -1;
    }
    return fputs (sep, out) == EOF ? -1 : 0;
}

static int
csv_line (im_export_t *self, const im_record_t *r)
{
    char id[IM_ID_STR_SIZE], node[IM_NODE_HEX_SIZE], confidence[8], reach[16];
    char from[IM_TIME_STR_SIZE], until[IM_TIME_STR_SIZE];
    char *tags = self->tags;
    size_t o = 0;
    im_id_format (r->id, id);
    im_node_format (r->origin, node);
    snprintf (confidence, sizeof confidence, "%d", (int)r->confidence);
    if (r->reach == IM_REACH_UNLIMITED)
        snprintf (reach, sizeof reach, "unlimited");
    else
        snprintf (reach, sizeof reach, "%d", (int)r->reach);
    tags[0] = '\0';
    for (size_t i = 0; i < r->ntags; i++)
        o += (size_t)snprintf (tags + o, sizeof self->tags - o, "%s%s", i ? ";" : "",
                               r->tags[i]);
    if (r->valid_from)
        im_time_format (r->valid_from, from);
    else
        from[0] = '\0';
    if (r->valid_until)
        im_time_format (r->valid_until, until);
    else
        until[0] = '\0';
    FILE *f = self->out;
    if (csv_cell (f, id, ",") || csv_cell (f, node, ",")
        || csv_cell (f, im_type_name (r->type), ",") || csv_cell (f, r->value, ",")
        || csv_cell (f, im_tlp_name (r->tlp), ",") || csv_cell (f, confidence, ",")
        || csv_cell (f, reach, ",") || csv_cell (f, tags, ",")
        || csv_cell (f, r->description, ",") || csv_cell (f, from, ",")
        || csv_cell (f, until, ",")
        || csv_cell (f, r->op == IM_OP_REVOKE ? "true" : "false", "\r\n") || ferror (f))
        return -1;
    return 0;
}

/* --- The exporter -------------------------------------------------------- */

im_export_t *
im_export_new (const char *format, FILE *out, int64_t now, const char *origin_label)
{
    format_t f;
    if (!format || !out || now < 0 || now > IM_TIME_MAX) {
        errno = EINVAL;
        return NULL;
    }
    if (strcmp (format, "stix") == 0)
        f = FORMAT_STIX;
    else if (strcmp (format, "misp") == 0)
        f = FORMAT_MISP;
    else if (strcmp (format, "csv") == 0)
        f = FORMAT_CSV;
    else {
        errno = EINVAL;
        return NULL;
    }
    if (origin_label
        && (strlen (origin_label) == 0 || strlen (origin_label) > IM_EXPORT_LABEL_MAX
            || !line_text (origin_label, strlen (origin_label)))) {
        errno = EINVAL;
        return NULL;
    }
    if (sodium_init () < 0) {
        errno = ENOMEM;
        return NULL;
    }
    im_export_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->format = f;
    self->out = out;
    self->now = now;
    self->origin_label = strdup (origin_label ? origin_label : "all origins");
    if (!self->origin_label) {
        free (self);
        errno = ENOMEM;
        return NULL;
    }
    uuid4 (self->doc_id);
    if (im_export_set_org (self, NULL, "intelmesh") != 0) {
        im_export_destroy (&self);
        errno = ENOMEM;
    }
    return self;
}

int
im_export_set_org (im_export_t *self, const uint8_t node[IM_NODE_ID_SIZE],
                   const char *name)
{
    char text[16 + IM_NODE_HEX_SIZE];
    uint8_t uuid[IM_ID_SIZE];
    if (!self || self->started || !name || !*name || strlen (name) > IM_EXPORT_LABEL_MAX
        || !line_text (name, strlen (name))) {
        errno = EINVAL;
        return -1;
    }
    char *copy = strdup (name);
    if (!copy)
        return -1;
    free (self->org_name);
    self->org_name = copy;
    /* As the MISP-format feed names the node's organisation. The event of
     * its exports is one, so that a MISP that imports a second export
     * updates that event rather than making another that holds the same
     * attribute uuids (which MISP refuses). */
    char hex[IM_NODE_HEX_SIZE] = "intelmesh";
    if (node)
        im_node_format (node, hex);
    snprintf (text, sizeof text, "org:%s", hex);
    im_id_from_name (text, strlen (text), uuid);
    im_id_format (uuid, self->org_uuid);
    snprintf (text, sizeof text, "export:%s", hex);
    im_id_from_name (text, strlen (text), uuid);
    im_id_format (uuid, self->event_uuid);
    return 0;
}

void
im_export_destroy (im_export_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    free ((*self_p)->origin_label);
    json_decref ((*self_p)->sighters);
    json_decref ((*self_p)->misp_uuids);
    free ((*self_p)->org_name);
    free (*self_p);
    *self_p = NULL;
    errno = saved;
}

/* Writes OBJ, a JSON object, without its closing brace. */
static int
write_open_object (im_export_t *self, json_t *obj)
{
    char *text = json_dumps (obj, JSON_COMPACT);
    if (!text)
        return -1;
    size_t n = strlen (text);
    int rc = n > 0 && text[n - 1] == '}' && fwrite (text, 1, n - 1, self->out) == n - 1
                     && !ferror (self->out)
                 ? 0
                 : -1;
    free (text);
    return rc;
}

/* Writes the start of the document once. Returns 0, -1 with errno ENOMEM or
 * EIO. */
static int
start (im_export_t *self)
{
    if (self->started)
        return 0;
    int rc = 0;
    if (self->format == FORMAT_STIX) {
        char id[16 + IM_ID_STR_SIZE];
        snprintf (id, sizeof id, "bundle--%s", self->doc_id);
        json_t *head = json_pack ("{s:s, s:s}", "type", "bundle", "id", id);
        if (!head)
            return im_fail (ENOMEM, NULL, 0, "out of memory");
        rc = write_open_object (self, head);
        json_decref (head);
    }
    else if (self->format == FORMAT_MISP) {
        char info[IM_EXPORT_LABEL_MAX + 64], t[IM_TIME_STR_SIZE], date[16], stamp[24];
        struct tm tm;
        time_t tt = (time_t)self->now;
        if (gmtime_r (&tt, &tm) == NULL
            || strftime (date, sizeof date, "%Y-%m-%d", &tm) == 0)
            return im_fail (EINVAL, NULL, 0, "bad time");
        snprintf (info, sizeof info, "intelmesh export from %s at %s", self->origin_label,
                  im_time_format (self->now, t));
        snprintf (stamp, sizeof stamp, "%lld", (long long)self->now);
        json_t *event = json_pack (
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:s}, s:[]}", "uuid",
            self->event_uuid, "info", info, "date", date, "timestamp", stamp,
            "distribution", "1", "threat_level_id", "4", "analysis", "2", "published", 0,
            "Orgc", "name", self->org_name, "uuid", self->org_uuid, "Tag");
        /* Marks the event as ours: its info is not the indicators' text. */
        json_t *mark = event ? json_pack ("{s:s}", "name", "intelmesh:export") : NULL;
        if (mark)
            json_array_append_new (json_object_get (event, "Tag"), mark);
        if (!event)
            return im_fail (ENOMEM, NULL, 0, "out of memory");
        rc = write_text (self, self->list ? "{\"response\":[{\"Event\":" : "{\"Event\":")
                     || write_open_object (self, event)
                     || write_text (self, ",\"Attribute\":[")
                 ? -1
                 : 0;
        json_decref (event);
    }
    else
        rc = write_text (self, CSV_HEADER);
    if (rc != 0)
        return im_fail (EIO, NULL, 0, "write error");
    self->started = 1;
    return 0;
}

/* The STIX objects of R's sightings to write after OBJ (none for MISP, CSV);
 * NULL when one is bad. */
static json_t *
sightings_of (im_export_t *self, const im_record_t *r, json_t *obj)
{
    if (self->format != FORMAT_STIX || !self->sightings || r->op != IM_OP_PUT)
        return json_array ();
    return im_export_stix_sightings_of (self->sightings, r,
                                        json_string_value (json_object_get (obj, "id")),
                                        &self->sighters, &self->markings);
}

int
im_export_record (im_export_t *self, const json_t *record, char *err, size_t errsz)
{
    if (!self || !record)
        return im_fail (EINVAL, err, errsz, "export: no exporter or no record");
    if (self->failed)
        return im_fail (EIO, err, errsz, "export: an earlier write failed");
    if (self->finished)
        return im_fail (EINVAL, err, errsz, "export: already finished");
    if (read_record (self, record, err, errsz))
        return -1;
    const im_record_t *r = &self->rec;
    if ((self->format == FORMAT_CSV && csv_check (r, err, errsz))
        || (self->format == FORMAT_MISP && misp_check (r, err, errsz)))
        return -1;

    json_t *obj = NULL, *seen = NULL;
    if (self->format == FORMAT_STIX)
        obj = im_stix_indicator (r);
    else if (self->format == FORMAT_MISP)
        obj = misp_attribute (r);
    if (self->format != FORMAT_CSV && !obj)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    if (obj && (seen = sightings_of (self, r, obj)) == NULL) {
        json_decref (obj);
        return im_fail (EINVAL, err, errsz, "export: a sighting of %s is malformed",
                        r->value);
    }

    int rc;
    if (start (self) != 0) {
        json_decref (obj);
        json_decref (seen);
        if (errno == ENOMEM)
            return im_fail (ENOMEM, err, errsz, "out of memory");
        return io_fail (self, err, errsz);
    }
    if (self->format == FORMAT_CSV)
        rc = csv_line (self, r);
    else {
        const char *sep = self->count || self->extra    ? ",\n"
                          : self->format == FORMAT_STIX ? ",\"objects\":[\n"
                                                        : "\n";
        rc = write_text (self, sep) || write_json (self, obj) ? -1 : 0;
        json_decref (obj);
        json_t *o;
        size_t i;
        json_array_foreach (self->format == FORMAT_STIX ? seen : NULL, i, o)
        {
            if (rc == 0)
                rc = write_text (self, ",\n") || write_json (self, o) ? -1 : 0;
            self->extra++;
        }
    }
    json_decref (seen);
    if (rc != 0)
        return io_fail (self, err, errsz);
    if (self->format == FORMAT_STIX)
        self->markings |= 1u << r->tlp;
    export_note (self, r);
    self->count++;
    return 0;
}

int
im_export_set_sightings (im_export_t *self, const json_t *sightings)
{
    if (!self || self->started || !json_is_object (sightings)) {
        errno = EINVAL;
        return -1;
    }
    self->sightings = sightings;
    return 0;
}

int
im_export_misp_list (im_export_t *self)
{
    if (!self || self->started) {
        errno = EINVAL;
        return -1;
    }
    self->list = self->format == FORMAT_MISP;
    return 0;
}

/* Closes the MISP indicators' event once. */
static int
misp_close (im_export_t *self)
{
    if (self->closed)
        return 0;
    self->closed = 1;
    return write_text (self, self->count ? "\n]}}" : "]}}");
}

/* A report as a MISP event of its own, its MEMBERS as its attributes. */
static int
misp_report (im_export_t *self, const json_t *report, const json_t *members, char *err,
             size_t errsz)
{
    const char *rid = json_string_value (json_object_get (report, "id"));
    int tlp = im_tlp_parse (json_string_value (json_object_get (report, "tlp")));
    json_t *attrs = json_array (), *m;
    size_t i;
    json_array_foreach ((json_t *)members, i, m)
    {
        if (read_record (self, m, err, errsz)) {
            json_decref (attrs);
            return -1;
        }
        if (misp_check (&self->rec, NULL, 0))
            continue; /* as im_export_record leaves it out */
        json_t *a = misp_attribute (&self->rec);
        if (!a || im_export_misp_unique (&self->misp_uuids, a, rid)
            || json_array_append_new (attrs, a)) {
            json_decref (attrs);
            return im_fail (ENOMEM, err, errsz, "out of memory");
        }
    }
    json_t *ev = attrs ? im_export_misp_event (report, attrs,
                                               tlp >= 0 ? misp_tlp_tag (tlp) : NULL)
                       : NULL;
    if (ev)
        json_object_set_new (
            ev, "Orgc",
            json_pack ("{s:s, s:s}", "name", self->org_name, "uuid", self->org_uuid));
    if (!ev || !json_object_get (ev, "Orgc")) {
        json_decref (ev);
        return im_fail (errno == EINVAL ? EINVAL : ENOMEM, err, errsz,
                        "report %s: malformed or out of memory", rid ? rid : "?");
    }
    int rc = start (self) || misp_close (self) || write_text (self, ",\n{\"Event\":")
                     || write_json (self, ev) || write_text (self, "}")
                 ? -1
                 : 0;
    json_decref (ev);
    if (rc)
        return io_fail (self, err, errsz);
    self->extra++;
    return 0;
}

int
im_export_report (im_export_t *self, const json_t *report, const json_t *members,
                  char *err, size_t errsz)
{
    if (!self || !report)
        return im_fail (EINVAL, err, errsz, "export: no exporter or no report");
    if (self->failed || self->finished)
        return im_fail (self->failed ? EIO : EINVAL, err, errsz, "export: finished");
    if (self->format == FORMAT_MISP && self->list)
        return misp_report (self, report, members, err, errsz);
    if (self->format != FORMAT_STIX)
        return 0;
    json_t *objs = im_export_stix_report (report, members), *o;
    if (!objs)
        return im_fail (errno, err, errsz, "report %s: malformed or out of memory",
                        json_string_value (json_object_get (report, "id")));
    int tlp = im_tlp_parse (json_string_value (json_object_get (report, "tlp")));
    int rc = json_array_size (objs) && start (self) ? -1 : 0;
    size_t i;
    json_array_foreach (objs, i, o)
    {
        const char *sep = self->count || self->extra || i ? ",\n" : ",\"objects\":[\n";
        if (rc == 0)
            rc = write_text (self, sep) || write_json (self, o) ? -1 : 0;
    }
    self->extra += json_array_size (objs);
    if (json_array_size (objs) && tlp >= 0)
        self->markings |= 1u << tlp;
    json_decref (objs);
    return rc ? io_fail (self, err, errsz) : 0;
}

int
im_export_finish (im_export_t *self, char *err, size_t errsz)
{
    if (!self)
        return im_fail (EINVAL, err, errsz, "export: no exporter");
    if (self->failed)
        return im_fail (EIO, err, errsz, "export: an earlier write failed");
    if (self->finished)
        return im_fail (EINVAL, err, errsz, "export: already finished");
    if (start (self) != 0) {
        if (errno == ENOMEM)
            return im_fail (ENOMEM, err, errsz, "out of memory");
        return io_fail (self, err, errsz);
    }
    int rc = 0;
    if (self->format == FORMAT_STIX) {
        /* STIX allows no empty list: an empty bundle has no "objects". */
        for (int tlp = IM_TLP_CLEAR; tlp < IM_TLP_COUNT && rc == 0; tlp++) {
            if (!(self->markings & (1u << tlp)))
                continue;
            json_t *m = im_stix_marking (tlp);
            if (!m)
                return im_fail (ENOMEM, err, errsz, "out of memory");
            rc = write_text (self, ",\n") || write_json (self, m) ? -1 : 0;
            json_decref (m);
        }
        if (rc == 0)
            rc = write_text (self, self->count || self->extra ? "\n]}\n" : "}\n");
    }
    else if (self->format == FORMAT_MISP)
        rc = misp_close (self) || write_text (self, self->list ? "]}\n" : "\n") ? -1 : 0;
    if (rc != 0 || fflush (self->out) != 0 || ferror (self->out))
        return io_fail (self, err, errsz);
    self->finished = 1;
    return 0;
}

size_t
im_export_count (im_export_t *self)
{
    return self ? self->count : 0;
}

size_t
im_export_notes (im_export_t *self, char *note_out, size_t notesz)
{
    if (note_out && notesz)
        snprintf (note_out, notesz, "%s", self ? self->note : "");
    return self ? self->notes : 0;
}
