/* SPDX-License-Identifier: MPL-2.0 */
/* im_scenario.c -- reads an exercise scenario (im_scenario.h): a JSON file of
 * timed injects, each checked with the node's own rules (im_record_from_json,
 * im_report_from_json), normalised for the control socket and put in playing
 * order. Every error names the file, the inject and the field. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "im_guard.h"
#include "im_ioc.h"
#include "im_name.h"
#include "im_record.h"
#include "im_report.h"
#include "im_scenario.h"
#include "im_time.h"
#include "im_util.h"

#define QUOTE_MAX 64   /* bytes of input quoted in a message */
#define NAME_SHOWN 200 /* bytes of the file name in a message */
#define WHERE_MAX 96   /* "report.indicators[255].value" and more */
#define NO_INJECT ((size_t)-1)

typedef struct {
    int64_t at;      /* seconds from the exercise start */
    size_t order;    /* place in the file, for a stable sort */
    json_t *inject;  /* normalised (im_scenario_inject) */
    json_t *players; /* "participants" as given, or NULL */
} entry_t;

struct _im_scenario_t {
    char title[IM_SCENARIO_TITLE_MAX + 1];
    size_t count;
    entry_t *entries;
};

/* One parse: where messages go and what they name. */
typedef struct {
    char name[NAME_SHOWN + 8];
    char *err;
    size_t errsz;
    size_t index;     /* the inject being read, or NO_INJECT */
    im_record_t *rec; /* room for the node's checks */
    int64_t now;
} ctx_t;

static const char *const top_keys[] = { "scenario", "injects", NULL };
static const char *const inject_keys[]
    = { "at",           "type", "value",       "report",     "tlp",
        "participants", "tags", "description", "confidence", NULL };
static const char *const report_keys[]
    = { "title",       "description", "attack",     "actors",     "malware", "refs",
        "mitigations", "tags",        "confidence", "indicators", NULL };
static const char *const item_keys[] = { "type", "value", NULL };
static const char *const mitigation_keys[] = { "text", "refs", NULL };

/* Copies S into OUT (MAX + 4 bytes) for a message: characters that must
 * not reach a terminal as they are become '?'; cut at MAX bytes on a
 * character boundary, with "..." when cut. */
static const char *
clean (char *out, size_t max, const char *s)
{
    size_t o = 0, i = 0, len = strlen (s);
    while (i < len) {
        uint32_t cp;
        size_t n = im_utf8_decode ((const unsigned char *)s + i, len - i, &cp);
        if (o + (n ? n : 1) > max) {
            memcpy (out + o, "...", 3);
            o += 3;
            break;
        }
        if (n == 0 || im_utf8_unsafe (cp))
            out[o++] = '?';
        else
            memcpy (out + o, s + i, n), o += n;
        i += n ? n : 1;
    }
    out[o] = '\0';
    return out;
}

/* A piece of input quoted in a message, into Q (QUOTE_MAX + 4 bytes). */
static const char *
quote (char q[QUOTE_MAX + 4], const char *s)
{
    return clean (q, QUOTE_MAX, s);
}

/* Writes "NAME: injects[I]WHERE: MESSAGE" (or "NAME: WHERE: MESSAGE" outside
 * an inject; WHERE "" leaves it out) into the caller's buffer; errno EINVAL. */
static int
bad (ctx_t *c, const char *where, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (msg, sizeof msg, fmt, ap);
    va_end (ap);
    if (c->index != NO_INJECT)
        return im_fail (EINVAL, c->err, c->errsz, "%s: injects[%zu]%s: %s", c->name,
                        c->index, where, msg);
    if (*where)
        return im_fail (EINVAL, c->err, c->errsz, "%s: %s: %s", c->name, where, msg);
    return im_fail (EINVAL, c->err, c->errsz, "%s: %s", c->name, msg);
}

/* A reason of the node's checks, "FIELD: TEXT", reported as WHERE.FIELD. */
static int
bad_node (ctx_t *c, const char *where, const char *why)
{
    size_t n = strspn (why, "abcdefghijklmnopqrstuvwxyz_");
    if (n == 0 || strncmp (why + n, ": ", 2) != 0)
        return bad (c, where, "%s", why);
    /* "report: ..." about the report at ".report" is said of it. */
    size_t w = strlen (where);
    if (w > n && where[w - n - 1] == '.' && strncmp (where + w - n, why, n) == 0)
        return bad (c, where, "%s", why + n + 2);
    char at[WHERE_MAX + 32];
    snprintf (at, sizeof at, "%s.%.*s", where, (int)n, why);
    return bad (c, at, "%s", why + n + 2);
}

