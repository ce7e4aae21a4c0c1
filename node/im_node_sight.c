/* SPDX-License-Identifier: MPL-2.0 */
/* im_node_sight.c -- this node's own records stored with their carriers
 * (each record addressed to recipients that are not direct peers is sealed
 * to them: SPEC.md, "Carrying sealed envelopes"), the SIGHT command (this
 * node saw an indicator) and SIGHTINGS (who saw one, "Sightings"). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <sodium.h>

#include "im_node_int.h"
#include "im_sight.h"
#include "im_time.h"

/* --- Carriers ----------------------------------------------------------- */

static int
is_peer (node_t *self, const uint8_t *node)
{
    for (size_t i = 0; i < self->config.npeers; i++)
        if (memcmp (self->config.peers[i].card.node, node, IM_NODE_ID_SIZE) == 0)
            return 1;
    return 0;
}

size_t
node_sealed_to (node_t *self, const im_record_t *rec, uint8_t (*out)[IM_NODE_ID_SIZE])
{
    const uint8_t *me = im_identity_node (self->identity);
    size_t n = 0;
    if (memcmp (rec->origin, me, IM_NODE_ID_SIZE) || rec->type == IM_TYPE_SEALED)
        return 0;
    for (size_t i = 0; i < rec->nrecipients; i++) {
        uint8_t x[32];
        /* A node id that is no key (a typo, a made-up id) can be sealed to
         * by nobody: no node has it, so nothing goes to it. */
        if (memcmp (rec->recipients[i], me, IM_NODE_ID_SIZE)
            && !is_peer (self, rec->recipients[i])
            && crypto_sign_ed25519_pk_to_curve25519 (x, rec->recipients[i]) == 0)
            memcpy (out[n++], rec->recipients[i], IM_NODE_ID_SIZE);
    }
    return n;
}

/* The id of the carrier of REC's version to its recipients in group GROUP:
 * a keyed hash only this node can compute again (explain finds its
 * carriers so) and a relay cannot link to REC. */
static void
carrier_id (node_t *self, const im_record_t *rec, size_t group, uint8_t id[IM_ID_SIZE])
{
    uint8_t in[IM_NODE_ID_SIZE + IM_ID_SIZE + 8 + 1];
    memcpy (in, rec->origin, IM_NODE_ID_SIZE);
    memcpy (in + IM_NODE_ID_SIZE, rec->id, IM_ID_SIZE);
    for (int i = 0; i < 8; i++)
        in[IM_NODE_ID_SIZE + IM_ID_SIZE + i] = (uint8_t)(rec->version >> (56 - 8 * i));
    in[sizeof in - 1] = (uint8_t)group;
    crypto_generichash (id, IM_ID_SIZE, in, sizeof in,
                        im_identity_sign_secret (self->identity), 32);
    id[6] = (uint8_t)((id[6] & 0x0F) | 0x80); /* a UUID of version 8 */
    id[8] = (uint8_t)((id[8] & 0x3F) | 0x80);
}

int
node_carrier_id (node_t *self, const im_record_t *rec, size_t group,
                 uint8_t id[IM_ID_SIZE])
{
    if (group * IM_SEAL_SLOTS >= IM_RECIPIENTS_MAX)
        return -1;
    carrier_id (self, rec, group, id);
    return 0;
}

/* Makes the carriers of ITEM (this node's, signed) into RECS from *N on.
 * Returns 0 or -1 with the reason. */
static int
carriers_of (node_t *self, const im_store_item_t *item, im_record_t *recs, size_t *n,
             char *err, size_t errsz)
{
    uint8_t to[IM_RECIPIENTS_MAX][IM_NODE_ID_SIZE];
    size_t k = node_sealed_to (self, item->rec, to);
    int64_t now = im_time_now ();
    for (size_t at = 0, group = 0; at < k; at += IM_SEAL_SLOTS, group++) {
        im_record_t *c = &recs[(*n)++];
        im_record_init (c);
        memcpy (c->origin, im_identity_node (self->identity), IM_NODE_ID_SIZE);
        carrier_id (self, item->rec, group, c->id);
        c->created = c->modified = now;
        if (im_carrier_make (c, item->blob, item->len, item->rec->reach,
                             item->rec->valid_until, now, to + at,
                             k - at < IM_SEAL_SLOTS ? k - at : IM_SEAL_SLOTS, err, errsz))
            return -1;
    }
    return 0;
}

