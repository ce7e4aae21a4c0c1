/* SPDX-License-Identifier: MPL-2.0 */
/* im_exercise_report_model.c -- an exercise's state checked element by
 * element (each refusal names its element) and indexed: injects by time and
 * id with the participants each was sent to, events resolved and sorted, the
 * earliest ack and action of each participant for each inject. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "im_exercise_report.h"
#include "im_exercise_report_int.h"
#include "im_ioc.h"
#include "im_record.h"
#include "im_time.h"
#include "im_util.h"

const char *const ex_action_names[EX_ACTIONS]
    = { "detected", "blocked", "mitigated", "escalated" };

#define AT_SIZE 64    /* an element's path: "participants[63].node" */
#define SHOWN_SIZE 48 /* a value shown in a message */

/* A printable copy of S for a message: its first 40 bytes, each outside
 * printable ASCII as '?', then "..." when S is longer. */
static const char *
shown (const char *s, char buf[SHOWN_SIZE])
{
    size_t i = 0;
    for (; s[i] && i < 40; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    snprintf (buf + i, SHOWN_SIZE - i, "%s", s[i] ? "..." : "");
    return buf;
}

static const char *
type_name (const json_t *v)
{
    switch (json_typeof (v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

/* WHERE.KEY (or KEY alone at the top) into AT. */
static const char *
path (const char *where, const char *key, char at[AT_SIZE])
{
    if (where)
        snprintf (at, AT_SIZE, "%s.%s", where, key);
    else
        snprintf (at, AT_SIZE, "%s", key);
    return at;
}

/* V, the element at AT, a string of at most MAX bytes of UTF-8 without NUL
 * (not empty unless EMPTY_OK). NULL with the reason in ERR. */
static const char *
text_of (const json_t *v, const char *at, size_t max, int empty_ok, char *err,
         size_t errsz)
{
    if (!json_is_string (v)) {
        im_fail (EINVAL, err, errsz, "%s: must be a string, not %s", at, type_name (v));
        return NULL;
    }
    const char *s = json_string_value (v);
    size_t len = json_string_length (v);
    if (len == 0 && !empty_ok)
        im_fail (EINVAL, err, errsz, "%s: must not be empty", at);
    else if (len > max)
        im_fail (EINVAL, err, errsz, "%s: %zu bytes, over the limit of %zu", at, len,
                 max);
    else if (!im_utf8_valid (s, len))
        im_fail (EINVAL, err, errsz, "%s: not valid UTF-8, or holds a NUL", at);
    else
        return s;
    return NULL;
}

/* Member KEY of O, a string as text_of takes it. */
static const char *
get_text (const json_t *o, const char *where, const char *key, size_t max, int empty_ok,
          char *err, size_t errsz)
{
    char at[AT_SIZE];
    path (where, key, at);
    json_t *v = json_object_get (o, key);
    if (!v) {
        im_fail (EINVAL, err, errsz, "%s: missing", at);
        return NULL;
    }
    return text_of (v, at, max, empty_ok, err, errsz);
}

/* Member KEY of O, an integer time within 0..IM_TIME_MAX. */
static int
get_time (const json_t *o, const char *where, const char *key, int64_t *t, char *err,
          size_t errsz)
{
    char at[AT_SIZE];
    path (where, key, at);
    json_t *v = json_object_get (o, key);
    if (!v)
        return im_fail (EINVAL, err, errsz, "%s: missing", at);
    if (!json_is_integer (v))
        return im_fail (EINVAL, err, errsz,
                        "%s: must be an integer (seconds since the epoch), not %s", at,
                        type_name (v));
    json_int_t x = json_integer_value (v);
    if (x < 0 || x > IM_TIME_MAX)
        return im_fail (EINVAL, err, errsz, "%s: %lld is out of range (0 to %lld)", at,
                        (long long)x, (long long)IM_TIME_MAX);
    *t = (int64_t)x;
    return 0;
}

/* V, the element at AT, a node id, into HEX (lower case). */
static int
node_of (const json_t *v, const char *at, char hex[65], char *err, size_t errsz)
{
    char buf[SHOWN_SIZE];
    uint8_t node[IM_NODE_ID_SIZE];
    const char *s = text_of (v, at, IM_EXERCISE_NOTE_MAX, 1, err, errsz);
    if (!s)
        return -1;
    if (im_node_parse (s, node) != 0)
        return im_fail (EINVAL, err, errsz, "%s: '%s' is not a node id (64 hex digits)",
                        at, shown (s, buf));
    im_node_format (node, hex);
    return 0;
}

/* Member KEY of O, a node id, into HEX (lower case). */
static int
get_node (const json_t *o, const char *where, const char *key, char hex[65], char *err,
          size_t errsz)
{
    char at[AT_SIZE];
    path (where, key, at);
    json_t *v = json_object_get (o, key);
    if (!v)
        return im_fail (EINVAL, err, errsz, "%s: missing", at);
    return node_of (v, at, hex, err, errsz);
}

/* Member KEY of O, a UUID, into ID (lower case). */
static int
get_id (const json_t *o, const char *where, const char *key, char id[37], char *err,
        size_t errsz)
{
    char at[AT_SIZE], buf[SHOWN_SIZE];
    uint8_t bin[IM_ID_SIZE];
    const char *s = get_text (o, where, key, IM_EXERCISE_NOTE_MAX, 1, err, errsz);
    if (!s)
        return -1;
    if (im_id_parse (s, bin) != 0)
        return im_fail (EINVAL, err, errsz, "%s: '%s' is not a UUID",
                        path (where, key, at), shown (s, buf));
    im_id_format (bin, id);
    return 0;
}

/* Member KEY of O: one of the NAMES (N of them). Returns its index. */
static int
get_choice (const json_t *o, const char *where, const char *key, const char *const *names,
            int n, char *err, size_t errsz)
{
    char at[AT_SIZE], buf[SHOWN_SIZE], list[128] = "";
    const char *s = get_text (o, where, key, 64, 1, err, errsz);
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (strcmp (s, names[i]) == 0)
            return i;
    for (int i = 0; i < n; i++)
        snprintf (list + strlen (list), sizeof list - strlen (list), "%s%s",
                  i ? (i == n - 1 ? " or " : ", ") : "", names[i]);
    return im_fail (EINVAL, err, errsz, "%s: '%s' is not %s", path (where, key, at),
                    shown (s, buf), list);
}

/* An object {"node", "name"} at WHERE, into P. */
static int
get_party (const json_t *o, const char *where, ex_party_t *p, char *err, size_t errsz)
{
    if (!json_is_object (o))
        return im_fail (EINVAL, err, errsz, "%s: must be an object, not %s", where,
                        type_name (o));
    if (get_node (o, where, "node", p->node, err, errsz))
        return -1;
    p->name = get_text (o, where, "name", IM_EXERCISE_PARTY_MAX, 0, err, errsz);
    if (!p->name)
        return -1;
    const unsigned char *s = (const unsigned char *)p->name;
    size_t len = strlen (p->name), k;
    uint32_t cp;
    for (size_t i = 0; i < len; i += k)
        if ((k = im_utf8_decode (s + i, len - i, &cp)) == 0 || im_utf8_unsafe (cp))
            return im_fail (EINVAL, err, errsz,
                            "%s.name: holds a control or invisible character", where);
    return 0;
}

/* The timeline file name of each participant: its name's [A-Za-z0-9._-]
 * bytes, each other character as one '_', no leading '.', made unique. */
static void
name_files (ex_model_t *m)
{
    for (size_t i = 0; i < m->nparties; i++) {
        char safe[IM_EXERCISE_PARTY_MAX + 1];
        size_t o = 0;
        for (const unsigned char *s = (const unsigned char *)m->parties[i].name; *s;
             s++) {
            int c = *s;
            if ((c >= 0x80 && c < 0xc0) && o > 0 && safe[o - 1] == '_')
                continue; /* a continuation byte of a character already written */
            int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                       || (c >= '0' && c <= '9') || c == '_' || c == '-'
                       || (c == '.' && o > 0);
            safe[o++] = keep ? (char)c : '_';
        }
        safe[o] = 0;
        for (unsigned n = 1;; n++) {
            char *f = m->parties[i].file;
            if (n == 1)
                snprintf (f, EX_FILE_SIZE, "timeline-%s.svg", safe);
            else
                snprintf (f, EX_FILE_SIZE, "timeline-%s-%u.svg", safe, n);
            size_t j = 0;
            while (j < i && strcmp (m->parties[j].file, f) != 0)
                j++;
            if (j == i)
                break;
        }
    }
}

static int
load_head (ex_model_t *m, const json_t *state, char *err, size_t errsz)
{
    if (!json_is_object (state))
        return im_fail (EINVAL, err, errsz,
                        "the exercise's state must be an object, not %s",
                        type_name (state));
    m->name = get_text (state, NULL, "name", IM_EXERCISE_NAME_MAX, 0, err, errsz);
    if (!m->name)
        return -1;
    for (const char *s = m->name; *s; s++) {
        int c = (unsigned char)*s;
        int lower = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!lower && (s == m->name || (c != '.' && c != '_' && c != '-'))) {
            char buf[SHOWN_SIZE];
            return im_fail (EINVAL, err, errsz,
                            "name: '%s' is not an exercise name (lower-case letters, "
                            "digits, '.', '_', '-', starting with a letter or digit)",
                            shown (m->name, buf));
        }
    }
    ex_party_t host;
    const json_t *h = json_object_get (state, "host");
    if (!h)
        return im_fail (EINVAL, err, errsz, "host: missing");
    if (get_party (h, "host", &host, err, errsz))
        return -1;
    memcpy (m->host_node, host.node, sizeof m->host_node);
    m->host_name = host.name;
    if (get_time (state, NULL, "start", &m->start, err, errsz)
        || get_time (state, NULL, "end", &m->end, err, errsz))
        return -1;
    if (m->start >= m->end) {
        char a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE];
        return im_fail (EINVAL, err, errsz, "end: %s is not after start %s",
                        im_time_format (m->end, b), im_time_format (m->start, a));
    }
    return 0;
}

/* The array member KEY of STATE, of MIN..MAX elements. */
static const json_t *
get_array (const json_t *state, const char *key, size_t min, size_t max, char *err,
           size_t errsz)
{
    const json_t *a = json_object_get (state, key);
    if (!a)
        im_fail (EINVAL, err, errsz, "%s: missing", key);
    else if (!json_is_array (a))
        im_fail (EINVAL, err, errsz, "%s: must be an array, not %s", key, type_name (a));
    else if (json_array_size (a) < min || json_array_size (a) > max)
        im_fail (EINVAL, err, errsz, "%s: %zu of them, where %zu to %zu are allowed", key,
                 json_array_size (a), min, max);
    else
        return a;
    return NULL;
}

static int
load_parties (ex_model_t *m, const json_t *state, char *err, size_t errsz)
{
    const json_t *a
        = get_array (state, "participants", 1, IM_EXERCISE_PARTICIPANTS_MAX, err, errsz);
    if (!a)
        return -1;
    m->parties = calloc (json_array_size (a), sizeof *m->parties);
    if (!m->parties)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    for (size_t i = 0; i < json_array_size (a); i++) {
        char where[AT_SIZE];
        snprintf (where, sizeof where, "participants[%zu]", i);
        ex_party_t *p = &m->parties[i];
        if (get_party (json_array_get (a, i), where, p, err, errsz))
            return -1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp (m->parties[j].node, p->node) == 0)
                return im_fail (EINVAL, err, errsz,
                                "%s: node %.16s... is also participants[%zu]'s", where,
                                p->node, j);
            if (strcmp (m->parties[j].name, p->name) == 0)
                return im_fail (EINVAL, err, errsz,
                                "%s: name '%s' is also participants[%zu]'s", where,
                                p->name, j);
        }
        m->nparties++;
        m->everyone |= UINT64_C (1) << i;
    }
    name_files (m);
    return 0;
}