/* A reason of the item checks without its "FIELD: " (the caller names it). */
static const char *
reason_of (const char *why)
{
    const char *text = strstr (why, ": ");
    return text ? text + 2 : why;
}

/* Edit distance of A and B (each at most 32 bytes; longer: far). */
static size_t
distance (const char *a, const char *b)
{
    size_t la = strlen (a), lb = strlen (b), row[33];
    if (la > 32 || lb > 32)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Refuses a key of OBJ that is not in KNOWN, naming the nearest known key
 * when one is close (a typo must not be ignored), and a null value. */
static int
known_keys (ctx_t *c, const json_t *obj, const char *where, const char *const *known)
{
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)obj, key, v)
    {
        const char *near = NULL;
        size_t best = 3, i;
        for (i = 0; known[i] && strcmp (key, known[i]) != 0; i++) {
            size_t d = distance (key, known[i]);
            if (d < best && d <= (strlen (known[i]) < 5 ? 1u : 2u))
                best = d, near = known[i];
        }
        if (known[i] && json_is_null (v))
            return bad (c, where, "\"%s\" is null: leave it out to take its default",
                        key);
        if (known[i])
            continue;
        char q[QUOTE_MAX + 4], list[256] = "";
        for (i = 0; known[i]; i++) {
            size_t len = strlen (list);
            snprintf (list + len, sizeof list - len, "%s%s", i ? ", " : "", known[i]);
        }
        if (near)
            return bad (c, where, "unknown key \"%s\" (did you mean \"%s\"?)",
                        quote (q, key), near);
        return bad (c, where, "unknown key \"%s\" (known: %s)", quote (q, key), list);
    }
    return 0;
}

/* "+N" and a unit s, m or h at S: the seconds into *AT (more than the
 * maximum when N is). Returns 0, or -1 for anything else. */
static int
offset_text (const char *s, int64_t *at)
{
    int64_t n = 0;
    size_t digits = 0;
    if (*s++ != '+')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++, digits++)
        if ((n = n * 10 + (*s - '0')) > IM_SCENARIO_OFFSET_MAX)
            n = IM_SCENARIO_OFFSET_MAX + 1;
    if (digits == 0 || !s[0] || s[1] || !strchr ("smh", s[0]))
        return -1;
    *at = n * (s[0] == 's' ? 1 : s[0] == 'm' ? 60 : 3600);
    return 0;
}

/* "at": "+90s", "+5m", "+1h", or whole seconds, 0 to 30 days. */
static int
read_offset (ctx_t *c, const json_t *v, int64_t *at)
{
    char q[QUOTE_MAX + 4];
    if (!v)
        return bad (
            c, ".at",
            "missing (when to play the inject: +90s, +5m, +1h or a number of seconds)");
    if (json_is_integer (v)) {
        json_int_t n = json_integer_value (v);
        if (n < 0)
            return bad (c, ".at",
                        "%lld is negative: an offset counts from the exercise start",
                        (long long)n);
        if (n > IM_SCENARIO_OFFSET_MAX)
            return bad (
                c, ".at",
                "%lld seconds is more than 30 days (%d s) after the exercise start",
                (long long)n, IM_SCENARIO_OFFSET_MAX);
        *at = (int64_t)n;
        return 0;
    }
    if (!json_is_string (v))
        return bad (c, ".at",
                    "not an offset (\"+N\" with s, m or h, or a number of seconds)");
    const char *s = json_string_value (v);
    if (s[0] == '-') {
        char plus[32];
        snprintf (plus, sizeof plus, "+%.30s", s + 1);
        if (offset_text (plus, at) == 0)
            return bad (c, ".at",
                        "'%s' is negative: an offset counts from the exercise start",
                        quote (q, s));
    }
    if (offset_text (s, at))
        return bad (c, ".at", "'%s' is not an offset (+N with s, m or h)", quote (q, s));
    if (*at > IM_SCENARIO_OFFSET_MAX)
        return bad (c, ".at",
                    "'%s' is more than 30 days (+720h) after the exercise start",
                    quote (q, s));
    return 0;
}

