/* SPDX-License-Identifier: MPL-2.0 */
/* im_policy.c -- the sharing rules of SPEC.md, "Sharing policy": the record's
 * marking first (validity, recipients, label, reach), then the partner's
 * outbound policy or this node's inbound rules for it. Each decision names
 * the first rule that applied, in words an operator can act on. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "im_name.h"
#include "im_policy.h"
#include "im_util.h"

void
im_policy_default (im_policy_t *self, const char *name)
{
    memset (self, 0, sizeof *self);
    snprintf (self->name, sizeof self->name, "%s", name ? name : IM_POLICY_DEFAULT);
    self->max_tlp = IM_TLP_GREEN;
    self->relay = 1;
}

void
im_inbound_default (im_inbound_t *self)
{
    memset (self, 0, sizeof *self);
    self->relayed = 1;
}

int
im_policy_check (const im_policy_t *self, char *err, size_t errsz)
{
    if (!self)
        return im_fail (EINVAL, err, errsz, "policy: none given");
    if (!im_name_valid (self->name))
        return im_fail (
            EINVAL, err, errsz,
            "policy name '%.64s' is not 1-64 letters, digits, '.', '_' or '-'",
            self->name);
    if (self->max_tlp < IM_TLP_CLEAR || self->max_tlp > IM_TLP_AMBER_STRICT)
        return im_fail (EINVAL, err, errsz,
                        "policy %s: max-tlp must be clear, green, amber or amber+strict "
                        "(RED goes only to named recipients)",
                        self->name);
    uint32_t known = 0;
    for (int t = 1; t < IM_TYPE_COUNT && t < 32; t++)
        known |= im_type_is_ioc (t) ? 1u << t : 0;
    uint32_t deniable
        = known | 1u << IM_TYPE_REPORT | 1u << IM_TYPE_SIGHTING | 1u << IM_TYPE_SEALED;
    if ((self->types & ~known) || (self->deny_types & ~deniable))
        return im_fail (EINVAL, err, errsz, "policy %s: a type that does not exist",
                        self->name);
    if (self->types & self->deny_types) {
        int t = 1;
        while (t < IM_TYPE_COUNT && !((self->types & self->deny_types) & (1u << t)))
            t++;
        return im_fail (EINVAL, err, errsz,
                        "policy %s: type %s is both in types and in deny-types",
                        self->name, im_type_name (t));
    }
    if (self->ntags > IM_POLICY_TAGS_MAX)
        return im_fail (EINVAL, err, errsz, "policy %s: more than %d tags", self->name,
                        IM_POLICY_TAGS_MAX);
    if (self->ndeny_tags > IM_POLICY_TAGS_MAX)
        return im_fail (EINVAL, err, errsz, "policy %s: more than %d deny-tags",
                        self->name, IM_POLICY_TAGS_MAX);
    if (self->norigins > IM_POLICY_ORIGINS_MAX)
        return im_fail (EINVAL, err, errsz, "policy %s: more than %d relay-origins",
                        self->name, IM_POLICY_ORIGINS_MAX);
    for (size_t i = 0; i < self->ntags; i++)
        for (size_t j = 0; j < self->ndeny_tags; j++)
            if (strcmp (self->tags[i], self->deny_tags[j]) == 0)
                return im_fail (EINVAL, err, errsz,
                                "policy %s: tag '%s' is both in tags and in deny-tags",
                                self->name, self->tags[i]);
    if (!self->relay && self->norigins)
        return im_fail (EINVAL, err, errsz,
                        "policy %s: relay = no contradicts relay-origins (nothing is "
                        "relayed)",
                        self->name);
    if (self->min_confidence > 100)
        return im_fail (EINVAL, err, errsz, "policy %s: min-confidence is above 100",
                        self->name);
    return 0;
}

/* --- Reading rules ------------------------------------------------------ */

/* Splits VALUE at commas, trims white space around each item and calls FN
 * on each. */
typedef int (item_fn) (const char *item, void *arg, char *err, size_t errsz);