/* Encodes and signs N records of this node held in RECS into BLOBS
 * (IM_RECORD_MAX each) and ITEMS, each alone: members and sightings go where
 * the indicator they name goes, sightings and exercise records to their own
 * recipients, carriers where their reach lets them, so records signed
 * together here would reach a peer in part, and tell it how many it was not
 * given (review 103). These are a few records a request, not bulk. */
static int
sign_all (node_t *self, im_record_t *recs, size_t n, uint8_t *blobs,
          im_store_item_t *items, char *err, size_t errsz)
{
    for (size_t i = 0; i < n; i++) {
        items[i].blob = blobs + i * IM_RECORD_MAX;
        items[i].rec = &recs[i];
        if (im_record_encode (&recs[i], blobs + i * IM_RECORD_MAX, IM_RECORD_MAX,
                              &items[i].len, err, errsz))
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = (uint8_t *)items[i].blob;
        if (im_record_seal (&r, &items[i].len, 1,
                            im_identity_sign_secret (self->identity), err, errsz))
            return -1;
        self->sealed++;
    }
    return 0;
}

int
node_store_sealed (node_t *self, im_store_item_t *items, size_t n, int *stored, char *err,
                   size_t errsz)
{
    uint8_t to[IM_RECIPIENTS_MAX][IM_NODE_ID_SIZE];
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = node_sealed_to (self, items[i].rec, to);
        c += (k + IM_SEAL_SLOTS - 1) / IM_SEAL_SLOTS;
    }
    if (c == 0)
        return im_store_put_batch (self->store, items, n, stored, err, errsz);
    im_record_t *recs = calloc (c, sizeof *recs);
    uint8_t *blobs = malloc (c * IM_RECORD_MAX);
    im_store_item_t *all = calloc (n + c, sizeof *all);
    int *res = calloc (n + c, sizeof *res);
    int rc = recs && blobs && all && res ? 0 : -1;
    if (rc)
        snprintf (err, errsz, "out of memory");
    size_t made = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = carriers_of (self, &items[i], recs, &made, err, errsz);
    if (rc == 0)
        rc = sign_all (self, recs, made, blobs, all + n, err, errsz);
    if (rc == 0) {
        memcpy (all, items, n * sizeof *all);
        rc = im_store_put_batch (self->store, all, n + made, res, err, errsz);
        if (rc >= 0) {
            memcpy (stored, res, n * sizeof *stored);
            self->carriers += made;
        }
    }
    free (recs);
    free (blobs);
    free (all);
    free (res);
    return rc;
}

int
node_store_own (node_t *self, im_record_t *recs, size_t n, char *err, size_t errsz)
{
    uint8_t *blobs = malloc ((n ? n : 1) * IM_RECORD_MAX);
    im_store_item_t *items = calloc (n ? n : 1, sizeof *items);
    int *stored = calloc (n ? n : 1, sizeof *stored);
    int rc = blobs && items && stored ? 0 : -1;
    if (rc)
        snprintf (err, errsz, "out of memory");
    if (rc == 0 && n)
        rc = sign_all (self, recs, n, blobs, items, err, errsz);
    if (rc == 0 && n && node_store_sealed (self, items, n, stored, err, errsz) < 0) {
        self->store_failed = 1;
        zsys_error ("%s", err);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (stored[i] != IM_STORE_STALE) {
            node_pub_record (self, &recs[i]);
            self->published += recs[i].op == IM_OP_PUT;
            self->revoked += recs[i].op == IM_OP_REVOKE;
        }
    if (rc == 0 && n)
        im_mesh_changed (self->mesh);
    free (blobs);
    free (items);
    free (stored);
    return rc;
}

/* --- SIGHT -------------------------------------------------------------- */

/* Whether W, a word of a note, is an IP or e-mail address; so are its part
 * after a "key:" (ip:, mailto:) and its part before a ":port". */
static int
address (const char *w)
{
    static const int kinds[] = { IM_TYPE_IPV4, IM_TYPE_IPV6, IM_TYPE_EMAIL };
    char parts[3][IM_VALUE_MAX + 1], canon[IM_VALUE_MAX + 1];
    const char *colon = strchr (w, ':'), *last = strrchr (w, ':');
    snprintf (parts[0], sizeof parts[0], "%s", w);
    snprintf (parts[1], sizeof parts[1], "%s", colon ? colon + 1 : "");
    snprintf (parts[2], sizeof parts[2], "%.*s", (int)(last ? last - w : 0), w);
    if (!last || !last[1] || strspn (last + 1, "0123456789") != strlen (last + 1))
        parts[2][0] = 0; /* not a port */
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; parts[i][0] && k < sizeof kinds / sizeof *kinds; k++)
            if (im_ioc_normalise (kinds[k], parts[i], canon, sizeof canon, NULL, 0) == 0)
                return 1;
    return 0;
}