/* "tlp": a label, "amber" when absent; its name into *NAME. */
static int
read_tlp (ctx_t *c, const json_t *v, const char **name)
{
    char q[QUOTE_MAX + 4];
    int tlp = IM_TLP_AMBER;
    if (v && !json_is_string (v))
        return bad (c, ".tlp", "not a string (clear, green, amber, amber+strict, red)");
    if (v && (tlp = im_tlp_parse (json_string_value (v))) < 0)
        return bad (c, ".tlp",
                    "'%s' is not one of clear, green, amber, amber+strict, red",
                    quote (q, json_string_value (v)));
    *name = im_tlp_name (tlp);
    return 0;
}

/* "participants": 1 to 64 distinct node names. */
static int
read_participants (ctx_t *c, const json_t *v)
{
    char q[QUOTE_MAX + 4], at[WHERE_MAX];
    size_t n = json_array_size (v);
    if (!v)
        return 0;
    if (!json_is_array (v))
        return bad (c, ".participants",
                    "not an array of names (leave it out to play the inject to every "
                    "participant)");
    if (n == 0)
        return bad (c, ".participants",
                    "empty (leave it out to play the inject to every participant)");
    if (n > IM_SCENARIO_PARTICIPANTS_MAX)
        return bad (c, ".participants", "%zu names, more than %d", n,
                    IM_SCENARIO_PARTICIPANTS_MAX);
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get (v, i);
        snprintf (at, sizeof at, ".participants[%zu]", i);
        if (!json_is_string (p))
            return bad (c, at, "not a string");
        if (!im_name_valid (json_string_value (p)))
            return bad (c, at,
                        "'%s' is not a participant's name (letters, digits, '.', '_', "
                        "'-'; 1 to %d bytes)",
                        quote (q, json_string_value (p)), IM_NAME_MAX);
        for (size_t j = 0; j < i; j++)
            if (json_equal (p, json_array_get (v, j)))
                return bad (c, at, "'%s' is given twice", json_string_value (p));
    }
    return 0;
}

/* Refuses the canonical VALUE of TYPE when the node would (without --force):
 * on a built-in list that is not documentation, or too broad a prefix. */
static int
guarded (ctx_t *c, const char *at, int type, const char *value)
{
    char q[QUOTE_MAX + 4];
    im_guard_hit_t hit;
    int plen, min;
    if (im_guard_too_broad (type, value, &plen, &min))
        return bad (c, at, "'%s' is broader than /%d: the node refuses it",
                    quote (q, value), min);
    if (im_guard_check (type, value, &hit) == 1 && !hit.documentation)
        return bad (
            c, at,
            "'%s' is on the built-in list '%s' (%s, entry %s): the node refuses it; use "
            "a documentation value (203.0.113.0/24, 2001:db8::/32, example.com)",
            quote (q, value), hit.list, hit.rfc, hit.entry);
    return 0;
}

/* One indicator (the inject's, or a report's at WHERE): "type" and "value"
 * checked and normalised, with the inject's label and, when SRC gives them,
 * tags, description and confidence; the node's checks run on the result.
 * The item into *OUT. */
static int
read_item (ctx_t *c, const json_t *src, const char *where, const char *tlp, json_t **out)
{
    char q[QUOTE_MAX + 4], at[WHERE_MAX + 8], why[512], canon[IM_VALUE_MAX + 1];
    const json_t *type = json_object_get (src, "type");
    const json_t *value = json_object_get (src, "value");
    int t;
    snprintf (at, sizeof at, "%s.type", where);
    if (!json_is_string (type))
        return bad (c, at, "%s (one of %s)", type ? "not a string" : "missing",
                    IM_TYPE_NAMES);
    if ((t = im_type_parse (json_string_value (type))) < 0)
        return bad (c, at, "'%s' is not one of %s", quote (q, json_string_value (type)),
                    IM_TYPE_NAMES);
    snprintf (at, sizeof at, "%s.value", where);
    if (!json_is_string (value))
        return bad (c, at, "%s", value ? "not a string" : "missing");
    if (im_ioc_normalise (t, json_string_value (value), canon, sizeof canon, why,
                          sizeof why))
        return bad (c, at, "%s", why);
    if (guarded (c, at, t, canon))
        return -1;
    json_t *item = json_pack ("{s:s, s:s, s:s}", "type", im_type_name (t), "value", canon,
                              "tlp", tlp);
    static const char *const extra[] = { "tags", "description", "confidence", NULL };
    for (int i = 0; item && extra[i]; i++)
        if (json_object_get (src, extra[i]))
            json_object_set (item, extra[i], json_object_get (src, extra[i]));
    if (!item)
        return im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
    im_record_init (c->rec);
    if (im_record_from_json (c->rec, item, c->now, why, sizeof why)) {
        json_decref (item);
        return bad_node (c, where, why);
    }
    *out = item;
    return 0;
}