static int
each_item (const char *key, const char *value, item_fn *fn, void *arg, char *err,
           size_t errsz)
{
    const char *p = value;
    while (*p) {
        while (*p == ',' || isspace ((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end; /* items may hold spaces, not at either end */
        while (last > p && isspace ((unsigned char)last[-1]))
            last--;
        char item[IM_TAG_MAX + 2];
        if ((size_t)(last - p) >= sizeof item)
            return im_fail (EINVAL, err, errsz, "%s: '%.40s...' is too long", key, p);
        memcpy (item, p, (size_t)(last - p));
        item[last - p] = 0;
        if (fn (item, arg, err, errsz))
            return -1;
        p = end;
    }
    return 0;
}

typedef struct {
    const char *key;
    uint32_t mask;
} types_t;

static int
type_item (const char *item, void *arg, char *err, size_t errsz)
{
    types_t *t = arg;
    int type = im_type_parse (item);
    /* deny-types may also name reports (they and their members stay here),
     * sightings and sealed envelopes' carriers. */
    int other = -1;
    for (int o = IM_TYPE_SIGHTING; o <= IM_TYPE_REPORT && type < 0; o++)
        other = strcasecmp (item, im_type_name (o)) == 0 ? o : other;
    if (type < 0 && other >= 0 && strcmp (t->key, "deny-types") == 0)
        type = other;
    if (type < 0)
        return im_fail (EINVAL, err, errsz, "%s: '%s' is not an indicator type%s", t->key,
                        item,
                        other >= 0 ? " (reports, sightings and sealed can be named in "
                                     "deny-types only)"
                                   : "");
    t->mask |= 1u << type;
    return 0;
}

static int
parse_types (const char *key, const char *value, uint32_t *mask, char *err, size_t errsz)
{
    types_t t = { key, 0 };
    if (each_item (key, value, type_item, &t, err, errsz))
        return -1;
    *mask = t.mask;
    return 0;
}

typedef struct {
    const char *key;
    size_t n;
    char (*tags)[IM_TAG_MAX + 1];
} tags_t;

static int
tag_item (const char *item, void *arg, char *err, size_t errsz)
{
    tags_t *t = arg;
    size_t len = strlen (item);
    if (len > IM_TAG_MAX || !im_utf8_valid (item, len))
        return im_fail (EINVAL, err, errsz, "%s: '%.40s' is not a tag", t->key, item);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)item[i] < 0x20 || item[i] == 0x7f || item[i] == '"')
            return im_fail (EINVAL, err, errsz,
                            "%s: '%.40s': a tag in a policy may not hold a control "
                            "character or a double quote",
                            t->key, item);
    for (size_t i = 0; i < t->n; i++)
        if (strcmp (t->tags[i], item) == 0)
            return 0;
    if (t->n >= IM_POLICY_TAGS_MAX)
        return im_fail (EINVAL, err, errsz, "%s: more than %d tags", t->key,
                        IM_POLICY_TAGS_MAX);
    snprintf (t->tags[t->n++], IM_TAG_MAX + 1, "%s", item);
    return 0;
}

static int
parse_tags (const char *key, const char *value, size_t *n, char (*tags)[IM_TAG_MAX + 1],
            char *err, size_t errsz)
{
    char (*tmp)[IM_TAG_MAX + 1] = calloc (IM_POLICY_TAGS_MAX, IM_TAG_MAX + 1);
    if (!tmp)
        return im_fail (ENOMEM, err, errsz, "out of memory");
    tags_t t = { key, 0, tmp };
    int rc = each_item (key, value, tag_item, &t, err, errsz);
    if (rc == 0) {
        memcpy (tags, tmp, (size_t)IM_POLICY_TAGS_MAX * (IM_TAG_MAX + 1));
        *n = t.n;
    }
    free (tmp);
    return rc;
}

typedef struct {
    const char *key;
    size_t n;
    uint8_t (*ids)[IM_NODE_ID_SIZE];
} origins_t;

static int
origin_item (const char *item, void *arg, char *err, size_t errsz)
{
    origins_t *o = arg;
    uint8_t id[IM_NODE_ID_SIZE];
    if (im_node_parse (item, id))
        return im_fail (EINVAL, err, errsz,
                        "%s: '%.70s' is not a node id (64 hex digits) or a peer's name",
                        o->key, item);
    for (size_t i = 0; i < o->n; i++)
        if (memcmp (o->ids[i], id, IM_NODE_ID_SIZE) == 0)
            return 0;
    if (o->n >= IM_POLICY_ORIGINS_MAX)
        return im_fail (EINVAL, err, errsz, "%s: more than %d origins", o->key,
                        IM_POLICY_ORIGINS_MAX);
    memcpy (o->ids[o->n++], id, IM_NODE_ID_SIZE);
    return 0;
}

static int
parse_origins (const char *key, const char *value, size_t *n,
               uint8_t (*ids)[IM_NODE_ID_SIZE], char *err, size_t errsz)
{
    uint8_t tmp[IM_POLICY_ORIGINS_MAX][IM_NODE_ID_SIZE];
    origins_t o = { key, 0, tmp };
    if (each_item (key, value, origin_item, &o, err, errsz))
        return -1;
    memcpy (ids, tmp, sizeof tmp);
    *n = o.n;
    return 0;
}

static int
parse_number (const char *key, const char *value, long min, long max, long *out,
              char *err, size_t errsz)
{
    char *end;
    errno = 0;
    long v = strtol (value, &end, 10);
    if (errno || end == value || *end || v < min || v > max)
        return im_fail (EINVAL, err, errsz, "%s: '%.40s' is not a number from %ld to %ld",
                        key, value, min, max);
    *out = v;
    return 0;
}

static int
parse_yes_no (const char *key, const char *value, int *out, char *err, size_t errsz)
{
    if (strcasecmp (value, "yes") == 0 || strcmp (value, "1") == 0
        || strcasecmp (value, "true") == 0)
        *out = 1;
    else if (strcasecmp (value, "no") == 0 || strcmp (value, "0") == 0
             || strcasecmp (value, "false") == 0)
        *out = 0;
    else
        return im_fail (EINVAL, err, errsz, "%s: '%.40s' is not yes or no", key, value);
    return 0;
}

int
im_policy_set (im_policy_t *self, const char *key, const char *value, char *err,
               size_t errsz)
{
    if (!self || !key || !value)
        return im_fail (EINVAL, err, errsz, "policy: missing argument");
    long n;
    if (strcmp (key, "max-tlp") == 0) {
        int tlp = im_tlp_parse (value);
        if (tlp < 0)
            return im_fail (EINVAL, err, errsz, "max-tlp: '%.40s' is not a TLP label",
                            value);
        if (tlp == IM_TLP_RED)
            return im_fail (EINVAL, err, errsz,
                            "max-tlp: red is not a ceiling (RED goes only to named "
                            "recipients); use amber+strict at most");
        self->max_tlp = (uint8_t)tlp;
        return 0;
    }
    if (strcmp (key, "types") == 0)
        return parse_types (key, value, &self->types, err, errsz);
    if (strcmp (key, "deny-types") == 0)
        return parse_types (key, value, &self->deny_types, err, errsz);
    if (strcmp (key, "tags") == 0)
        return parse_tags (key, value, &self->ntags, self->tags, err, errsz);
    if (strcmp (key, "deny-tags") == 0)
        return parse_tags (key, value, &self->ndeny_tags, self->deny_tags, err, errsz);
    if (strcmp (key, "min-confidence") == 0) {
        if (parse_number (key, value, 0, 100, &n, err, errsz))
            return -1;
        self->min_confidence = (uint8_t)n;
        return 0;
    }
    if (strcmp (key, "relay") == 0)
        return parse_yes_no (key, value, &self->relay, err, errsz);
    if (strcmp (key, "relay-origins") == 0)
        return parse_origins (key, value, &self->norigins, self->origins, err, errsz);
    return im_fail (EINVAL, err, errsz,
                    "'%.40s' is not a policy rule (max-tlp, types, deny-types, tags, "
                    "deny-tags, min-confidence, relay, relay-origins)",
                    key);
}

int
im_inbound_set (im_inbound_t *self, const char *key, const char *value, char *err,
                size_t errsz)
{
    if (!self || !key || !value)
        return im_fail (EINVAL, err, errsz, "inbound: missing argument");
    long n;
    if (strcmp (key, "accept") == 0) {
        if (strcasecmp (value, "relayed") == 0)
            self->relayed = 1;
        else if (strcasecmp (value, "own") == 0)
            self->relayed = 0;
        else
            return im_fail (EINVAL, err, errsz, "accept: '%.40s' is not relayed or own",
                            value);
        return 0;
    }
    if (strcmp (key, "accept-types") == 0)
        return parse_types (key, value, &self->types, err, errsz);
    if (strcmp (key, "accept-origins") == 0)
        return parse_origins (key, value, &self->norigins, self->origins, err, errsz);
    if (strcmp (key, "rate") == 0) {
        if (parse_number (key, value, 0, 1000000, &n, err, errsz))
            return -1;
        self->rate = (uint32_t)n;
        return 0;
    }
    if (strcmp (key, "join-exercises") == 0) {
        if (strcasecmp (value, "yes") && strcasecmp (value, "no"))
            return im_fail (EINVAL, err, errsz,
                            "join-exercises: '%.40s' is not yes or no", value);
        self->join_exercises = strcasecmp (value, "yes") == 0;
        return 0;
    }
    return im_fail (EINVAL, err, errsz,
                    "'%.40s' is not an inbound rule (accept, accept-types, "
                    "accept-origins, rate, join-exercises)",
                    key);
}

static int
tags_within (size_t na, char (*a)[IM_TAG_MAX + 1], size_t nb, char (*b)[IM_TAG_MAX + 1])
{
    for (size_t i = 0; i < na; i++) {
        int found = 0;
        for (size_t j = 0; j < nb && !found; j++)
            found = strcmp (a[i], b[j]) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

/* The same set of tags (each list may be in any order). */
static int
same_tags (size_t na, char (*a)[IM_TAG_MAX + 1], size_t nb, char (*b)[IM_TAG_MAX + 1])
{
    return na == nb && na <= IM_POLICY_TAGS_MAX && tags_within (na, a, nb, b)
           && tags_within (nb, b, na, a);
}

static int
ids_within (size_t na, const uint8_t (*a)[IM_NODE_ID_SIZE], size_t nb,
            const uint8_t (*b)[IM_NODE_ID_SIZE])
{
    for (size_t i = 0; i < na; i++) {
        int found = 0;
        for (size_t j = 0; j < nb && !found; j++)
            found = memcmp (a[i], b[j], IM_NODE_ID_SIZE) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

static int
same_ids (size_t na, const uint8_t (*a)[IM_NODE_ID_SIZE], size_t nb,
          const uint8_t (*b)[IM_NODE_ID_SIZE])
{
    return na == nb && na <= IM_POLICY_ORIGINS_MAX && ids_within (na, a, nb, b)
           && ids_within (nb, b, na, a);
}

int
im_policy_equal (const im_policy_t *a, const im_policy_t *b)
{
    if (!a || !b)
        return a == b;
    return strcmp (a->name, b->name) == 0 && a->max_tlp == b->max_tlp
           && a->types == b->types && a->deny_types == b->deny_types
           && same_tags (a->ntags, (char (*)[IM_TAG_MAX + 1]) a->tags, b->ntags,
                         (char (*)[IM_TAG_MAX + 1]) b->tags)
           && same_tags (a->ndeny_tags, (char (*)[IM_TAG_MAX + 1]) a->deny_tags,
                         b->ndeny_tags, (char (*)[IM_TAG_MAX + 1]) b->deny_tags)
           && a->min_confidence == b->min_confidence && a->relay == b->relay
           && same_ids (a->norigins, a->origins, b->norigins, b->origins);
}

int
im_inbound_equal (const im_inbound_t *a, const im_inbound_t *b)
{
    if (!a || !b)
        return a == b;
    return a->relayed == b->relayed && a->types == b->types && a->rate == b->rate
           && same_ids (a->norigins, a->origins, b->norigins, b->origins);
}

/* --- Deciding ----------------------------------------------------------- */

static int
names (const im_record_t *rec, const uint8_t *node)
{
    for (size_t i = 0; i < rec->nrecipients; i++)
        if (memcmp (rec->recipients[i], node, IM_NODE_ID_SIZE) == 0)
            return 1;
    return 0;
}

static int
listed (size_t n, const uint8_t (*ids)[IM_NODE_ID_SIZE], const uint8_t *node)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp (ids[i], node, IM_NODE_ID_SIZE) == 0)
            return 1;
    return 0;
}

static int
has_tag (const im_record_t *rec, const char *tag)
{
    for (size_t i = 0; i < rec->ntags; i++)
        if (strcmp (rec->tags[i], tag) == 0)
            return 1;
    return 0;
}

static void say (char *why, size_t whysz, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
say (char *why, size_t whysz, const char *fmt, ...)
{
    if (!why || !whysz)
        return;
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (why, whysz, fmt, ap);
    va_end (ap);
}

/* "TLP:" and TLP's name in capitals, for a reason in WHY (none: unasked). */
static void
label (int tlp, char out[24], const char *why)
{
    const char *name = why ? im_tlp_name (tlp) : NULL;
    size_t i = 0;
    memcpy (out, "TLP:", 4);
    for (; name && name[i] && i < 18; i++)
        out[4 + i] = (char)toupper ((unsigned char)name[i]);
    out[4 + i] = 0;
}

/* Rule 12: whether POL's types and deny-types stop R (the reason in WHY).
 * Types name indicator types; deny-types may also name reports, and then
 * stops their members too. */
static int
type_denied (const im_policy_t *pol, const im_record_t *r, char *why, size_t whysz)
{
    int ioc = im_type_is_ioc (r->type);
    uint32_t bit = r->type < 32 && r->type != IM_TYPE_MEMBER ? 1u << r->type : 0;
    if (r->type == IM_TYPE_MEMBER)
        bit = 1u << IM_TYPE_REPORT;
    if (!(ioc && pol->types && !(pol->types & bit)) && !(bit && (pol->deny_types & bit)))
        return 0;
    if (r->type == IM_TYPE_MEMBER)
        say (why, whysz,
             "not sent: policy '%s' does not allow reports (deny-types), nor their "
             "members",
             pol->name);
    else
        say (why, whysz, "not sent: policy '%s' does not allow type %s", pol->name,
             im_type_name (r->type) ? im_type_name (r->type) : "?");
    return 1;
}

im_share_t
im_policy_outbound (const im_share_ctx_t *c, char *why, size_t whysz)
{
    if (!c || !c->rec || !c->peer || !c->policy) {
        say (why, whysz, "not sent: nothing to decide on (missing argument)");
        return IM_SHARE_INVALID;
    }
    const im_record_t *r = c->rec;
    const im_policy_t *pol = c->policy;
    const char *peer = c->peer_name ? c->peer_name : "the peer";
    int own = c->hops == 0;
    int named = names (r, c->peer);
    char tlp[24], ceiling[24];
    label (r->tlp, tlp, why);
    label (pol->max_tlp, ceiling, why);
    if (memcmp (r->origin, c->peer, IM_NODE_ID_SIZE) == 0 && c->give_back) {
        say (why, whysz,
             "sent: %s is its origin, and gets its own indicators back (its store "
             "restarted)",
             peer);
        return IM_SHARE_YES;
    }
    if (memcmp (r->origin, c->peer, IM_NODE_ID_SIZE) == 0) {
        say (why, whysz, "not sent: %s is its origin", peer);
        return IM_SHARE_ORIGIN;
    }
    if (c->from && memcmp (c->from, c->peer, IM_NODE_ID_SIZE) == 0) {
        say (why, whysz, "not sent: this node got it from %s", peer);
        return IM_SHARE_FROM;
    }
    if (r->op == IM_OP_REVOKE && c->sent_before) {
        say (why, whysz, "sent: a revocation, and %s was sent an earlier version", peer);
        return IM_SHARE_REVOCATION;
    }
    if (r->valid_until && r->valid_until <= c->now) {
        say (why, whysz, "not sent: it expired (valid_until has passed)");
        return IM_SHARE_EXPIRED;
    }
    if (r->nrecipients && !named) {
        say (why, whysz, "not sent: it names its recipients and %s is not one of them",
             peer);
        return IM_SHARE_RECIPIENTS;
    }
    if (r->tlp >= IM_TLP_AMBER && !own) {
        say (why, whysz,
             "not sent: %s and this node is not its origin (%s goes only from the "
             "origin to its direct peers, never further)",
             tlp, tlp);
        return IM_SHARE_NOT_ORIGIN;
    }
    if (r->tlp == IM_TLP_RED && !named) {
        say (why, whysz,
             "not sent: TLP:RED and %s is not a named recipient "
             "(RED with no recipients never leaves its origin)",
             peer);
        return IM_SHARE_RED;
    }
    if (!named && r->tlp > pol->max_tlp) {
        say (why, whysz,
             "not sent: %s and %s's policy '%s' allows at most %s (name %s as a "
             "recipient to send it anyway)",
             tlp, peer, pol->name, ceiling, peer);
        return IM_SHARE_CLEARANCE;
    }
    if (r->reach != IM_REACH_UNLIMITED && (unsigned)c->hops + 1 > r->reach) {
        if (r->reach == 0)
            say (why, whysz, "not sent: reach 0 (it never leaves its origin)");
        else
            say (why, whysz,
                 "not sent: reach %u, and this node holds it %u link(s) from its origin "
                 "(as the peer it came from said: hop counts are not signed)",
                 r->reach, c->hops);
        return IM_SHARE_REACH;
    }
    if (!own && !pol->relay) {
        say (why, whysz, "not sent: policy '%s' does not relay third-party indicators",
             pol->name);
        return IM_SHARE_RELAY;
    }
    if (!own && pol->norigins && !listed (pol->norigins, pol->origins, r->origin)) {
        say (why, whysz,
             "not sent: policy '%s' relays only the indicators of the "
             "origins it lists (relay-origins), and not this one's",
             pol->name);
        return IM_SHARE_RELAY_ORIGIN;
    }
    if (type_denied (pol, r, why, whysz))
        return IM_SHARE_TYPE;
    /* Members, sightings and carriers carry no tags or confidence of their
     * own: a member or a sighting goes with its indicator (see serve). */
    int bare = r->type == IM_TYPE_MEMBER || r->type == IM_TYPE_SIGHTING
               || r->type == IM_TYPE_SEALED;
    if (pol->ntags && !bare) {
        int any = 0;
        for (size_t i = 0; i < pol->ntags && !any; i++)
            any = has_tag (r, pol->tags[i]);
        if (!any) {
            say (why, whysz,
                 "not sent: policy '%s' wants one of its tags (such as '%s') "
                 "and the indicator carries none",
                 pol->name, pol->tags[0]);
            return IM_SHARE_TAGS;
        }
    }
    for (size_t i = 0; i < pol->ndeny_tags && !bare; i++)
        if (has_tag (r, pol->deny_tags[i])) {
            say (why, whysz, "not sent: tag '%s' is denied by policy '%s'",
                 pol->deny_tags[i], pol->name);
            return IM_SHARE_DENY_TAG;
        }
    if (r->confidence < pol->min_confidence && !bare) {
        say (why, whysz, "not sent: confidence %u is below policy '%s''s minimum %u",
             r->confidence, pol->name, pol->min_confidence);
        return IM_SHARE_CONFIDENCE;
    }
    if (named)
        say (why, whysz, "sent: %s, %s is a named recipient, and policy '%s' allows it",
             tlp, peer, pol->name);
    else
        say (why, whysz, "sent: %s, and policy '%s' allows it", tlp, pol->name);
    return IM_SHARE_YES;
}

im_accept_t
im_policy_inbound (const im_accept_ctx_t *c, char *why, size_t whysz)
{
    if (!c || !c->rec || !c->peer || !c->self || !c->in) {
        say (why, whysz, "refused: nothing to decide on (missing argument)");
        return IM_ACCEPT_INVALID;
    }
    const im_record_t *r = c->rec;
    const im_inbound_t *in = c->in;
    const char *peer = c->peer_name ? c->peer_name : "the peer";
    int from_origin = memcmp (r->origin, c->peer, IM_NODE_ID_SIZE) == 0;
    char tlp[24];
    label (r->tlp, tlp, why);
    if (r->op == IM_OP_REVOKE && c->holds_earlier) {
        say (why, whysz, "accepted: a revocation of an indicator held here");
        return IM_ACCEPT_REVOCATION;
    }
    if (r->valid_until && r->valid_until <= c->now) {
        say (why, whysz, "refused: it expired (valid_until has passed)");
        return IM_ACCEPT_EXPIRED;
    }
    if (r->nrecipients && !names (r, c->self)) {
        say (why, whysz, "refused: it names its recipients and this node is not one");
        return IM_ACCEPT_RECIPIENTS;
    }
    if (r->tlp >= IM_TLP_AMBER && !c->sealed && (!from_origin || c->hops != 0)) {
        say (why, whysz, "refused: %s sent by a node that is not its origin", tlp);
        return IM_ACCEPT_NOT_ORIGIN;
    }
    if (r->tlp == IM_TLP_RED && !names (r, c->self)) {
        say (why, whysz, "refused: TLP:RED not addressed to this node");
        return IM_ACCEPT_RED;
    }
    if (r->reach != IM_REACH_UNLIMITED && c->hops + 1 > r->reach) {
        say (why, whysz,
             "refused: beyond its reach (reach %u, %u link(s) from its origin, as the "
             "sender said)",
             r->reach, c->hops + 1);
        return IM_ACCEPT_REACH;
    }
    if (!in->relayed && !from_origin) {
        say (why, whysz, "refused: %s may bring only its own indicators (accept = own)",
             peer);
        return IM_ACCEPT_OWN_ONLY;
    }
    if (in->norigins && !listed (in->norigins, in->origins, r->origin)) {
        say (why, whysz, "refused: its origin is not in accept-origins for %s", peer);
        return IM_ACCEPT_ORIGIN;
    }
    uint32_t bit = r->type < 32 ? 1u << r->type : 0;
    if (in->types && im_type_is_ioc (r->type) && !(in->types & bit)) {
        say (why, whysz, "refused: type %s is not in accept-types for %s",
             im_type_name (r->type) ? im_type_name (r->type) : "?", peer);
        return IM_ACCEPT_TYPE;
    }
    say (why, whysz, "accepted");
    return IM_ACCEPT_YES;
}

int
im_accept_violation (im_accept_t verdict)
{
    return verdict >= IM_ACCEPT_RECIPIENTS && verdict <= IM_ACCEPT_REACH;
}

const char *
im_share_name (im_share_t verdict)
{
    static const char *names_[IM_SHARE_COUNT]
        = { "sent",       "revocation",   "origin", "from",      "expired",
            "recipients", "not origin",   "red",    "clearance", "reach",
            "relay",      "relay origin", "type",   "tags",      "denied tag",
            "confidence", "invalid" };
    return (unsigned)verdict < IM_SHARE_COUNT ? names_[verdict] : NULL;
}

const char *
im_accept_name (im_accept_t verdict)
{
    static const char *names_[IM_ACCEPT_COUNT]
        = { "accepted", "revocation", "expired", "recipients", "not origin", "red",
            "reach",    "own only",   "origin",  "type",       "invalid" };
    return (unsigned)verdict < IM_ACCEPT_COUNT ? names_[verdict] : NULL;
}

/* --- Writing rules ------------------------------------------------------ */

typedef struct {
    char *out;
    size_t size, len;
    int failed;
} out_t;

static void put (out_t *o, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

static void
put (out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (o->out + o->len, o->size > o->len ? o->size - o->len : 0, fmt, ap);
    va_end (ap);
    if (n < 0 || o->len + (size_t)n >= o->size)
        o->failed = 1;
    else
        o->len += (size_t)n;
}

static void
put_types (out_t *o, int indent, const char *key, uint32_t mask)
{
    put (o, "%*s%s = \"", indent, "", key);
    const char *sep = "";
    for (int t = 1; t < IM_TYPE_COUNT; t++)
        if (mask & (1u << t)) {
            put (o, "%s%s", sep, im_type_name (t));
            sep = ",";
        }
    put (o, "\"\n");
}

static void
put_tags (out_t *o, int indent, const char *key, size_t n,
          const char (*tags)[IM_TAG_MAX + 1])
{
    put (o, "%*s%s = \"", indent, "", key);
    for (size_t i = 0; i < n; i++)
        put (o, "%s%s", i ? "," : "", tags[i]);
    put (o, "\"\n");
}

int
im_policy_format (const im_policy_t *self, int indent, char *out, size_t outsz)
{
    if (!self || (!out && outsz)) {
        errno = EINVAL;
        return -1;
    }
    if (!outsz) {
        errno = ENOSPC;
        return -1;
    }
    out_t o = { out, outsz, 0, 0 };
    if (outsz)
        out[0] = 0;
    put (&o, "%*smax-tlp = %s\n", indent, "", im_tlp_name (self->max_tlp));
    if (self->types)
        put_types (&o, indent, "types", self->types);
    if (self->deny_types)
        put_types (&o, indent, "deny-types", self->deny_types);
    if (self->ntags)
        put_tags (&o, indent, "tags", self->ntags, self->tags);
    if (self->ndeny_tags)
        put_tags (&o, indent, "deny-tags", self->ndeny_tags, self->deny_tags);
    if (self->min_confidence)
        put (&o, "%*smin-confidence = %u\n", indent, "", self->min_confidence);
    put (&o, "%*srelay = %s\n", indent, "", self->relay ? "yes" : "no");
    if (self->norigins) {
        put (&o, "%*srelay-origins = \"", indent, "");
        for (size_t i = 0; i < self->norigins; i++) {
            char hex[IM_NODE_HEX_SIZE];
            im_node_format (self->origins[i], hex);
            put (&o, "%s%s", i ? "," : "", hex);
        }
        put (&o, "\"\n");
    }
    if (o.failed) {
        errno = ENOSPC;
        return -1;
    }
    return (int)o.len;
}