/* Whether TEXT holds what may be personal data: a word that is an IP or
 * e-mail address, also defanged ("[.]", "[@]") or after a "key=". The word
 * goes to WORD (WSZ bytes). */
static int
personal (const char *text, char *word, size_t wsz)
{
    char plain[IM_SIGHT_NOTE_MAX + 1];
    size_t n = 0;
    for (const char *t = text; *t && n < IM_SIGHT_NOTE_MAX; t++) {
        int fang = (t[0] == '[' || t[0] == '(') && (t[1] == '.' || t[1] == '@')
                   && t[2] == (t[0] == '[' ? ']' : ')');
        plain[n++] = fang ? t[1] : *t;
        t += fang ? 2 : 0;
    }
    plain[n] = 0;
    const char *p = plain, *sep = " \t\n,;()[]<>\"'=";
    while (*p) {
        p += strspn (p, sep);
        n = strcspn (p, sep);
        if (n == 0)
            break;
        char w[IM_VALUE_MAX + 1];
        snprintf (w, sizeof w, "%.*s", (int)(n < IM_VALUE_MAX ? n : IM_VALUE_MAX), p);
        size_t wl = strlen (w);
        while (wl && (w[wl - 1] == '.' || w[wl - 1] == ':'))
            w[--wl] = 0; /* the end of a sentence */
        if (wl && address (w)) {
            snprintf (word, wsz, "%s", w);
            return 1;
        }
        p += n;
    }
    return 0;
}

/* A time of SIGHT at T: as PUBLISH takes one, or "-N" and a unit (s, m, h,
 * d, w): that long before NOW. Returns 0 or -1. */
static int
sight_time (const char *t, int64_t now, int64_t *at)
{
    int64_t ago = 0;
    if (t[0] != '-')
        return im_time_parse (t, now, at);
    /* A duration: digits and a unit, shorter than a date. */
    if (!isdigit ((unsigned char)t[1]) || strlen (t) > 9
        || im_time_parse (t + 1, 0, &ago))
        return -1;
    *at = now - ago;
    return 0;
}

/* The sighting one SIGHT item makes in S from the indicator IND, on top of
 * this node's earlier one PREV (NULL: none). Returns 0 or -1 (reason). */