/* An array of strings KEY of SRC, each checked as the extension item EXT
 * (attack ids upper-cased first), copied into R. */
static int
read_strings (ctx_t *c, const json_t *src, const char *key, int ext, json_t *r)
{
    char at[WHERE_MAX], why[512], up[16], q[QUOTE_MAX + 4];
    const json_t *v = json_object_get (src, key);
    if (!v)
        return 0;
    snprintf (at, sizeof at, ".report.%s", key);
    if (!json_is_array (v))
        return bad (c, at, "not an array of strings");
    json_t *copy = json_array ();
    json_object_set_new (r, key, copy);
    for (size_t i = 0; i < json_array_size (v); i++) {
        const json_t *e = json_array_get (v, i);
        const char *s = json_string_value (e);
        size_t n = json_string_length (e);
        snprintf (at, sizeof at, ".report.%s[%zu]", key, i);
        if (!s)
            return bad (c, at, "not a string");
        if (ext == IM_EXT_ATTACK && n < sizeof up) {
            for (size_t j = 0; j <= n; j++)
                up[j] = (char)(s[j] >= 'a' && s[j] <= 'z' ? s[j] - 32 : s[j]);
            s = up;
        }
        int fails = im_ext_item_check (ext, (const uint8_t *)s, n, why, sizeof why);
        if (fails && ext == IM_EXT_ATTACK)
            return bad (c, at, "'%s' is not an ATT&CK technique id (T1566 or T1566.001)",
                        quote (q, json_string_value (e)));
        if (fails)
            return bad (c, at, "%s", reason_of (why));
        if (json_array_append_new (copy, json_string (s)))
            return im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
    }
    return 0;
}

/* "mitigations": texts or {"text", "refs"}, each as {"text", "refs"} in R. */
static int
read_mitigations (ctx_t *c, const json_t *src, json_t *r)
{
    char at[WHERE_MAX], why[512];
    const json_t *v = json_object_get (src, "mitigations");
    if (!v)
        return 0;
    if (!json_is_array (v))
        return bad (c, ".report.mitigations", "not an array");
    json_t *copy = json_array ();
    json_object_set_new (r, "mitigations", copy);
    for (size_t i = 0; i < json_array_size (v); i++) {
        const json_t *m = json_array_get (v, i);
        const json_t *text = json_is_object (m) ? json_object_get (m, "text") : m;
        const json_t *refs = json_is_object (m) ? json_object_get (m, "refs") : NULL;
        const char *urls[IM_EXT_MIT_REFS_MAX];
        size_t n = json_array_size (refs);
        snprintf (at, sizeof at, ".report.mitigations[%zu]", i);
        if (json_is_object (m) && known_keys (c, m, at, mitigation_keys))
            return -1;
        if (!json_is_string (text) || (refs && !json_is_array (refs)))
            return bad (c, at, "not a text or {\"text\": TEXT, \"refs\": [URL...]}");
        if (n > IM_EXT_MIT_REFS_MAX)
            return bad (c, at, "%zu refs, more than %d", n, IM_EXT_MIT_REFS_MAX);
        for (size_t j = 0; j < n; j++) {
            const json_t *u = json_array_get (refs, j);
            char ref_at[WHERE_MAX + 16];
            snprintf (ref_at, sizeof ref_at, "%s.refs[%zu]", at, j);
            if (!(urls[j] = json_string_value (u)))
                return bad (c, ref_at, "not a string");
            if (im_ext_item_check (IM_EXT_REF, (const uint8_t *)urls[j],
                                   json_string_length (u), why, sizeof why))
                return bad (c, ref_at, "%s", reason_of (why));
        }
        uint8_t
            data[2 + IM_EXT_TEXT_MAX + 1 + IM_EXT_MIT_REFS_MAX * (2 + IM_EXT_URL_MAX)];
        size_t len;
        if (im_ext_mitigation (json_string_value (text), urls, n, data, sizeof data, &len,
                               why, sizeof why)
            || im_ext_item_check (IM_EXT_MITIGATION, data, len, why, sizeof why))
            return bad (c, at, "%s", reason_of (why));
        json_t *o = json_pack ("{s:O, s:[]}", "text", text, "refs");
        if (!o || json_array_append_new (copy, o))
            return im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
        for (size_t j = 0; j < n; j++)
            json_array_append_new (json_object_get (o, "refs"), json_string (urls[j]));
    }
    return 0;
}