static int
by_sent (const void *a, const void *b)
{
    const ex_inject_t *x = a, *y = b;
    if (x->sent != y->sent)
        return x->sent < y->sent ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* An inject's id and its place in the model's injects, for lookups. */
typedef struct {
    const char *id;
    size_t pos;
} ex_key_t;

static int
by_id (const void *a, const void *b)
{
    return strcmp (((const ex_key_t *)a)->id, ((const ex_key_t *)b)->id);
}

/* The index of the participant whose node is HEX, or nparties. */
static size_t
party_of (const ex_model_t *m, const char *hex)
{
    size_t p = 0;
    while (p < m->nparties && strcmp (m->parties[p].node, hex) != 0)
        p++;
    return p;
}

/* The optional member "to" of inject O at WHERE: the participants it was sent
 * to, as bits into *TO; every participant when "to" is absent. */
static int
load_to (const ex_model_t *m, const json_t *o, const char *where, uint64_t *to, char *err,
         size_t errsz)
{
    char at[AT_SIZE + 8];                       /* WHERE.to */
    size_t first[IM_EXERCISE_PARTICIPANTS_MAX]; /* each participant's place in "to" */
    const json_t *a = json_object_get (o, "to");
    *to = a ? 0 : m->everyone;
    if (!a)
        return 0;
    snprintf (at, sizeof at, "%s.to", where);
    if (!json_is_array (a))
        return im_fail (EINVAL, err, errsz,
                        "%s: must be an array of participant nodes, not %s", at,
                        type_name (a));
    size_t n = json_array_size (a);
    if (n < 1 || n > IM_EXERCISE_TO_MAX)
        return im_fail (EINVAL, err, errsz,
                        "%s: %zu nodes, where 1 to %d are allowed (without \"to\" an "
                        "inject goes to every participant)",
                        at, n, IM_EXERCISE_TO_MAX);
    for (size_t i = 0; i < n; i++) {
        char el[AT_SIZE + 32], hex[65]; /* WHERE.to[I] */
        snprintf (el, sizeof el, "%s[%zu]", at, i);
        if (node_of (json_array_get (a, i), el, hex, err, errsz))
            return -1;
        size_t p = party_of (m, hex);
        if (p == m->nparties)
            return im_fail (EINVAL, err, errsz,
                            "%s: %.16s... is not a participant of this exercise%s", el,
                            hex,
                            strcmp (hex, m->host_node) == 0 ? " (it is the host)" : "");
        if (*to & (UINT64_C (1) << p))
            return im_fail (EINVAL, err, errsz, "%s: %.16s... (%s) is also %s[%zu]", el,
                            hex, m->parties[p].name, at, first[p]);
        first[p] = i;
        *to |= UINT64_C (1) << p;
    }
    return 0;
}

size_t
ex_injects_to (const ex_model_t *m, size_t p)
{
    size_t n = 0;
    for (size_t i = 0; i < m->ninjects; i++)
        n += ex_sent_to (m, i, p);
    return n;
}

static int
load_inject (ex_model_t *m, const json_t *o, size_t i, char *err, size_t errsz)
{
    static const char *const kinds[] = { "ioc", "report" };
    char where[AT_SIZE], buf[SHOWN_SIZE];
    ex_inject_t *x = &m->injects[i];
    snprintf (where, sizeof where, "injects[%zu]", i);
    x->index = i;
    if (!json_is_object (o))
        return im_fail (EINVAL, err, errsz, "%s: must be an object, not %s", where,
                        type_name (o));
    if (get_id (o, where, "id", x->id, err, errsz)
        || get_time (o, where, "sent", &x->sent, err, errsz))
        return -1;
    if (x->sent < m->start || x->sent > m->end) {
        char t[IM_TIME_STR_SIZE], a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE];
        return im_fail (EINVAL, err, errsz,
                        "%s.sent: %s is outside the exercise (%s to %s)", where,
                        im_time_format (x->sent, t), im_time_format (m->start, a),
                        im_time_format (m->end, b));
    }
    int kind = get_choice (o, where, "kind", kinds, 2, err, errsz);
    if (kind < 0)
        return -1;
    x->kind = kinds[kind];
    x->label = get_text (o, where, "label", IM_EXERCISE_LABEL_MAX, 1, err, errsz);
    const char *tlp = x->label ? get_text (o, where, "tlp", 64, 0, err, errsz) : NULL;
    if (!tlp)
        return -1;
    int t = im_tlp_parse (tlp);
    if (t < 0)
        return im_fail (EINVAL, err, errsz,
                        "%s.tlp: '%s' is not a TLP label (clear, green, amber, "
                        "amber+strict, red)",
                        where, shown (tlp, buf));
    x->tlp = im_tlp_name (t);
    return load_to (m, o, where, &x->to, err, errsz);
}