static int
sight_fill (node_t *self, const json_t *item, int share, const im_record_t *ind,
            const im_record_t *prev, im_record_t *s, char *err, size_t errsz)
{
    const json_t *count = json_object_get (item, "count");
    const char *source = json_string_value (json_object_get (item, "source"));
    const json_t *note = json_object_get (item, "note");
    int64_t now = im_time_now ();
    im_sight_t sg = { 1, now, now, IM_SOURCE_SENSOR }, old;
    if (count
        && (!json_is_integer (count) || json_integer_value (count) < 1
            || json_integer_value (count) > IM_SIGHT_COUNT_MAX))
        return im_fail (EINVAL, err, errsz, "count must be a whole number from 1 to %u",
                        IM_SIGHT_COUNT_MAX);
    if (count)
        sg.count = (uint32_t)json_integer_value (count);
    if (source && !(sg.source = (uint8_t)im_source_from_name (source)))
        return im_fail (EINVAL, err, errsz,
                        "source '%.32s' is not one of sensor, incident, honeypot, "
                        "analyst, other",
                        source);
    const char *times[2] = { "first_seen", "last_seen" };
    int64_t *at[2] = { &sg.first_seen, &sg.last_seen };
    for (int i = 0; i < 2; i++) {
        const char *t = json_string_value (json_object_get (item, times[i]));
        if (t && (sight_time (t, now, at[i]) || *at[i] <= 0 || *at[i] > now + 300))
            return im_fail (EINVAL, err, errsz,
                            "%s '%.40s' is not a time (RFC 3339, or -2h), or is in the "
                            "future",
                            times[i], t);
    }
    if (json_object_get (item, "first_seen") && !json_object_get (item, "last_seen"))
        sg.last_seen = sg.first_seen > now ? sg.first_seen : now;
    if (json_object_get (item, "last_seen") && !json_object_get (item, "first_seen"))
        sg.first_seen = sg.last_seen; /* seen once, then */
    if (sg.first_seen > sg.last_seen)
        return im_fail (EINVAL, err, errsz, "first_seen is after last_seen");
    char word[IM_VALUE_MAX + 1];
    const char *ntext = json_string_value (note);
    if (note && (!ntext || json_string_length (note) > IM_SIGHT_NOTE_MAX))
        return im_fail (EINVAL, err, errsz, "note must be text of at most %d bytes",
                        IM_SIGHT_NOTE_MAX);
    if (ntext && personal (ntext, word, sizeof word))
        return im_fail (EINVAL, err, errsz,
                        "the note holds '%.64s', an address: a sighting never carries "
                        "personal data (say what was seen, not who or where)",
                        word);
    int live = prev && prev->op == IM_OP_PUT && im_sight_get (prev, &old) == 0;
    if (live) {
        uint64_t total = (uint64_t)old.count + sg.count;
        sg.count = total > IM_SIGHT_COUNT_MAX ? IM_SIGHT_COUNT_MAX : (uint32_t)total;
        sg.first_seen = old.first_seen < sg.first_seen ? old.first_seen : sg.first_seen;
        sg.last_seen = old.last_seen > sg.last_seen ? old.last_seen : sg.last_seen;
        if (!source)
            sg.source = old.source;
    }
    const uint8_t *me = im_identity_node (self->identity);
    char value[IM_SIGHTING_VALUE_SIZE];
    im_sighting_value (ind->origin, ind->id, value);
    im_record_init (s);
    memcpy (s->origin, me, IM_NODE_ID_SIZE);
    im_sighting_id (value, s->id);
    s->version = prev ? prev->version + 1 : 1;
    s->type = IM_TYPE_SIGHTING;
    strcpy (s->value, value);
    s->created = prev ? prev->created : now;
    s->modified = now;
    s->no_detect = 1;
    snprintf (s->description, sizeof s->description, "%s",
              ntext  ? ntext
              : live ? prev->description
                     : "");
    int own = memcmp (ind->origin, me, IM_NODE_ID_SIZE) == 0;
    if (share) {
        /* Where the indicator goes, and to its origin (SPEC, "Sightings"). */
        s->tlp = ind->tlp;
        s->reach = ind->reach;
        s->nrecipients = ind->nrecipients;
        memcpy (s->recipients, ind->recipients, ind->nrecipients * IM_NODE_ID_SIZE);
    }
    else {
        s->tlp = IM_TLP_RED;
        s->reach = IM_REACH_UNLIMITED;
    }
    if (!own && (!share || s->nrecipients) && s->nrecipients < IM_RECIPIENTS_MAX) {
        int named = 0;
        for (size_t i = 0; i < s->nrecipients && !named; i++)
            named = memcmp (s->recipients[i], ind->origin, IM_NODE_ID_SIZE) == 0;
        if (!named)
            memcpy (s->recipients[s->nrecipients++], ind->origin, IM_NODE_ID_SIZE);
    }
    uint8_t data[IM_SIGHT_EXT_SIZE];
    im_sight_encode (&sg, data);
    if (im_record_add_ext (s, IM_EXT_SIGHTING, data, sizeof data, err, errsz))
        return -1;
    return im_record_check (s, err, errsz);
}

/* SIGHT: {"items": [{"id", "count", "source", "note", "first_seen",
 * "last_seen"}...], "share": bool}. */