/* "indicators" of a report: 0 to 256 {"type", "value"}, into ITEMS. */
static int
read_report_items (ctx_t *c, const json_t *src, const char *tlp, json_t *items)
{
    char at[WHERE_MAX];
    const json_t *v = json_object_get (src, "indicators");
    if (!v)
        return 0;
    if (!json_is_array (v))
        return bad (c, ".report.indicators", "not an array of {\"type\", \"value\"}");
    if (json_array_size (v) > IM_SCENARIO_INDICATORS_MAX)
        return bad (c, ".report.indicators", "%zu indicators, more than %d",
                    json_array_size (v), IM_SCENARIO_INDICATORS_MAX);
    for (size_t i = 0; i < json_array_size (v); i++) {
        const json_t *e = json_array_get (v, i);
        json_t *item;
        snprintf (at, sizeof at, ".report.indicators[%zu]", i);
        if (!json_is_object (e))
            return bad (c, at, "not an object {\"type\", \"value\"}");
        if (known_keys (c, e, at, item_keys) || read_item (c, e, at, tlp, &item))
            return -1;
        json_array_append_new (items, item);
    }
    return 0;
}

/* "report": the REPORT create body's "report" and the indicators to add. */
static int
read_report (ctx_t *c, const json_t *src, const char *tlp, json_t **out)
{
    char why[512];
    const json_t *title = json_object_get (src, "title");
    if (!json_is_object (src))
        return bad (c, ".report", "not an object with a \"title\"");
    if (known_keys (c, src, ".report", report_keys))
        return -1;
    if (!json_is_string (title))
        return bad (c, ".report.title", "%s", title ? "not a string" : "missing");
    if (json_string_length (title) > IM_REPORT_TITLE_MAX)
        return bad (c, ".report.title", "longer than %d bytes", IM_REPORT_TITLE_MAX);
    json_t *r = json_pack ("{s:O, s:s}", "title", title, "tlp", tlp);
    json_t *items = json_array ();
    static const char *const copied[] = { "description", "tags", "confidence", NULL };
    for (int i = 0; r && copied[i]; i++)
        if (json_object_get (src, copied[i]))
            json_object_set (r, copied[i], json_object_get (src, copied[i]));
    int rc = 0;
    if (!r || !items)
        rc = im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
    else if (read_strings (c, src, "attack", IM_EXT_ATTACK, r)
             || read_strings (c, src, "actors", IM_EXT_ACTOR, r)
             || read_strings (c, src, "malware", IM_EXT_MALWARE, r)
             || read_strings (c, src, "refs", IM_EXT_REF, r)
             || read_mitigations (c, src, r) || read_report_items (c, src, tlp, items))
        rc = -1;
    im_record_init (c->rec);
    if (rc == 0 && im_report_from_json (c->rec, r, c->now, why, sizeof why))
        rc = bad_node (c, ".report", why);
    if (rc == 0 && !(*out = json_pack ("{s:O, s:O}", "report", r, "indicators", items)))
        rc = im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
    json_decref (r);
    json_decref (items);
    return rc;
}