static int
load_injects (ex_model_t *m, ex_key_t **keys, const json_t *state, char *err,
              size_t errsz)
{
    const json_t *a
        = get_array (state, "injects", 0, IM_EXERCISE_INJECTS_MAX, err, errsz);
    if (!a)
        return -1;
    size_t n = json_array_size (a);
    m->injects = calloc (n ? n : 1, sizeof *m->injects);
    *keys = calloc (n ? n : 1, sizeof **keys);
    if (!m->injects || !*keys)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (load_inject (m, json_array_get (a, i), i, err, errsz))
            return -1;
    m->ninjects = n;
    qsort (m->injects, n, sizeof *m->injects, by_sent);
    m->first_sent = n ? m->injects[0].sent : EX_NONE;
    for (size_t i = 0; i < n; i++)
        (*keys)[i] = (ex_key_t){ m->injects[i].id, i };
    qsort (*keys, n, sizeof **keys, by_id);
    for (size_t i = 1; i < n; i++)
        if (strcmp ((*keys)[i].id, (*keys)[i - 1].id) == 0) {
            size_t x = m->injects[(*keys)[i].pos].index;
            size_t y = m->injects[(*keys)[i - 1].pos].index;
            return im_fail (EINVAL, err, errsz,
                            "injects[%zu]: id %s is also injects[%zu]'s", x > y ? x : y,
                            (*keys)[i].id, x > y ? y : x);
        }
    return 0;
}