json_t *
node_handle_sight (node_t *self, json_t *body, char *err, size_t errsz)
{
    json_t *items = json_object_get (body, "items");
    const json_t *share = json_object_get (body, "share");
    size_t n = json_array_size (items);
    if (!json_is_array (items) || n < 1 || n > IM_CONTROL_BATCH_MAX) {
        snprintf (err, errsz, "'items' must be an array of 1 to %d sightings",
                  IM_CONTROL_BATCH_MAX);
        return NULL;
    }
    if (share && !json_is_boolean (share)) {
        snprintf (err, errsz, "'share' must be true or false");
        return NULL;
    }
    im_record_t *ind = malloc (sizeof *ind), *prev = malloc (sizeof *prev);
    im_record_t *recs = calloc (n, sizeof *recs);
    json_t *results = json_array ();
    size_t k = 0;
    int rc = ind && prev && recs && results ? 0 : -1;
    if (rc)
        snprintf (err, errsz, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *item = json_array_get (items, i);
        const char *text = json_string_value (json_object_get (item, "id"));
        char why[512], id[IM_ID_STR_SIZE];
        int r = json_is_object (item)
                    ? node_find_held (self, text, 0, ind, why, sizeof why)
                    : im_fail (EINVAL, why, sizeof why, "a sighting must be an object");
        if (r == 0) {
            char value[IM_SIGHTING_VALUE_SIZE];
            uint8_t sid[IM_ID_SIZE];
            im_sighting_value (ind->origin, ind->id, value);
            im_sighting_id (value, sid);
            /* A sighting made in this same request counts on top of it. */
            const im_record_t *before = NULL;
            for (size_t j = k; j-- > 0 && !before;)
                if (memcmp (recs[j].id, sid, IM_ID_SIZE) == 0)
                    before = &recs[j];
            if (!before
                && im_store_get (self->store, im_identity_node (self->identity), sid,
                                 prev)
                       == 0)
                before = prev;
            r = sight_fill (self, item, json_is_true (share), ind, before, &recs[k], why,
                            sizeof why);
        }
        if (r == 0)
            im_id_format (recs[k].id, id);
        json_array_append_new (
            results, r ? json_pack ("{s:s, s:s}", "id", text ? text : "", "error", why)
                       : json_pack ("{s:s, s:s, s:I}", "id", text, "sighting", id,
                                    "version", (json_int_t)recs[k].version));
        k += r == 0;
    }
    json_t *reply = NULL;
    if (rc == 0 && node_store_own (self, recs, k, err, errsz) == 0) {
        self->sighted += k;
        reply = json_pack ("{s:O}", "results", results);
    }
    json_decref (results);
    free (ind);
    free (prev);
    free (recs);
    return reply;
}

/* --- SIGHTINGS ---------------------------------------------------------- */

#define SIGHTINGS_MAX 1000 /* sightings of one indicator shown */

typedef struct {
    node_t *self;
    json_t *list;
    uint64_t total;
} seen_t;

static int
seen_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    seen_t *s = arg;
    im_sight_t sg;
    char by[IM_NODE_HEX_SIZE], first[IM_TIME_STR_SIZE], last[IM_TIME_STR_SIZE],
        modified[IM_TIME_STR_SIZE];
    if (rec->op != IM_OP_PUT || im_sight_get (rec, &sg))
        return 0;
    im_node_format (rec->origin, by);
    const char *name = node_origin_name (s->self, rec->origin);
    s->total += sg.count;
    json_array_append_new (
        s->list, json_pack ("{s:s, s:s?, s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "by",
                            by, "by_name", name, "count", (json_int_t)sg.count,
                            "first_seen", im_time_format (sg.first_seen, first),
                            "last_seen", im_time_format (sg.last_seen, last), "source",
                            im_source_name (sg.source), "note", rec->description, "tlp",
                            im_tlp_name (rec->tlp), "shared", rec->tlp != IM_TLP_RED,
                            "modified", im_time_format (rec->modified, modified)));
    return 0;
}

/* SIGHTINGS: {"id": INDICATOR}: the sightings of it held here. */
json_t *
node_handle_sightings (node_t *self, json_t *body, char *err, size_t errsz)
{
    im_record_t *ind = malloc (sizeof *ind);
    json_t *reply = NULL;
    seen_t s = { self, json_array (), 0 };
    if (!ind || !s.list)
        snprintf (err, errsz, "out of memory");
    else if (node_find_held (self, json_string_value (json_object_get (body, "id")), 0,
                             ind, err, errsz)
             == 0) {
        char value[IM_SIGHTING_VALUE_SIZE], origin[IM_NODE_HEX_SIZE];
        im_sighting_value (ind->origin, ind->id, value);
        im_node_format (ind->origin, origin);
        if (im_store_value_prefix (self->store, IM_TYPE_SIGHTING, value, SIGHTINGS_MAX,
                                   seen_fn, &s)
            < 0)
            snprintf (err, errsz, "store: %s", strerror (errno));
        else
            reply = json_pack ("{s:{s:s, s:s?, s:s, s:s, s:s}, s:O, s:I}", "indicator",
                               "origin", origin, "origin_name",
                               node_origin_name (self, ind->origin), "type",
                               im_type_name (ind->type), "value", ind->value, "tlp",
                               im_tlp_name (ind->tlp), "sightings", s.list, "total",
                               (json_int_t)s.total);
    }
    json_decref (s.list);
    free (ind);
    return reply;
}