/* Inject C->index, SRC, into E. */
static int
read_inject (ctx_t *c, const json_t *src, entry_t *e)
{
    const char *tlp = NULL;
    const json_t *report = json_object_get (src, "report");
    const json_t *players = json_object_get (src, "participants");
    if (!json_is_object (src))
        return bad (c, "",
                    "not an object (\"at\", and \"type\" and \"value\" or \"report\")");
    if (known_keys (c, src, "", inject_keys)
        || read_offset (c, json_object_get (src, "at"), &e->at)
        || read_tlp (c, json_object_get (src, "tlp"), &tlp)
        || read_participants (c, players))
        return -1;
    int indicator = json_object_get (src, "type") || json_object_get (src, "value");
    if (report && indicator)
        return bad (c, "",
                    "gives both an indicator (\"type\", \"value\") and a \"report\": one "
                    "inject is one or the other");
    if (!report && !indicator)
        return bad (
            c, "",
            "gives neither an indicator (\"type\" and \"value\") nor a \"report\"");
    static const char *const own[] = { "tags", "description", "confidence", NULL };
    for (int i = 0; report && own[i]; i++)
        if (json_object_get (src, own[i]))
            return bad (c, "", "\"%s\" of a report goes inside \"report\"", own[i]);
    if (report ? read_report (c, report, tlp, &e->inject)
               : read_item (c, src, "", tlp, &e->inject))
        return -1;
    e->players = players ? json_incref ((json_t *)players) : NULL;
    return 0;
}

static int
entry_cmp (const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* The root object: "scenario" and "injects", into SELF. */
static int
read_root (ctx_t *c, const json_t *root, im_scenario_t *self)
{
    const json_t *title = json_object_get (root, "scenario");
    const json_t *injects = json_object_get (root, "injects");
    size_t n = json_array_size (injects);
    if (!json_is_object (root))
        return bad (c, "", "not a JSON object with \"injects\"");
    if (known_keys (c, root, "", top_keys))
        return -1;
    if (title && !json_is_string (title))
        return bad (c, "scenario", "not a string (the scenario's title)");
    if (title && json_string_length (title) > IM_SCENARIO_TITLE_MAX)
        return bad (c, "scenario", "longer than %d bytes", IM_SCENARIO_TITLE_MAX);
    for (size_t i = 0, step; title && i < json_string_length (title); i += step) {
        uint32_t cp;
        step = im_utf8_decode ((const unsigned char *)json_string_value (title) + i,
                               json_string_length (title) - i, &cp);
        if (step == 0 || im_utf8_unsafe (cp))
            return bad (c, "scenario", "holds control or invisible characters");
    }
    if (!json_is_array (injects))
        return bad (c, "injects", "%s (an array of 1 to %d injects)",
                    injects ? "not an array" : "missing", IM_SCENARIO_INJECTS_MAX);
    if (n == 0 || n > IM_SCENARIO_INJECTS_MAX)
        return bad (c, "injects", "%zu injects: give 1 to %d", n,
                    IM_SCENARIO_INJECTS_MAX);
    if (title)
        memcpy (self->title, json_string_value (title), json_string_length (title) + 1);
    if (!(self->entries = calloc (n, sizeof *self->entries)))
        return im_fail (ENOMEM, c->err, c->errsz, "%s: out of memory", c->name);
    for (c->index = 0; c->index < n; c->index++, self->count++) {
        self->entries[c->index].order = c->index;
        if (read_inject (c, json_array_get (injects, c->index), &self->entries[c->index]))
            return -1;
    }
    qsort (self->entries, n, sizeof *self->entries, entry_cmp);
    return 0;
}

im_scenario_t *
im_scenario_parse (const char *text, size_t len, const char *name, char *err,
                   size_t errsz)
{
    ctx_t c = { .err = err, .errsz = errsz, .index = NO_INJECT, .now = im_time_now () };
    char text_shown[JSON_ERROR_TEXT_LENGTH + 4];
    clean (c.name, NAME_SHOWN, name ? name : "scenario");
    if (!text) {
        im_fail (EINVAL, err, errsz, "%s: no scenario text", c.name);
        return NULL;
    }
    if (len > IM_SCENARIO_FILE_MAX) {
        im_fail (EFBIG, err, errsz, "%s: larger than 4 MiB", c.name);
        return NULL;
    }
    if (len >= 3 && memcmp (text, "\xEF\xBB\xBF", 3) == 0)
        text += 3, len -= 3; /* a UTF-8 byte order mark */
    json_error_t jerr;
    json_t *root = json_loadb (text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        im_fail (EINVAL, err, errsz, "%s: line %d, column %d: %s", c.name, jerr.line,
                 jerr.column, clean (text_shown, JSON_ERROR_TEXT_LENGTH, jerr.text));
        return NULL;
    }
    im_scenario_t *self = calloc (1, sizeof *self);
    c.rec = malloc (sizeof *c.rec);
    int rc = self && c.rec ? read_root (&c, root, self)
                           : im_fail (ENOMEM, err, errsz, "%s: out of memory", c.name);
    int saved = errno;
    free (c.rec);
    json_decref (root);
    if (rc)
        im_scenario_destroy (&self);
    errno = saved;
    if (self && err && errsz)
        err[0] = '\0';
    return self;
}

/* Reads the regular file PATH (at most IM_SCENARIO_FILE_MAX bytes) into a new
 * buffer; its size into *LEN. */
static char *
read_file (const char *path, const char *shown, size_t *len, char *err, size_t errsz)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), e = 0;
    struct stat st;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (fd < 0 || fstat (fd, &st) < 0)
        e = errno;
    else if (S_ISDIR (st.st_mode))
        e = EISDIR;
    else if (!S_ISREG (st.st_mode))
        e = -1;
    else if ((unsigned long long)st.st_size > IM_SCENARIO_FILE_MAX)
        e = EFBIG;
    else if (!(buf = malloc (cap = (size_t)st.st_size + 1)))
        e = ENOMEM;
    while (!e) {
        ssize_t r = read (fd, buf + n, cap - n);
        if (r < 0 && errno != EINTR)
            e = errno;
        if (r <= 0)
            break;
        if ((n += (size_t)r) < cap)
            continue;
        char *more = n > IM_SCENARIO_FILE_MAX ? NULL : realloc (buf, cap * 2);
        if (!more)
            e = n > IM_SCENARIO_FILE_MAX ? EFBIG : ENOMEM;
        else
            buf = more, cap *= 2; /* it grew while being read */
    }
    if (fd >= 0)
        close (fd);
    if (!e) {
        *len = n;
        return buf;
    }
    free (buf);
    if (e == -1)
        im_fail (EINVAL, err, errsz, "%s: not a regular file", shown);
    else if (e == EFBIG)
        im_fail (EFBIG, err, errsz, "%s: larger than 4 MiB", shown);
    else
        im_fail (e, err, errsz, "%s: %s", shown, strerror (e));
    return NULL;
}