/* The participant and inject of event E (an object at WHERE). */
static int
load_event_refs (ex_model_t *m, const ex_key_t *keys, const json_t *o, const char *where,
                 ex_event_t *e, char *err, size_t errsz)
{
    char node[65], id[37];
    if (get_node (o, where, "participant", node, err, errsz))
        return -1;
    e->party = party_of (m, node);
    if (e->party == m->nparties)
        return im_fail (
            EINVAL, err, errsz,
            "%s: participant %.16s... is not a participant of this exercise%s", where,
            node, strcmp (node, m->host_node) == 0 ? " (it is the host)" : "");
    if (get_id (o, where, "inject", id, err, errsz))
        return -1;
    ex_key_t key = { id, 0 };
    const ex_key_t *k = bsearch (&key, keys, m->ninjects, sizeof *keys, by_id);
    if (!k)
        return im_fail (EINVAL, err, errsz,
                        "%s: inject %s is not an inject of this exercise", where, id);
    e->inject = k->pos;
    if (!ex_sent_to (m, e->inject, e->party))
        return im_fail (EINVAL, err, errsz,
                        "%s: inject %s was not sent to participant %.16s... (%s): its "
                        "\"to\" leaves it out",
                        where, id, node, m->parties[e->party].name);
    return 0;
}