typedef struct {
    uint64_t n, count;
} totals_t;

static int
totals_fn (const im_record_t *rec, const uint8_t *blob, size_t len, void *arg)
{
    (void)blob, (void)len;
    totals_t *t = arg;
    im_sight_t sg;
    if (rec->op == IM_OP_PUT && im_sight_get (rec, &sg) == 0) {
        t->n++;
        t->count += sg.count;
    }
    return 0;
}

#define SIGHT_TOTALS_MAX 1000000 /* sightings a STATUS counts, at most */

json_t *
node_sight_status (node_t *self, const im_store_stats_t *st)
{
    char me[IM_NODE_HEX_SIZE + 1];
    im_node_format (im_identity_node (self->identity), me);
    strcat (me, "/");
    totals_t t = { 0, 0 };
    im_store_value_prefix (self->store, IM_TYPE_SIGHTING, me, SIGHT_TOTALS_MAX, totals_fn,
                           &t);
    uint64_t held = 0, carriers = 0;
    for (int l = 1; l < IM_TLP_COUNT; l++) {
        held += st->live[IM_TYPE_SIGHTING][l];
        carriers += st->live[IM_TYPE_SEALED][l];
    }
    uint64_t opened = 0, unreadable = 0;
    im_mesh_sealed (self->mesh, &opened, &unreadable);
    return json_pack ("{s:{s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I}}", "sightings",
                      "of_own_indicators", (json_int_t)t.n, "of_own_count",
                      (json_int_t)t.count, "held", (json_int_t)held, "made_here",
                      (json_int_t)self->sighted, "sealed", "carriers_held",
                      (json_int_t)carriers, "carriers_made", (json_int_t)self->carriers,
                      "opened", (json_int_t)opened, "unreadable", (json_int_t)unreadable);
}

/* --- EXPLAIN ------------------------------------------------------------ */

void
node_explain_sealed (node_t *self, const uint8_t *origin, const uint8_t *id,
                     const char *peer, json_t *o)
{
    uint8_t to[IM_RECIPIENTS_MAX][IM_NODE_ID_SIZE];
    im_record_t *rec = malloc (sizeof *rec);
    size_t k = rec && im_store_get (self->store, origin, id, rec) == 0
                   ? node_sealed_to (self, rec, to)
                   : 0;
    json_t *names = json_array (), *carriers = json_array ();
    size_t going = 0;
    for (size_t i = 0; names && i < k; i++) {
        char hex[IM_NODE_HEX_SIZE];
        im_node_format (to[i], hex);
        json_array_append_new (names, json_string (hex));
    }
    for (size_t g = 0; carriers && g * IM_SEAL_SLOTS < k; g++) {
        uint8_t cid[IM_ID_SIZE];
        char idtext[IM_ID_STR_SIZE], err[256];
        node_carrier_id (self, rec, g, cid);
        im_id_format (cid, idtext);
        json_t *e = im_mesh_explain (self->mesh, origin, cid, peer, err, sizeof err);
        going += json_is_true (json_object_get (e, "shared"));
        json_array_append_new (
            carriers, json_pack ("{s:s, s:b, s:O?}", "id", idtext, "held", e != NULL,
                                 "why", e ? json_object_get (e, "why") : NULL));
        json_decref (e);
    }
    if (k && names && carriers) {
        char why[512];
        snprintf (why, sizeof why,
                  "sealed to %zu recipient(s) that are not direct peers: %zu of its %zu "
                  "carrier(s) go to %s, an envelope only those recipients open (a relay "
                  "learns its size and that it is sealed, not what or to whom)",
                  k, going, json_array_size (carriers), peer);
        json_object_set_new (
            o, "sealed",
            json_pack ("{s:O, s:O, s:s}", "to", names, "carriers", carriers, "why", why));
    }
    json_decref (names);
    json_decref (carriers);
    free (rec);
}