im_scenario_t *
im_scenario_load (const char *path, char *err, size_t errsz)
{
    char shown[NAME_SHOWN + 8];
    size_t len = 0;
    if (!path) {
        im_fail (EINVAL, err, errsz, "scenario: no file name");
        return NULL;
    }
    clean (shown, NAME_SHOWN, path);
    char *text = read_file (path, shown, &len, err, errsz);
    if (!text)
        return NULL;
    im_scenario_t *self = im_scenario_parse (text, len, path, err, errsz);
    int saved = errno;
    free (text);
    errno = saved;
    return self;
}

void
im_scenario_destroy (im_scenario_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    im_scenario_t *self = *self_p;
    int saved = errno;
    for (size_t i = 0; i < self->count; i++) {
        json_decref (self->entries[i].inject);
        json_decref (self->entries[i].players);
    }
    free (self->entries);
    free (self);
    *self_p = NULL;
    errno = saved;
}

const char *
im_scenario_title (const im_scenario_t *self)
{
    return self ? self->title : NULL;
}

size_t
im_scenario_count (const im_scenario_t *self)
{
    return self ? self->count : 0;
}

const json_t *
im_scenario_inject (const im_scenario_t *self, size_t i, int64_t *offset_s)
{
    if (!self || i >= self->count) {
        errno = EINVAL;
        return NULL;
    }
    if (offset_s)
        *offset_s = self->entries[i].at;
    return self->entries[i].inject;
}

const json_t *
im_scenario_participants (const im_scenario_t *self, size_t i)
{
    if (!self || i >= self->count) {
        errno = EINVAL;
        return NULL;
    }
    errno = 0;
    return self->entries[i].players;
}