static int
load_event (ex_model_t *m, const ex_key_t *keys, const json_t *o, size_t i, char *err,
            size_t errsz)
{
    static const char *const kinds[] = { "ack", "action" };
    char where[AT_SIZE];
    ex_event_t *e = &m->events[i];
    snprintf (where, sizeof where, "events[%zu]", i);
    e->index = i;
    if (!json_is_object (o))
        return im_fail (EINVAL, err, errsz, "%s: must be an object, not %s", where,
                        type_name (o));
    if (load_event_refs (m, keys, o, where, e, err, errsz))
        return -1;
    if ((e->kind = get_choice (o, where, "kind", kinds, 2, err, errsz)) < 0)
        return -1;
    if (e->kind == EX_ACK && json_object_get (o, "action"))
        return im_fail (EINVAL, err, errsz,
                        "%s.action: an ack has no action (only kind \"action\" has)",
                        where);
    if (e->kind == EX_ACTION
        && (e->action
            = get_choice (o, where, "action", ex_action_names, EX_ACTIONS, err, errsz))
               < 0)
        return -1;
    if (get_time (o, where, "at", &e->at, err, errsz))
        return -1;
    const ex_inject_t *x = &m->injects[e->inject];
    if (e->at < x->sent) {
        char a[IM_TIME_STR_SIZE], b[IM_TIME_STR_SIZE];
        return im_fail (EINVAL, err, errsz, "%s.at: %s is before inject %s was sent (%s)",
                        where, im_time_format (e->at, a), x->id,
                        im_time_format (x->sent, b));
    }
    json_t *note = json_object_get (o, "note");
    e->note = NULL;
    if (note && !json_is_null (note)
        && !(e->note = get_text (o, where, "note", IM_EXERCISE_NOTE_MAX, 1, err, errsz)))
        return -1;
    return 0;
}

static int
by_time (const void *a, const void *b)
{
    const ex_event_t *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int
load_events (ex_model_t *m, const ex_key_t *keys, const json_t *state, char *err,
             size_t errsz)
{
    const json_t *a = get_array (state, "events", 0, IM_EXERCISE_EVENTS_MAX, err, errsz);
    if (!a)
        return -1;
    size_t n = json_array_size (a), cells = m->nparties * (m->ninjects ? m->ninjects : 1);
    m->events = calloc (n ? n : 1, sizeof *m->events);
    m->ack = malloc (cells * sizeof *m->ack);
    m->act = malloc (cells * sizeof *m->act);
    if (!m->events || !m->ack || !m->act)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    for (size_t i = 0; i < cells; i++)
        m->ack[i] = m->act[i] = EX_NONE;
    m->axis_end = m->end;
    for (size_t i = 0; i < n; i++) {
        if (load_event (m, keys, json_array_get (a, i), i, err, errsz))
            return -1;
        const ex_event_t *e = &m->events[i];
        int64_t *cell
            = &(e->kind == EX_ACK ? m->ack : m->act)[e->party * m->ninjects + e->inject];
        if (*cell == EX_NONE || e->at < *cell)
            *cell = e->at;
        if (e->at > m->axis_end)
            m->axis_end = e->at;
    }
    m->nevents = n;
    qsort (m->events, n, sizeof *m->events, by_time);
    return 0;
}

void
ex_model_free (ex_model_t *m)
{
    if (!m)
        return;
    free (m->parties);
    free (m->injects);
    free (m->events);
    free (m->ack);
    free (m->act);
    memset (m, 0, sizeof *m);
}

int
ex_model_load (ex_model_t *m, const json_t *state, int64_t now, char *err, size_t errsz)
{
    ex_key_t *keys = NULL;
    memset (m, 0, sizeof *m);
    m->now = now;
    int rc = load_head (m, state, err, errsz);
    if (rc == 0)
        rc = load_parties (m, state, err, errsz);
    if (rc == 0)
        rc = load_injects (m, &keys, state, err, errsz);
    if (rc == 0)
        rc = load_events (m, keys, state, err, errsz);
    int saved = errno;
    free (keys);
    if (rc != 0) {
        ex_model_free (m);
        errno = saved;
    }
    return rc;
}
