/* SPDX-License-Identifier: MPL-2.0 */
/* test_policy.c -- unit tests for lib/im_policy.c: argument checks, the
 * built-in defaults, contradictions im_policy_check refuses, rules set from
 * their configuration form, equality, every rule of the outbound and inbound
 * lists of SPEC.md "Sharing policy" (in order, with the cases where an earlier
 * rule decides before a later one), verdict names, and formatting a policy
 * back into the configuration form. Prints TAP. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>

#include "im_policy.h"
#include "im_record.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))
#define BIT(t) (UINT32_C (1) << (t))
#define NOW INT64_C (1700000000)
#define NAME_64 "a123456789b123456789c123456789d123456789e123456789f123456789g123"

/* --- Node ids ----------------------------------------------------------- */

/* This node, a third-party origin, the peer (bob), another node that differs
 * from the peer only in its last byte, and a peer that differs from it only in
 * its first byte (the one records came from). */
static uint8_t SELF[IM_NODE_ID_SIZE], ORIGIN[IM_NODE_ID_SIZE], PEER[IM_NODE_ID_SIZE],
    OTHER[IM_NODE_ID_SIZE], FROM[IM_NODE_ID_SIZE];
static char SELF_HEX[IM_NODE_HEX_SIZE], ORIGIN_HEX[IM_NODE_HEX_SIZE],
    PEER_HEX[IM_NODE_HEX_SIZE], OTHER_HEX[IM_NODE_HEX_SIZE];

static void
make_id (uint8_t id[IM_NODE_ID_SIZE], uint8_t seed)
{
    for (size_t i = 0; i < IM_NODE_ID_SIZE; i++)
        id[i] = (uint8_t)(seed + 7 * i);
}

static void
make_ids (void)
{
    make_id (SELF, 0x11);
    make_id (ORIGIN, 0x22);
    make_id (PEER, 0x33);
    memcpy (OTHER, PEER, IM_NODE_ID_SIZE);
    OTHER[IM_NODE_ID_SIZE - 1] ^= 0xff;
    memcpy (FROM, PEER, IM_NODE_ID_SIZE);
    FROM[0] ^= 0xff;
    im_node_format (SELF, SELF_HEX);
    im_node_format (ORIGIN, ORIGIN_HEX);
    im_node_format (PEER, PEER_HEX);
    im_node_format (OTHER, OTHER_HEX);
}

/* --- Helpers ------------------------------------------------------------ */

static int
starts_with (const char *s, const char *prefix)
{
    return s && strncmp (s, prefix, strlen (prefix)) == 0;
}

/* True when S contains one of the '|'-separated ALTERNATIVES (case matters:
 * "TLP:AMBER" is the form the reasons use). NULL ALTERNATIVES: true. */
static int
mentions (const char *s, const char *alternatives)
{
    char alt[128], *save = NULL;
    if (!alternatives)
        return 1;
    snprintf (alt, sizeof alt, "%s", alternatives);
    for (char *w = strtok_r (alt, "|", &save); w; w = strtok_r (NULL, "|", &save))
        if (strstr (s, w))
            return 1;
    return 0;
}

/* N comma-separated items PREFIX1, PREFIX2 ... PREFIXN, in BUF. */
static char *
list_of (char *buf, size_t bufsz, size_t n, const char *prefix)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 1; i <= n && o < bufsz; i++) {
        if (i > 1)
            o += (size_t)snprintf (buf + o, bufsz - o, ",");
        o += (size_t)snprintf (buf + o, bufsz - o, "%s%zu", prefix, i);
    }
    return buf;
}

/* N distinct node ids in hex, comma-separated, in BUF. */
static char *
origins_of (char *buf, size_t bufsz, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o < bufsz; i++) {
        uint8_t id[IM_NODE_ID_SIZE];
        char hex[IM_NODE_HEX_SIZE];
        make_id (id, (uint8_t)(0x80 + i));
        im_node_format (id, hex);
        o += (size_t)snprintf (buf + o, bufsz - o, "%s%s", i ? "," : "", hex);
    }
    return buf;
}

/* The `partners` policy of the example in SPEC.md. */
static void
partners (im_policy_t *p)
{
    im_policy_default (p, "partners");
    p->max_tlp = IM_TLP_AMBER;
    p->types = BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_IPV6) | BIT (IM_TYPE_DOMAIN)
               | BIT (IM_TYPE_URL);
    p->ndeny_tags = 1;
    strcpy (p->deny_tags[0], "internal");
    p->min_confidence = 50;
    p->relay = 1;
}

/* --- Bad arguments ------------------------------------------------------ */

/* Decisions and formats with a missing argument. Each case returns 0 when
 * the function refused (and did not crash). */
enum { NULL_CASES = 10 };
static const char *null_case_what[NULL_CASES] = {
    "outbound: no context, not sent",
    "outbound: no record, not sent",
    "outbound: no peer id, not sent",
    "outbound: no policy, not sent",
    "outbound: a missing peer name changes nothing but the words: sent",
    "inbound: no context, not held",
    "inbound: no record, not held",
    "inbound: no own id, for a record naming recipients, not held",
    "inbound: no peer id, not held",
    "policy_format refuses a NULL policy",
};

static int
null_case (int i)
{
    static im_record_t rec;
    static im_policy_t p;
    static im_inbound_t in;
    char why[256];

    im_policy_default (&p, "partners");
    im_inbound_default (&in);
    im_record_init (&rec);
    memcpy (rec.origin, SELF, IM_NODE_ID_SIZE);
    rec.type = IM_TYPE_DOMAIN;
    strcpy (rec.value, "evil.example");
    im_share_ctx_t o = { .rec = &rec,
                         .hops = 0,
                         .from = NULL,
                         .peer = PEER,
                         .peer_name = "bob",
                         .policy = &p,
                         .now = NOW };
    im_accept_ctx_t a = { .rec = &rec,
                          .hops = 0,
                          .self = SELF,
                          .peer = PEER,
                          .peer_name = "bob",
                          .in = &in,
                          .now = NOW };
    im_share_t s = IM_SHARE_YES;
    im_accept_t v = IM_ACCEPT_YES;
    switch (i) {
    case 0: s = im_policy_outbound (NULL, why, sizeof why); break;
    case 1:
        o.rec = NULL;
        s = im_policy_outbound (&o, why, sizeof why);
        break;
    case 2:
        o.peer = NULL;
        s = im_policy_outbound (&o, why, sizeof why);
        break;
    case 3:
        o.policy = NULL;
        s = im_policy_outbound (&o, why, sizeof why);
        break;
    case 4:
        o.peer_name = NULL;
        return im_policy_outbound (&o, why, sizeof why) == IM_SHARE_YES ? 0 : 1;
    case 5: v = im_policy_inbound (NULL, why, sizeof why); break;
    case 6:
        a.rec = NULL;
        v = im_policy_inbound (&a, why, sizeof why);
        break;
    case 7:
        /* This node's id is needed once the record names recipients. */
        memcpy (rec.recipients[rec.nrecipients++], SELF, IM_NODE_ID_SIZE);
        a.self = NULL;
        v = im_policy_inbound (&a, why, sizeof why);
        break;
    case 8:
        a.peer = NULL;
        v = im_policy_inbound (&a, why, sizeof why);
        break;
    case 9: return im_policy_format (NULL, 4, why, sizeof why) == -1 ? 0 : 1;
    }
    if (i < 5)
        return s != IM_SHARE_YES && s != IM_SHARE_REVOCATION ? 0 : 1;
    return v != IM_ACCEPT_YES && v != IM_ACCEPT_REVOCATION ? 0 : 1;
}

/* Runs null_case (I) in a child process. Returns its exit status, or 128 plus
 * the signal that killed it. */
static int
in_child (int i)
{
    fflush (stdout);
    pid_t pid = fork ();
    if (pid < 0)
        BAIL_OUT ("fork: %s", strerror (errno));
    if (pid == 0)
        _exit (null_case (i));
    int status = 0;
    if (waitpid (pid, &status, 0) != pid)
        return -1;
    if (WIFSIGNALED (status))
        return 128 + WTERMSIG (status);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_bad_arguments (void)
{
    im_policy_t p;
    im_inbound_t in;
    char err[256];
    int rc;

    im_policy_default (&p, "partners");
    im_inbound_default (&in);

    errno = 0;
    rc = im_policy_check (NULL, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "policy_check refuses a NULL policy");

    errno = 0;
    rc = im_policy_set (NULL, "max-tlp", "amber", err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "policy_set refuses a NULL policy");
    errno = 0;
    rc = im_policy_set (&p, NULL, "amber", err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "policy_set refuses a NULL key");
    errno = 0;
    rc = im_policy_set (&p, "max-tlp", NULL, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "policy_set refuses a NULL value");
    errno = 0;
    rc = im_policy_set (&p, "max-tlp", "red", NULL, 0);
    ok (rc == -1 && errno == EINVAL,
        "policy_set refuses max-tlp=red with no error buffer");
    errno = 0;
    strcpy (err, "untouched");
    rc = im_policy_set (&p, "max-tlp", "red", err, 0);
    ok (rc == -1 && errno == EINVAL,
        "policy_set refuses max-tlp=red with an error size of 0");
    is (err, "untouched", "an error buffer of size 0 is not written");
    errno = 0;
    rc = im_policy_set (&p, "max-tlp", "red", err, 16);
    ok (rc == -1 && errno == EINVAL && strlen (err) < 16,
        "a short error buffer gets a truncated, terminated reason");

    errno = 0;
    rc = im_inbound_set (NULL, "rate", "10", err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "inbound_set refuses a NULL rule");
    errno = 0;
    rc = im_inbound_set (&in, NULL, "10", err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "inbound_set refuses a NULL key");
    errno = 0;
    rc = im_inbound_set (&in, "rate", NULL, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "inbound_set refuses a NULL value");
    errno = 0;
    rc = im_inbound_set (&in, "rate", "fast", NULL, 0);
    ok (rc == -1 && errno == EINVAL,
        "inbound_set refuses rate=fast with no error buffer");

    errno = 0;
    rc = im_policy_format (&p, 4, NULL, 0);
    ok (rc == -1 && errno == ENOSPC, "policy_format into no buffer is ENOSPC");

    /* A decision or a format with something missing: refused, in a child so
     * that a crash is one failed test. */
    for (int i = 0; i < NULL_CASES; i++) {
        int status = in_child (i);
        ok (status == 0, "%s", null_case_what[i]);
        if (status >= 128)
            diag ("the child was killed by signal %d", status - 128);
    }
}

/* --- Defaults ----------------------------------------------------------- */

static void
test_defaults (void)
{
    im_policy_t p;
    im_inbound_t in;
    char err[256];

    memset (&p, 0xa5, sizeof p);
    im_policy_default (&p, "partners");
    is (p.name, "partners", "policy_default names the policy");
    cmp_ok (p.max_tlp, "==", IM_TLP_GREEN, "the default max-tlp is green");
    cmp_ok (p.types, "==", 0, "the default policy sends every type");
    cmp_ok (p.deny_types, "==", 0, "the default policy denies no type");
    cmp_ok (p.ntags, "==", 0, "the default policy requires no tag");
    cmp_ok (p.ndeny_tags, "==", 0, "the default policy denies no tag");
    cmp_ok (p.min_confidence, "==", 0, "the default min-confidence is 0");
    cmp_ok (p.relay, "==", 1, "the default policy relays third-party records");
    cmp_ok (p.norigins, "==", 0, "the default policy relays every origin");
    ok (im_policy_check (&p, err, sizeof err) == 0,
        "the default policy passes its check");

    im_policy_default (&p, IM_POLICY_DEFAULT);
    is (p.name, "default", "the built-in policy is called default");

    memset (&in, 0xa5, sizeof in);
    im_inbound_default (&in);
    cmp_ok (in.relayed, "==", 1, "by default a peer may bring third-party records");
    cmp_ok (in.types, "==", 0, "by default every type is taken");
    cmp_ok (in.norigins, "==", 0, "by default every origin is taken");
    cmp_ok (in.rate, "==", 0, "by default there is no rate limit");
}

/* --- im_policy_check ---------------------------------------------------- */

typedef struct {
    const char *what;
    void (*make) (im_policy_t *p);
    const char *why; /* alternatives the reason must contain, or NULL */
} policy_case_t;

static void
ok_partners (im_policy_t *p)
{
    partners (p);
}
static void
ok_relay_no (im_policy_t *p)
{
    p->relay = 0;
}
static void
ok_relay_origins (im_policy_t *p)
{
    p->norigins = 2;
    memcpy (p->origins[0], ORIGIN, IM_NODE_ID_SIZE);
    memcpy (p->origins[1], OTHER, IM_NODE_ID_SIZE);
}
static void
ok_clear (im_policy_t *p)
{
    p->max_tlp = IM_TLP_CLEAR;
}
static void
ok_amber (im_policy_t *p)
{
    p->max_tlp = IM_TLP_AMBER;
}
static void
ok_strict (im_policy_t *p)
{
    p->max_tlp = IM_TLP_AMBER_STRICT;
}
static void
ok_conf_100 (im_policy_t *p)
{
    p->min_confidence = 100;
}
static void
ok_name_64 (im_policy_t *p)
{
    strcpy (p->name, NAME_64);
}
static void
ok_name_chars (im_policy_t *p)
{
    strcpy (p->name, "Part.ners_2-b");
}
static void
ok_deny_only (im_policy_t *p)
{
    p->deny_types = BIT (IM_TYPE_MD5);
}
static void
ok_disjoint (im_policy_t *p)
{
    p->types = BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_DOMAIN);
    p->deny_types = BIT (IM_TYPE_MD5);
}
static void
ok_all_types (im_policy_t *p)
{
    for (int t = IM_TYPE_IPV4; t < IM_TYPE_COUNT; t++)
        p->types |= im_type_is_ioc (t) ? BIT (t) : 0;
}
static void
ok_tags_16 (im_policy_t *p)
{
    p->ntags = IM_POLICY_TAGS_MAX;
    p->ndeny_tags = IM_POLICY_TAGS_MAX;
    for (size_t i = 0; i < IM_POLICY_TAGS_MAX; i++) {
        snprintf (p->tags[i], sizeof p->tags[i], "allow-%zu", i);
        snprintf (p->deny_tags[i], sizeof p->deny_tags[i], "deny-%zu", i);
    }
}
static void
ok_origins_32 (im_policy_t *p)
{
    p->norigins = IM_POLICY_ORIGINS_MAX;
    for (size_t i = 0; i < IM_POLICY_ORIGINS_MAX; i++)
        make_id (p->origins[i], (uint8_t)(0x80 + i));
}

static void
bad_red (im_policy_t *p)
{
    p->max_tlp = IM_TLP_RED;
}
static void
bad_tlp_0 (im_policy_t *p)
{
    p->max_tlp = IM_TLP_NONE;
}
static void
bad_tlp_6 (im_policy_t *p)
{
    p->max_tlp = IM_TLP_COUNT;
}
static void
bad_conf (im_policy_t *p)
{
    p->min_confidence = 101;
}
static void
bad_types (im_policy_t *p)
{
    p->types = BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_DOMAIN);
    p->deny_types = BIT (IM_TYPE_DOMAIN);
}
static void
bad_types_0 (im_policy_t *p)
{
    p->types = BIT (IM_TYPE_NONE);
    p->deny_types = BIT (IM_TYPE_NONE);
}
static void
bad_type_0 (im_policy_t *p)
{
    p->types = BIT (IM_TYPE_NONE) | BIT (IM_TYPE_IPV4);
}
static void
bad_type_12 (im_policy_t *p)
{
    p->types = BIT (IM_TYPE_COUNT);
}
static void
bad_deny_type_12 (im_policy_t *p)
{
    p->deny_types = BIT (IM_TYPE_COUNT);
}
static void
bad_tags (im_policy_t *p)
{
    p->ntags = 2;
    strcpy (p->tags[0], "apt");
    strcpy (p->tags[1], "internal");
    p->ndeny_tags = 1;
    strcpy (p->deny_tags[0], "internal");
}
static void
bad_relay (im_policy_t *p)
{
    p->relay = 0;
    p->norigins = 1;
    memcpy (p->origins[0], ORIGIN, IM_NODE_ID_SIZE);
}
static void
bad_name_empty (im_policy_t *p)
{
    p->name[0] = '\0';
}
static void
bad_name_end (im_policy_t *p)
{
    /* name has room for 64 characters only: a 64-character name with a bad
     * last character stands for the names that are too long. */
    strcpy (p->name, NAME_64);
    p->name[63] = '/';
}
static void
bad_name_space (im_policy_t *p)
{
    strcpy (p->name, "part ners");
}
static void
bad_name_slash (im_policy_t *p)
{
    strcpy (p->name, "a/b");
}
static void
bad_name_utf8 (im_policy_t *p)
{
    strcpy (p->name, "p\xc3\xa4rtners");
}
static void
bad_name_plus (im_policy_t *p)
{
    strcpy (p->name, "a+b");
}
static void
bad_ntags (im_policy_t *p)
{
    ok_tags_16 (p);
    p->ndeny_tags = 0;
    p->ntags = IM_POLICY_TAGS_MAX + 1;
}
static void
bad_ndeny (im_policy_t *p)
{
    ok_tags_16 (p);
    p->ntags = 0;
    p->ndeny_tags = IM_POLICY_TAGS_MAX + 1;
}
static void
bad_norigins (im_policy_t *p)
{
    ok_origins_32 (p);
    p->norigins = IM_POLICY_ORIGINS_MAX + 1;
}

static void
test_check (void)
{
    static const policy_case_t good[] = {
        { "the partners policy of SPEC.md", ok_partners, NULL },
        { "relay=no without relay-origins", ok_relay_no, NULL },
        { "relay=yes with two relay-origins", ok_relay_origins, NULL },
        { "max-tlp=clear", ok_clear, NULL },
        { "max-tlp=amber", ok_amber, NULL },
        { "max-tlp=amber+strict", ok_strict, NULL },
        { "min-confidence=100", ok_conf_100, NULL },
        { "a name of 64 characters", ok_name_64, NULL },
        { "a name of letters, digits, '.', '_' and '-'", ok_name_chars, NULL },
        { "deny-types with every type allowed", ok_deny_only, NULL },
        { "types and deny-types that do not meet", ok_disjoint, NULL },
        { "every one of the 11 types listed", ok_all_types, NULL },
        { "16 tags and 16 deny-tags", ok_tags_16, NULL },
        { "32 relay-origins", ok_origins_32, NULL },
    };
    static const policy_case_t bad[] = {
        { "max-tlp=red: RED goes only to named recipients", bad_red, "red|RED" },
        { "max-tlp 0, which is no label", bad_tlp_0, "max-tlp|label|tlp" },
        { "max-tlp 6, which is no label", bad_tlp_6, "max-tlp|label|tlp" },
        { "min-confidence=101", bad_conf, "confidence" },
        { "domain both in types and in deny-types", bad_types, "domain" },
        { "types holding type 0, which does not exist", bad_type_0, "type" },
        { "type 0 both in types and in deny-types", bad_types_0, "type" },
        { "types holding type 12, which does not exist", bad_type_12, "type" },
        { "deny-types holding type 12, which does not exist", bad_deny_type_12, "type" },
        { "the tag internal both in tags and in deny-tags", bad_tags, "internal" },
        { "relay=no with relay-origins", bad_relay, "relay" },
        { "an empty name", bad_name_empty, "name" },
        { "a 64-character name ending in '/'", bad_name_end, "name" },
        { "the name 'part ners'", bad_name_space, "name" },
        { "the name 'a/b'", bad_name_slash, "name" },
        { "a name with a non-ASCII letter", bad_name_utf8, "name" },
        { "the name 'a+b'", bad_name_plus, "name" },
        { "17 tags", bad_ntags, "tags" },
        { "17 deny-tags", bad_ndeny, "tags" },
        { "33 relay-origins", bad_norigins, "origins" },
    };
    im_policy_t p;
    char err[256], shown[300];

    for (size_t i = 0; i < COUNT (good); i++) {
        im_policy_default (&p, "partners");
        good[i].make (&p);
        strcpy (err, "");
        errno = 0;
        int rc = im_policy_check (&p, err, sizeof err);
        ok (rc == 0, "policy_check takes %s", good[i].what);
        if (rc != 0)
            diag ("reason: %s", err);
    }
    for (size_t i = 0; i < COUNT (bad); i++) {
        im_policy_default (&p, "partners");
        bad[i].make (&p);
        strcpy (err, "");
        errno = 0;
        int rc = im_policy_check (&p, err, sizeof err);
        ok (rc == -1 && errno == EINVAL, "policy_check refuses %s", bad[i].what);
        ok (err[0] && mentions (err, bad[i].why),
            "the reason for refusing %s says '%s': '%s'", bad[i].what, bad[i].why,
            printable (err, shown, sizeof shown));
    }
}

/* --- im_policy_set and im_inbound_set ----------------------------------- */

typedef enum {
    F_MAX_TLP,
    F_TYPES,
    F_DENY_TYPES,
    F_NTAGS,
    F_NDENY_TAGS,
    F_MIN_CONFIDENCE,
    F_RELAY,
    F_NORIGINS,
    F_RELAYED,
    F_ACCEPT_TYPES,
    F_ACCEPT_ORIGINS,
    F_RATE
} field_t;

typedef struct {
    const char *key;
    const char *value;
    field_t field;
    long long want;
} set_good_t;

typedef struct {
    const char *key;
    const char *value;
    const char *what; /* NULL: the value, shown */
} set_bad_t;

static long long
policy_field (const im_policy_t *p, field_t f)
{
    switch (f) {
    case F_MAX_TLP: return p->max_tlp;
    case F_TYPES: return p->types;
    case F_DENY_TYPES: return p->deny_types;
    case F_NTAGS: return (long long)p->ntags;
    case F_NDENY_TAGS: return (long long)p->ndeny_tags;
    case F_MIN_CONFIDENCE: return p->min_confidence;
    case F_RELAY: return p->relay;
    case F_NORIGINS: return (long long)p->norigins;
    default: return -12345;
    }
}

static long long
inbound_field (const im_inbound_t *in, field_t f)
{
    switch (f) {
    case F_RELAYED: return in->relayed;
    case F_ACCEPT_TYPES: return in->types;
    case F_ACCEPT_ORIGINS: return (long long)in->norigins;
    case F_RATE: return in->rate;
    default: return -12345;
    }
}

/* Lists built at run time: at the limits, and one past them. */
static char tags_16[512], tags_17[512], origins_1_upper[128], origins_2[256],
    origins_32[32 * 65 + 8], origins_33[33 * 65 + 8], tag_128[160], tag_129[160],
    hex_63[80], hex_65[80], hex_zz[80], hex_bad_list[160];

static void
make_lists (void)
{
    list_of (tags_16, sizeof tags_16, 16, "tag");
    list_of (tags_17, sizeof tags_17, 17, "tag");
    snprintf (origins_1_upper, sizeof origins_1_upper, "%s", ORIGIN_HEX);
    for (char *c = origins_1_upper; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    snprintf (origins_2, sizeof origins_2, "%s,%s", ORIGIN_HEX, OTHER_HEX);
    origins_of (origins_32, sizeof origins_32, 32);
    origins_of (origins_33, sizeof origins_33, 33);
    memset (tag_128, 't', 128);
    tag_128[128] = '\0';
    memset (tag_129, 't', 129);
    tag_129[129] = '\0';
    snprintf (hex_63, sizeof hex_63, "%.63s", ORIGIN_HEX);
    snprintf (hex_65, sizeof hex_65, "%s0", ORIGIN_HEX);
    memset (hex_zz, 'z', 64);
    hex_zz[64] = '\0';
    snprintf (hex_bad_list, sizeof hex_bad_list, "%s,%.63s", ORIGIN_HEX, OTHER_HEX);
}

static void
test_policy_set (void)
{
    const uint32_t four = BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_IPV6) | BIT (IM_TYPE_DOMAIN)
                          | BIT (IM_TYPE_URL);
    uint32_t every = 0;
    for (int t = IM_TYPE_IPV4; t < IM_TYPE_COUNT; t++)
        every |= im_type_is_ioc (t) ? BIT (t) : 0;
    const set_good_t good[] = {
        { "max-tlp", "clear", F_MAX_TLP, IM_TLP_CLEAR },
        { "max-tlp", "green", F_MAX_TLP, IM_TLP_GREEN },
        { "max-tlp", "amber", F_MAX_TLP, IM_TLP_AMBER },
        { "max-tlp", "amber+strict", F_MAX_TLP, IM_TLP_AMBER_STRICT },
        { "max-tlp", "CLEAR", F_MAX_TLP, IM_TLP_CLEAR },
        { "max-tlp", "Green", F_MAX_TLP, IM_TLP_GREEN },
        { "max-tlp", "AMBER+STRICT", F_MAX_TLP, IM_TLP_AMBER_STRICT },
        { "max-tlp", "TLP:Amber", F_MAX_TLP, IM_TLP_AMBER },
        { "max-tlp", "white", F_MAX_TLP, IM_TLP_CLEAR },
        { "max-tlp", "amber-strict", F_MAX_TLP, IM_TLP_AMBER_STRICT },
        { "types", "ipv4", F_TYPES, BIT (IM_TYPE_IPV4) },
        { "types", "ipv4,ipv6,domain,url", F_TYPES, four },
        { "types", "IPv4,SHA256", F_TYPES, BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_SHA256) },
        { "types",
          "ipv4,ipv6,domain,url,email,md5,sha1,sha256,sha512,filename,asn,cve,"
          "attack-pattern,regkey,yara,sigma,snort",
          F_TYPES, every },
        { "types", "attack-pattern,YARA", F_TYPES,
          BIT (IM_TYPE_ATTACK_PATTERN) | BIT (IM_TYPE_YARA) },
        { "types", "", F_TYPES, 0 },
        { "deny-types", "md5,sha1", F_DENY_TYPES,
          BIT (IM_TYPE_MD5) | BIT (IM_TYPE_SHA1) },
        { "deny-types", "FILENAME", F_DENY_TYPES, BIT (IM_TYPE_FILENAME) },
        { "deny-types", "report", F_DENY_TYPES, BIT (IM_TYPE_REPORT) },
        { "deny-types", "yara,Report", F_DENY_TYPES,
          BIT (IM_TYPE_YARA) | BIT (IM_TYPE_REPORT) },
        { "deny-types", "", F_DENY_TYPES, 0 },
        { "tags", "internal", F_NTAGS, 1 },
        { "tags", "apt,botnet,c2", F_NTAGS, 3 },
        { "tags", tags_16, F_NTAGS, 16 },
        { "tags", tag_128, F_NTAGS, 1 },
        { "tags", "", F_NTAGS, 0 },
        { "deny-tags", "internal,secret", F_NDENY_TAGS, 2 },
        { "deny-tags", tags_16, F_NDENY_TAGS, 16 },
        { "deny-tags", "", F_NDENY_TAGS, 0 },
        { "min-confidence", "0", F_MIN_CONFIDENCE, 0 },
        { "min-confidence", "50", F_MIN_CONFIDENCE, 50 },
        { "min-confidence", "100", F_MIN_CONFIDENCE, 100 },
        { "relay", "no", F_RELAY, 0 },
        { "relay", "yes", F_RELAY, 1 },
        { "relay-origins", ORIGIN_HEX, F_NORIGINS, 1 },
        { "relay-origins", origins_1_upper, F_NORIGINS, 1 },
        { "relay-origins", origins_2, F_NORIGINS, 2 },
        { "relay-origins", origins_32, F_NORIGINS, 32 },
        { "relay-origins", "", F_NORIGINS, 0 },
    };
    const set_bad_t bad[] = {
        { "colour", "red", "an unknown key" },
        { "max_tlp", "amber", "a misspelt key" },
        { "accept", "own", "an inbound key" },
        { "max-tlp", "red", NULL },
        { "max-tlp", "RED", NULL },
        { "max-tlp", "TLP:RED", NULL },
        { "max-tlp", "purple", NULL },
        { "max-tlp", "", NULL },
        { "max-tlp", "amber,green", NULL },
        { "types", "ipv5", NULL },
        { "types", "ipv4,bogus", NULL },
        { "types", "ipv4;domain", NULL },
        { "deny-types", "bogus", NULL },
        { "deny-types", "member", "a report's member (they follow their report)" },
        { "types", "report", "report in types (deny-types only)" },
        { "tags", tags_17, "17 tags" },
        { "tags", tag_129, "a 129-byte tag" },
        { "deny-tags", tags_17, "17 tags" },
        { "min-confidence", "101", NULL },
        { "min-confidence", "-1", NULL },
        { "min-confidence", "", NULL },
        { "min-confidence", "abc", NULL },
        { "min-confidence", "50%", NULL },
        { "min-confidence", "99999999999999999999", NULL },
        { "relay", "maybe", NULL },
        { "relay", "", NULL },
        { "relay-origins", hex_63, "63 hex digits" },
        { "relay-origins", hex_65, "65 hex digits" },
        { "relay-origins", hex_zz, "64 z's" },
        { "relay-origins", "alice", "a name (names are resolved by the caller)" },
        { "relay-origins", hex_bad_list, "a list whose second id is short" },
        { "relay-origins", origins_33, "33 node ids" },
    };
    im_policy_t p;
    char err[256], shown[300], val[64];
    int rc;

    for (size_t i = 0; i < COUNT (good); i++) {
        const set_good_t *c = &good[i];
        im_policy_default (&p, "partners");
        strcpy (err, "");
        errno = 0;
        rc = im_policy_set (&p, c->key, c->value, err, sizeof err);
        printable_cut (c->value, 40, val, sizeof val);
        ok (rc == 0, "policy_set takes %s='%s'", c->key, val);
        if (rc != 0)
            diag ("reason: %s", err);
        cmp_ok (policy_field (&p, c->field), "==", c->want, "%s='%s' sets %lld", c->key,
                val, c->want);
    }
    for (size_t i = 0; i < COUNT (bad); i++) {
        const set_bad_t *c = &bad[i];
        char what[128];
        if (c->what)
            snprintf (what, sizeof what, "%s (%s)", c->key, c->what);
        else
            snprintf (what, sizeof what, "%s='%s'", c->key,
                      printable_cut (c->value, 40, val, sizeof val));
        im_policy_default (&p, "partners");
        strcpy (err, "");
        errno = 0;
        rc = im_policy_set (&p, c->key, c->value, err, sizeof err);
        ok (rc == -1 && errno == EINVAL, "policy_set refuses %s", what);
        ok (strstr (err, c->key) != NULL, "the reason names %s: '%s'", c->key,
            printable (err, shown, sizeof shown));
    }

    /* What the values mean, beyond their count. */
    im_policy_default (&p, "partners");
    im_policy_set (&p, "tags", "apt,botnet,c2", err, sizeof err);
    ok (p.ntags == 3 && strcmp (p.tags[0], "apt") == 0
            && strcmp (p.tags[1], "botnet") == 0 && strcmp (p.tags[2], "c2") == 0,
        "tags=apt,botnet,c2 holds apt, botnet and c2");
    rc = im_policy_set (&p, "tags", "x", err, sizeof err);
    ok (rc == 0 && p.ntags == 1 && strcmp (p.tags[0], "x") == 0,
        "setting tags again replaces the list");
    rc = im_policy_set (&p, "tags", tag_128, err, sizeof err);
    ok (rc == 0 && p.ntags == 1 && strcmp (p.tags[0], tag_128) == 0,
        "a 128-byte tag is kept whole");
    rc = im_policy_set (&p, "tags", "", err, sizeof err);
    ok (rc == 0 && p.ntags == 0, "tags=\"\" clears the list");
    im_policy_set (&p, "types", "ipv4,domain", err, sizeof err);
    rc = im_policy_set (&p, "types", "", err, sizeof err);
    ok (rc == 0 && p.types == 0, "types=\"\" clears the list: every type again");
    rc = im_policy_set (&p, "relay-origins", origins_2, err, sizeof err);
    ok (rc == 0 && p.norigins == 2 && memcmp (p.origins[0], ORIGIN, IM_NODE_ID_SIZE) == 0
            && memcmp (p.origins[1], OTHER, IM_NODE_ID_SIZE) == 0,
        "relay-origins holds the two node ids given");
    rc = im_policy_set (&p, "relay-origins", origins_1_upper, err, sizeof err);
    ok (rc == 0 && p.norigins == 1 && memcmp (p.origins[0], ORIGIN, IM_NODE_ID_SIZE) == 0,
        "relay-origins reads upper-case hex");
    rc = im_policy_set (&p, "relay", "no", err, sizeof err);
    ok (rc == 0 && p.relay == 0, "relay=no is taken by policy_set ...");
    errno = 0;
    rc = im_policy_check (&p, err, sizeof err);
    ok (rc == -1 && errno == EINVAL,
        "... and refused by policy_check with relay-origins set");
    im_policy_default (&p, "partners");
    im_policy_set (&p, "types", "domain", err, sizeof err);
    im_policy_set (&p, "deny-types", "domain", err, sizeof err);
    errno = 0;
    rc = im_policy_check (&p, err, sizeof err);
    ok (rc == -1 && errno == EINVAL,
        "types=domain with deny-types=domain fails its check");
    ok (strcmp (p.name, "partners") == 0, "policy_set leaves the name alone");
}

static void
test_inbound_set (void)
{
    const set_good_t good[] = {
        { "accept", "relayed", F_RELAYED, 1 },
        { "accept", "own", F_RELAYED, 0 },
        { "accept-types", "ipv4", F_ACCEPT_TYPES, BIT (IM_TYPE_IPV4) },
        { "accept-types", "ipv4,domain,ASN", F_ACCEPT_TYPES,
          BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_DOMAIN) | BIT (IM_TYPE_ASN) },
        { "accept-types", "", F_ACCEPT_TYPES, 0 },
        { "accept-origins", ORIGIN_HEX, F_ACCEPT_ORIGINS, 1 },
        { "accept-origins", origins_2, F_ACCEPT_ORIGINS, 2 },
        { "accept-origins", origins_32, F_ACCEPT_ORIGINS, 32 },
        { "accept-origins", "", F_ACCEPT_ORIGINS, 0 },
        { "rate", "0", F_RATE, 0 },
        { "rate", "1", F_RATE, 1 },
        { "rate", "1000000", F_RATE, 1000000 },
    };
    const set_bad_t bad[] = {
        { "max-tlp", "amber", "an outbound key" },
        { "relay", "no", "an outbound key" },
        { "accepts", "own", "a misspelt key" },
        { "accept", "all", NULL },
        { "accept", "yes", NULL },
        { "accept", "", NULL },
        { "accept-types", "bogus", NULL },
        { "accept-types", "ipv4,ipv5", NULL },
        { "accept-origins", hex_63, "63 hex digits" },
        { "accept-origins", hex_zz, "64 z's" },
        { "accept-origins", "bob", "a name (names are resolved by the caller)" },
        { "accept-origins", origins_33, "33 node ids" },
        { "rate", "1000001", NULL },
        { "rate", "-1", NULL },
        { "rate", "4294967296", NULL },
        { "rate", "fast", NULL },
        { "rate", "", NULL },
        { "rate", "10/s", NULL },
    };
    im_inbound_t in;
    char err[256], shown[300], val[64];
    int rc;

    for (size_t i = 0; i < COUNT (good); i++) {
        const set_good_t *c = &good[i];
        im_inbound_default (&in);
        strcpy (err, "");
        errno = 0;
        rc = im_inbound_set (&in, c->key, c->value, err, sizeof err);
        printable_cut (c->value, 40, val, sizeof val);
        ok (rc == 0, "inbound_set takes %s='%s'", c->key, val);
        if (rc != 0)
            diag ("reason: %s", err);
        cmp_ok (inbound_field (&in, c->field), "==", c->want, "%s='%s' sets %lld", c->key,
                val, c->want);
    }
    for (size_t i = 0; i < COUNT (bad); i++) {
        const set_bad_t *c = &bad[i];
        char what[128];
        if (c->what)
            snprintf (what, sizeof what, "%s (%s)", c->key, c->what);
        else
            snprintf (what, sizeof what, "%s='%s'", c->key,
                      printable_cut (c->value, 40, val, sizeof val));
        im_inbound_default (&in);
        strcpy (err, "");
        errno = 0;
        rc = im_inbound_set (&in, c->key, c->value, err, sizeof err);
        ok (rc == -1 && errno == EINVAL, "inbound_set refuses %s", what);
        ok (strstr (err, c->key) != NULL, "the reason names %s: '%s'", c->key,
            printable (err, shown, sizeof shown));
    }

    im_inbound_default (&in);
    rc = im_inbound_set (&in, "accept-origins", origins_2, err, sizeof err);
    ok (rc == 0 && in.norigins == 2
            && memcmp (in.origins[0], ORIGIN, IM_NODE_ID_SIZE) == 0
            && memcmp (in.origins[1], OTHER, IM_NODE_ID_SIZE) == 0,
        "accept-origins holds the two node ids given");
    rc = im_inbound_set (&in, "accept-origins", "", err, sizeof err);
    ok (rc == 0 && in.norigins == 0, "accept-origins=\"\" clears the list");
}

/* --- Equality ----------------------------------------------------------- */

static void
test_equal (void)
{
    im_policy_t a, b;
    im_inbound_t x, y;

    im_policy_default (&a, "partners");
    im_policy_default (&b, "partners");
    ok (im_policy_equal (&a, &b) == 1, "two default policies are equal");
    ok (im_policy_equal (&a, &a) == 1, "a policy equals itself");
    partners (&a);
    partners (&b);
    ok (im_policy_equal (&a, &b) == 1, "two partners policies are equal");

    /* Whatever lies past the lists' counts is not a rule. */
    memset (&a, 0x5a, sizeof a);
    memset (&b, 0xc3, sizeof b);
    partners (&a);
    partners (&b);
    ok (im_policy_equal (&a, &b) == 1, "policies built over different garbage are equal");
    strcpy (a.tags[3], "stale");
    strcpy (a.deny_tags[1], "stale");
    memcpy (a.origins[0], OTHER, IM_NODE_ID_SIZE);
    ok (im_policy_equal (&a, &b) == 1, "stale entries past the counts do not matter");
    memcpy (a.deny_tags[0], "internal\0xx", 12);
    memcpy (b.deny_tags[0], "internal\0yy", 12);
    ok (im_policy_equal (&a, &b) == 1, "bytes after a tag's NUL do not matter");

    partners (&a);
    partners (&b);
    a.ntags = b.ntags = 2;
    strcpy (a.tags[0], "apt");
    strcpy (a.tags[1], "apt");
    strcpy (b.tags[0], "apt");
    strcpy (b.tags[1], "c2");
    ok (im_policy_equal (&a, &b) == 0 && im_policy_equal (&b, &a) == 0,
        "tags=apt,apt is not tags=apt,c2 (c2 lets more through)");
    strcpy (b.tags[0], "c2");
    strcpy (b.tags[1], "apt");
    strcpy (a.tags[1], "c2");
    ok (im_policy_equal (&a, &b) == 1,
        "tags=apt,c2 is tags=c2,apt: order carries no meaning");

    struct {
        const char *what;
        int field;
    } diffs[] = {
        { "max-tlp", 0 },
        { "types", 1 },
        { "deny-types", 2 },
        { "a tag", 3 },
        { "the number of tags", 4 },
        { "a deny-tag", 5 },
        { "min-confidence", 6 },
        { "relay", 7 },
        { "a relay-origin's last byte", 8 },
        { "the number of relay-origins", 9 },
    };
    for (size_t i = 0; i < COUNT (diffs); i++) {
        partners (&a);
        partners (&b);
        a.ntags = b.ntags = 1;
        strcpy (a.tags[0], "apt");
        strcpy (b.tags[0], "apt");
        a.norigins = b.norigins = 1;
        memcpy (a.origins[0], PEER, IM_NODE_ID_SIZE);
        memcpy (b.origins[0], PEER, IM_NODE_ID_SIZE);
        switch (diffs[i].field) {
        case 0: b.max_tlp = IM_TLP_GREEN; break;
        case 1: b.types |= BIT (IM_TYPE_MD5); break;
        case 2: b.deny_types = BIT (IM_TYPE_MD5); break;
        case 3: strcpy (b.tags[0], "apu"); break;
        case 4:
            b.ntags = 2;
            strcpy (b.tags[1], "c2");
            break;
        case 5: strcpy (b.deny_tags[0], "internat"); break;
        case 6: b.min_confidence = 51; break;
        case 7:
            b.relay = 0;
            b.norigins = 0;
            a.norigins = 0;
            break;
        case 8: memcpy (b.origins[0], OTHER, IM_NODE_ID_SIZE); break;
        case 9:
            b.norigins = 2;
            memcpy (b.origins[1], ORIGIN, IM_NODE_ID_SIZE);
            break;
        }
        ok (im_policy_equal (&a, &b) == 0 && im_policy_equal (&b, &a) == 0,
            "policies that differ in %s are not equal", diffs[i].what);
    }

    im_inbound_default (&x);
    im_inbound_default (&y);
    ok (im_inbound_equal (&x, &y) == 1, "two default inbound rules are equal");
    memset (&x, 0x5a, sizeof x);
    memset (&y, 0xc3, sizeof y);
    im_inbound_default (&x);
    im_inbound_default (&y);
    x.norigins = y.norigins = 1;
    memcpy (x.origins[0], ORIGIN, IM_NODE_ID_SIZE);
    memcpy (y.origins[0], ORIGIN, IM_NODE_ID_SIZE);
    memcpy (x.origins[1], PEER, IM_NODE_ID_SIZE);
    ok (im_inbound_equal (&x, &y) == 1,
        "inbound rules over different garbage, with stale origins, are equal");
    for (int f = 0; f < 5; f++) {
        static const char *what[] = { "accept", "accept-types", "an origin's last byte",
                                      "the number of origins", "rate" };
        im_inbound_default (&x);
        im_inbound_default (&y);
        x.norigins = y.norigins = 1;
        memcpy (x.origins[0], PEER, IM_NODE_ID_SIZE);
        memcpy (y.origins[0], PEER, IM_NODE_ID_SIZE);
        switch (f) {
        case 0: y.relayed = 0; break;
        case 1: y.types = BIT (IM_TYPE_IPV4); break;
        case 2: memcpy (y.origins[0], OTHER, IM_NODE_ID_SIZE); break;
        case 3:
            y.norigins = 2;
            memcpy (y.origins[1], ORIGIN, IM_NODE_ID_SIZE);
            break;
        case 4: y.rate = 10; break;
        }
        ok (im_inbound_equal (&x, &y) == 0 && im_inbound_equal (&y, &x) == 0,
            "inbound rules that differ in %s are not equal", what[f]);
    }
}

/* --- Outbound ----------------------------------------------------------- */

typedef struct {
    im_record_t rec;
    im_policy_t pol;
    im_share_ctx_t ctx;
} out_t;

/* This node's own GREEN domain record, to bob, under the default-like policy
 * `partners` (max-tlp green, relaying). */
static void
out_own (out_t *t)
{
    im_record_init (&t->rec);
    memcpy (t->rec.origin, SELF, IM_NODE_ID_SIZE);
    t->rec.type = IM_TYPE_DOMAIN;
    strcpy (t->rec.value, "evil.example");
    t->rec.created = t->rec.modified = NOW - 3600;
    im_policy_default (&t->pol, "partners");
    memset (&t->ctx, 0, sizeof t->ctx);
    t->ctx.rec = &t->rec;
    t->ctx.hops = 0;
    t->ctx.from = NULL;
    t->ctx.peer = PEER;
    t->ctx.peer_name = "bob";
    t->ctx.policy = &t->pol;
    t->ctx.sent_before = 0;
    t->ctx.now = NOW;
}

/* A third-party record this node got from FROM, HOPS links from its origin. */
static void
out_relayed (out_t *t, uint8_t hops)
{
    out_own (t);
    memcpy (t->rec.origin, ORIGIN, IM_NODE_ID_SIZE);
    t->ctx.hops = hops;
    t->ctx.from = FROM;
}

static void
add_recipient (im_record_t *rec, const uint8_t id[IM_NODE_ID_SIZE])
{
    memcpy (rec->recipients[rec->nrecipients++], id, IM_NODE_ID_SIZE);
}

static void
add_tag (im_record_t *rec, const char *tag)
{
    char err[128];
    if (im_record_add_tag (rec, tag, err, sizeof err) != 0)
        BAIL_OUT ("add_tag %s: %s", tag, err);
}

/* Checks that T's record gets verdict WANT, with and without a reason, and
 * that the reason starts with "sent" or "not sent" and mentions M1 and M2
 * (each '|'-separated alternatives, or NULL). */
static void
expect_out (const out_t *t, im_share_t want, const char *m1, const char *m2,
            const char *what)
{
    char why[512], shown[600];
    strcpy (why, "");
    im_share_t got = im_policy_outbound (&t->ctx, why, sizeof why);
    im_share_t bare = im_policy_outbound (&t->ctx, NULL, 0);
    int yes = want == IM_SHARE_YES || want == IM_SHARE_REVOCATION;
    ok (got == want && bare == want, "%s", what);
    if (got != want || bare != want)
        diag ("want %d (%s), got %d (%s), %d without a reason: %s", (int)want,
              im_share_name (want), (int)got, im_share_name (got), (int)bare, why);
    ok (starts_with (why, yes ? "sent" : "not sent") && mentions (why, m1)
            && mentions (why, m2),
        "  the reason starts with '%s'%s%s%s%s: '%s'", yes ? "sent" : "not sent",
        m1 ? " and says " : "", m1 ? m1 : "", m2 ? " and " : "", m2 ? m2 : "",
        printable (why, shown, sizeof shown));
}

static void
test_outbound_rules (void)
{
    static out_t t;

    diag ("Outbound rules, one per rule of the list");

    /* 1. P is the record's origin. */
    out_relayed (&t, 1);
    memcpy (t.rec.origin, PEER, IM_NODE_ID_SIZE);
    expect_out (&t, IM_SHARE_ORIGIN, "bob", NULL,
                "rule 1: a record is never sent back to its origin, bob");

    /* 2. This node got it from P. */
    out_relayed (&t, 1);
    t.ctx.from = PEER;
    expect_out (&t, IM_SHARE_FROM, "bob", NULL,
                "rule 2: a record is never sent back to bob, who sent it here");

    /* 3. A tombstone for a peer that was sent an earlier version: sent, even
     * RED and relayed. */
    out_relayed (&t, 2);
    t.rec.op = IM_OP_REVOKE;
    t.rec.version = 2;
    t.rec.tlp = IM_TLP_RED;
    t.ctx.sent_before = 1;
    expect_out (&t, IM_SHARE_REVOCATION, NULL, NULL,
                "rule 3: a RED tombstone relayed at hops 2 goes to bob, who was sent an "
                "earlier version");

    /* 4. Expired at exactly now. */
    out_own (&t);
    t.rec.valid_until = NOW;
    expect_out (&t, IM_SHARE_EXPIRED, "expire|valid", NULL,
                "rule 4: a record whose valid_until is now is not sent");

    /* 5. Recipients named, P not one of them. */
    out_own (&t);
    t.rec.tlp = IM_TLP_CLEAR;
    add_recipient (&t.rec, OTHER);
    expect_out (&t, IM_SHARE_RECIPIENTS, "bob", NULL,
                "rule 5: a CLEAR record for another recipient is not sent to bob");

    /* 6. AMBER relayed. */
    out_relayed (&t, 1);
    t.rec.tlp = IM_TLP_AMBER;
    t.pol.max_tlp = IM_TLP_AMBER;
    expect_out (&t, IM_SHARE_NOT_ORIGIN, "TLP:AMBER", NULL,
                "rule 6: an AMBER record held at hops 1 is not passed on, even to a peer "
                "cleared for amber");

    /* 7. RED with no named recipient. */
    out_own (&t);
    t.rec.tlp = IM_TLP_RED;
    expect_out (
        &t, IM_SHARE_RED, "TLP:RED", NULL,
        "rule 7: this node's own RED record with no recipients does not leave it");

    /* 8. Above max-tlp, not named. */
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    expect_out (
        &t, IM_SHARE_CLEARANCE, "TLP:AMBER", "partners",
        "rule 8: an own AMBER record is not sent under a policy of max-tlp green");

    /* 9. Beyond its reach. */
    out_relayed (&t, 1);
    t.rec.reach = 1;
    expect_out (&t, IM_SHARE_REACH, "reach", NULL,
                "rule 9: a record of reach 1 held at hops 1 goes no further");

    /* 10. Third-party under relay = no. */
    out_relayed (&t, 1);
    t.pol.relay = 0;
    expect_out (&t, IM_SHARE_RELAY, "partners", NULL,
                "rule 10: a third-party record is not relayed under relay=no");

    /* 11. Third-party, origin not among relay-origins. */
    out_relayed (&t, 1);
    t.pol.norigins = 1;
    memcpy (t.pol.origins[0], OTHER, IM_NODE_ID_SIZE);
    expect_out (&t, IM_SHARE_RELAY_ORIGIN, "partners", NULL,
                "rule 11: a third-party record whose origin is not a relay-origin is not "
                "relayed");

    /* 12. Type. */
    out_own (&t);
    t.pol.types = BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_URL);
    expect_out (&t, IM_SHARE_TYPE, "domain", "partners",
                "rule 12: a domain is not sent under types=ipv4,url");

    /* 13. None of the required tags. */
    out_own (&t);
    add_tag (&t.rec, "phishing");
    t.pol.ntags = 2;
    strcpy (t.pol.tags[0], "apt");
    strcpy (t.pol.tags[1], "botnet");
    expect_out (&t, IM_SHARE_TAGS, "partners", NULL,
                "rule 13: a record tagged phishing is not sent under tags=apt,botnet");

    /* 14. A denied tag. */
    out_own (&t);
    add_tag (&t.rec, "apt");
    add_tag (&t.rec, "internal");
    t.pol.ndeny_tags = 1;
    strcpy (t.pol.deny_tags[0], "internal");
    expect_out (&t, IM_SHARE_DENY_TAG, "internal", "partners",
                "rule 14: a record tagged internal is not sent under deny-tags=internal");

    /* 15. Below min-confidence. */
    out_own (&t);
    t.rec.confidence = 59;
    t.pol.min_confidence = 60;
    expect_out (&t, IM_SHARE_CONFIDENCE, "partners", NULL,
                "rule 15: confidence 59 is not sent under min-confidence=60");

    /* 16. Otherwise. */
    out_own (&t);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "rule 16: an own GREEN record is sent under the default rules");
    out_relayed (&t, 3);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "rule 16: a third-party GREEN record at hops 3 is relayed");
}

static void
test_outbound_order (void)
{
    static out_t t;

    diag ("Outbound: which rule decides when several could");

    /* Rule 1 and 2 come before rule 3. */
    out_relayed (&t, 1);
    memcpy (t.rec.origin, PEER, IM_NODE_ID_SIZE);
    t.ctx.from = PEER;
    expect_out (&t, IM_SHARE_ORIGIN, "bob", NULL,
                "rule 1 before 2: a record bob made and sent here is not sent back");
    out_relayed (&t, 1);
    memcpy (t.rec.origin, PEER, IM_NODE_ID_SIZE);
    t.rec.op = IM_OP_REVOKE;
    t.ctx.sent_before = 1;
    expect_out (&t, IM_SHARE_ORIGIN, "bob", NULL,
                "rule 1 before 3: bob's own tombstone is not sent back to bob");
    out_relayed (&t, 2);
    t.ctx.from = PEER;
    t.rec.op = IM_OP_REVOKE;
    t.ctx.sent_before = 1;
    expect_out (&t, IM_SHARE_FROM, "bob", NULL,
                "rule 2 before 3: a tombstone bob sent here is not sent back to bob");

    /* Rule 3 beats every later rule. */
    out_own (&t);
    t.rec.op = IM_OP_REVOKE;
    t.rec.valid_until = NOW - 10;
    t.ctx.sent_before = 1;
    expect_out (&t, IM_SHARE_REVOCATION, NULL, NULL,
                "rule 3 before 4: an expired tombstone still goes to a peer given an "
                "earlier version");
    out_own (&t);
    t.rec.op = IM_OP_REVOKE;
    t.rec.tlp = IM_TLP_AMBER_STRICT;
    t.rec.reach = 0;
    t.pol.types = BIT (IM_TYPE_IPV4);
    t.pol.min_confidence = 100;
    t.rec.confidence = 0;
    t.ctx.sent_before = 1;
    expect_out (
        &t, IM_SHARE_REVOCATION, NULL, NULL,
        "rule 3 before 8-15: a restricted tombstone of reach 0 goes to a peer given "
        "an earlier version");
    out_own (&t);
    t.rec.op = IM_OP_REVOKE;
    add_recipient (&t.rec, OTHER);
    t.ctx.sent_before = 1;
    expect_out (&t, IM_SHARE_REVOCATION, NULL, NULL,
                "rule 3 before 5: a tombstone now addressed to others still reaches bob, "
                "given an earlier version");

    /* A tombstone without sent_before follows the ordinary rules. */
    out_own (&t);
    t.rec.op = IM_OP_REVOKE;
    expect_out (
        &t, IM_SHARE_YES, NULL, NULL,
        "an own GREEN tombstone for a peer never sent it goes by the rules: sent");
    out_own (&t);
    t.rec.op = IM_OP_REVOKE;
    t.rec.tlp = IM_TLP_RED;
    expect_out (&t, IM_SHARE_RED, "TLP:RED", NULL,
                "an own RED tombstone for a peer never sent it is not sent");

    /* Expiry, around now. */
    out_own (&t);
    t.rec.valid_until = NOW + 1;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "a record valid until one second from now is sent");
    out_own (&t);
    t.rec.valid_until = NOW - 1;
    expect_out (&t, IM_SHARE_EXPIRED, NULL, NULL,
                "a record that expired a second ago is not sent");
    out_own (&t);
    t.rec.valid_from = NOW + 3600;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "a record not yet valid is sent (only valid_until counts)");
    out_own (&t);
    t.rec.valid_until = NOW;
    add_recipient (&t.rec, OTHER);
    expect_out (&t, IM_SHARE_EXPIRED, NULL, NULL,
                "rule 4 before 5: an expired record for others is 'expired'");

    /* Recipients. */
    out_own (&t);
    t.rec.tlp = IM_TLP_GREEN;
    add_recipient (&t.rec, OTHER);
    t.pol.max_tlp = IM_TLP_CLEAR;
    expect_out (
        &t, IM_SHARE_RECIPIENTS, "bob", NULL,
        "rule 5 before 8: a GREEN record for others, to a peer cleared for clear, "
        "is refused for its recipients");
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    add_recipient (&t.rec, OTHER);
    expect_out (&t, IM_SHARE_RECIPIENTS, "bob", NULL,
                "rule 5 before 8: an own AMBER record for others is refused for its "
                "recipients");
    out_relayed (&t, 1);
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, OTHER);
    expect_out (&t, IM_SHARE_RECIPIENTS, "bob", NULL,
                "rule 5 before 6: a relayed RED record for others is refused for its "
                "recipients");
    out_relayed (&t, 1);
    add_recipient (&t.rec, PEER);
    add_recipient (&t.rec, OTHER);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "a relay among named nodes passes a GREEN record on to bob, named");
    out_relayed (&t, 1);
    t.rec.tlp = IM_TLP_CLEAR;
    add_recipient (&t.rec, SELF);
    add_recipient (&t.rec, PEER);
    t.pol.max_tlp = IM_TLP_CLEAR;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "a relay passes a CLEAR record on to bob, named with this node");

    /* AMBER and up from a non-origin. */
    out_relayed (&t, 1);
    t.rec.tlp = IM_TLP_AMBER;
    add_recipient (&t.rec, PEER);
    expect_out (
        &t, IM_SHARE_NOT_ORIGIN, "TLP:AMBER", NULL,
        "rule 6 before 8: a relayed AMBER record is not passed on even to a named "
        "bob");
    out_relayed (&t, 1);
    t.rec.tlp = IM_TLP_AMBER_STRICT;
    t.pol.max_tlp = IM_TLP_AMBER_STRICT;
    expect_out (&t, IM_SHARE_NOT_ORIGIN, "TLP:AMBER+STRICT", NULL,
                "rule 6: a relayed AMBER+STRICT record is not passed on");
    out_relayed (&t, 1);
    t.rec.tlp = IM_TLP_RED;
    expect_out (&t, IM_SHARE_NOT_ORIGIN, "TLP:RED", NULL,
                "rule 6 before 7: a relayed RED record is 'not origin'");
    out_relayed (&t, 1);
    t.rec.tlp = IM_TLP_GREEN;
    t.pol.max_tlp = IM_TLP_AMBER;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "rule 6 spares GREEN: a relayed GREEN record is passed on");

    /* RED. */
    out_own (&t);
    t.rec.tlp = IM_TLP_RED;
    t.pol.max_tlp = IM_TLP_AMBER_STRICT;
    expect_out (
        &t, IM_SHARE_RED, "TLP:RED", NULL,
        "rule 7 before 8: own RED to a peer cleared for amber+strict is refused as "
        "RED");
    out_own (&t);
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, PEER);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "own RED naming bob goes to bob, whatever his policy's max-tlp");
    out_own (&t);
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, PEER);
    t.rec.reach = 0;
    expect_out (&t, IM_SHARE_REACH, "reach", NULL,
                "own RED naming bob, of reach 0, stays here");

    /* Clearance. */
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    t.pol.max_tlp = IM_TLP_AMBER;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "own AMBER goes to a peer cleared for amber");
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER_STRICT;
    t.pol.max_tlp = IM_TLP_AMBER;
    expect_out (&t, IM_SHARE_CLEARANCE, "TLP:AMBER+STRICT", "partners",
                "own AMBER+STRICT does not go to a peer cleared for amber");
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER_STRICT;
    t.pol.max_tlp = IM_TLP_AMBER_STRICT;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "own AMBER+STRICT goes to a peer cleared for amber+strict");
    out_own (&t);
    t.rec.tlp = IM_TLP_GREEN;
    t.pol.max_tlp = IM_TLP_CLEAR;
    expect_out (&t, IM_SHARE_CLEARANCE, "TLP:GREEN", "partners",
                "own GREEN does not go to a peer cleared for clear");
    out_own (&t);
    t.rec.tlp = IM_TLP_CLEAR;
    t.pol.max_tlp = IM_TLP_CLEAR;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "own CLEAR goes to a peer cleared for clear");
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    t.pol.max_tlp = IM_TLP_CLEAR;
    add_recipient (&t.rec, PEER);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "naming bob clears him past max-tlp: own AMBER goes to a named bob under "
                "max-tlp clear");
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    add_recipient (&t.rec, PEER);
    t.pol.types = BIT (IM_TYPE_IPV4);
    expect_out (&t, IM_SHARE_TYPE, "domain", NULL,
                "naming bob clears only the label: rule 12 still stops a domain under "
                "types=ipv4");
    out_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    t.rec.reach = 0;
    expect_out (&t, IM_SHARE_CLEARANCE, "TLP:AMBER", NULL,
                "rule 8 before 9: own AMBER of reach 0 to a green peer is refused for "
                "clearance");

    /* Reach at various hops. */
    struct {
        uint8_t reach, hops;
        im_share_t want;
    } reach[] = {
        { 0, 0, IM_SHARE_REACH },     { 1, 0, IM_SHARE_YES },
        { 1, 1, IM_SHARE_REACH },     { 2, 0, IM_SHARE_YES },
        { 2, 1, IM_SHARE_YES },       { 2, 2, IM_SHARE_REACH },
        { 2, 5, IM_SHARE_REACH },     { 254, 253, IM_SHARE_YES },
        { 254, 254, IM_SHARE_REACH }, { 255, 254, IM_SHARE_YES },
        { 255, 255, IM_SHARE_YES },
    };
    for (size_t i = 0; i < COUNT (reach); i++) {
        char what[160];
        if (reach[i].hops == 0)
            out_own (&t);
        else
            out_relayed (&t, reach[i].hops);
        t.rec.reach = reach[i].reach;
        snprintf (what, sizeof what, "reach %u at hops %u: %s", reach[i].reach,
                  reach[i].hops, reach[i].want == IM_SHARE_YES ? "sent" : "not sent");
        expect_out (&t, reach[i].want, reach[i].want == IM_SHARE_YES ? NULL : "reach",
                    NULL, what);
    }
    out_relayed (&t, 1);
    t.rec.reach = 1;
    t.pol.relay = 0;
    expect_out (
        &t, IM_SHARE_REACH, NULL, NULL,
        "rule 9 before 10: reach 1 at hops 1 under relay=no is refused for reach");

    /* Relay. */
    out_own (&t);
    t.pol.relay = 0;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "relay=no still sends this node's own records");
    out_relayed (&t, 1);
    t.pol.relay = 0;
    add_recipient (&t.rec, PEER);
    expect_out (&t, IM_SHARE_RELAY, "partners", NULL,
                "relay=no stops a third-party record even when it names bob");
    out_relayed (&t, 1);
    t.pol.norigins = 2;
    memcpy (t.pol.origins[0], OTHER, IM_NODE_ID_SIZE);
    memcpy (t.pol.origins[1], ORIGIN, IM_NODE_ID_SIZE);
    expect_out (
        &t, IM_SHARE_YES, NULL, NULL,
        "a third-party record whose origin is the second relay-origin is relayed");
    out_own (&t);
    t.pol.norigins = 1;
    memcpy (t.pol.origins[0], OTHER, IM_NODE_ID_SIZE);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "relay-origins do not stop this node's own records");
    out_relayed (&t, 1);
    t.pol.norigins = 1;
    memcpy (t.pol.origins[0], OTHER, IM_NODE_ID_SIZE);
    t.pol.deny_types = BIT (IM_TYPE_DOMAIN);
    expect_out (&t, IM_SHARE_RELAY_ORIGIN, NULL, NULL,
                "rule 11 before 12: an unlisted origin's denied type is refused for its "
                "origin");

    /* Types, tags, confidence. */
    out_own (&t);
    t.pol.deny_types = BIT (IM_TYPE_DOMAIN);
    expect_out (&t, IM_SHARE_TYPE, "domain", NULL,
                "a domain is not sent under deny-types=domain");
    out_own (&t);
    t.pol.types = BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_DOMAIN);
    expect_out (&t, IM_SHARE_YES, NULL, NULL, "a domain is sent under types=ipv4,domain");
    out_own (&t);
    t.rec.type = IM_TYPE_IPV4;
    strcpy (t.rec.value, "192.0.2.1");
    t.pol.deny_types = BIT (IM_TYPE_DOMAIN);
    expect_out (&t, IM_SHARE_YES, NULL, NULL, "an ipv4 is sent under deny-types=domain");
    out_own (&t);
    t.pol.deny_types = BIT (IM_TYPE_REPORT);
    expect_out (&t, IM_SHARE_YES, NULL, NULL, "a domain is sent under deny-types=report");
    out_own (&t);
    t.rec.type = IM_TYPE_REPORT;
    strcpy (t.rec.value, "A report");
    t.pol.deny_types = BIT (IM_TYPE_REPORT);
    expect_out (&t, IM_SHARE_TYPE, "report", NULL,
                "a report is not sent under deny-types=report");
    out_own (&t);
    t.rec.type = IM_TYPE_REPORT;
    strcpy (t.rec.value, "A report");
    t.pol.types = BIT (IM_TYPE_IPV4);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "a report is sent under types=ipv4 (types name indicator types)");
    out_own (&t);
    t.rec.type = IM_TYPE_MEMBER;
    strcpy (t.rec.value,
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff/"
            "00112233-4455-4677-8899-aabbccddeeff "
            "00112233-4455-4677-8899-aabbccddeef0");
    t.pol.deny_types = BIT (IM_TYPE_REPORT);
    expect_out (&t, IM_SHARE_TYPE, "reports", NULL,
                "a report's member is not sent under deny-types=report");
    out_own (&t);
    t.pol.types = BIT (IM_TYPE_IPV4);
    t.pol.ntags = 1;
    strcpy (t.pol.tags[0], "apt");
    expect_out (&t, IM_SHARE_TYPE, NULL, NULL,
                "rule 12 before 13: an untagged domain under types=ipv4, tags=apt is "
                "refused for its type");
    out_own (&t);
    t.pol.ntags = 1;
    strcpy (t.pol.tags[0], "apt");
    expect_out (&t, IM_SHARE_TAGS, NULL, NULL,
                "a record with no tags is not sent under tags=apt");
    out_own (&t);
    add_tag (&t.rec, "phishing");
    add_tag (&t.rec, "botnet");
    t.pol.ntags = 2;
    strcpy (t.pol.tags[0], "apt");
    strcpy (t.pol.tags[1], "botnet");
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "a record tagged phishing and botnet is sent under tags=apt,botnet");
    out_own (&t);
    add_tag (&t.rec, "apt");
    t.pol.ntags = 1;
    strcpy (t.pol.tags[0], "APT");
    expect_out (&t, IM_SHARE_TAGS, NULL, NULL, "tags compare as bytes: apt is not APT");
    out_own (&t);
    add_tag (&t.rec, "aptx");
    t.pol.ntags = 1;
    strcpy (t.pol.tags[0], "apt");
    expect_out (&t, IM_SHARE_TAGS, NULL, NULL, "tags compare whole: aptx is not apt");
    out_own (&t);
    add_tag (&t.rec, "internal");
    t.pol.ntags = 1;
    strcpy (t.pol.tags[0], "apt");
    t.pol.ndeny_tags = 1;
    strcpy (t.pol.deny_tags[0], "internal");
    expect_out (&t, IM_SHARE_TAGS, NULL, NULL,
                "rule 13 before 14: a record tagged only internal, under tags=apt and "
                "deny-tags=internal, is refused for the tags it lacks");
    out_own (&t);
    add_tag (&t.rec, "internal");
    t.pol.ndeny_tags = 1;
    strcpy (t.pol.deny_tags[0], "internal");
    t.pol.min_confidence = 100;
    t.rec.confidence = 10;
    expect_out (&t, IM_SHARE_DENY_TAG, "internal", NULL,
                "rule 14 before 15: a denied tag decides before the confidence");
    out_own (&t);
    add_tag (&t.rec, "internals");
    t.pol.ndeny_tags = 1;
    strcpy (t.pol.deny_tags[0], "internal");
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "deny-tags compare whole: a record tagged internals is sent under "
                "deny-tags=internal");
    out_own (&t);
    t.rec.confidence = 60;
    t.pol.min_confidence = 60;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "confidence 60 is sent under min-confidence=60");
    out_own (&t);
    t.rec.confidence = 100;
    t.pol.min_confidence = 100;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "confidence 100 is sent under min-confidence=100");
    out_own (&t);
    t.rec.confidence = 0;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "confidence 0 is sent under min-confidence=0");

    /* Ids that differ in one byte only. */
    out_relayed (&t, 1);
    memcpy (t.rec.origin, OTHER, IM_NODE_ID_SIZE);
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "an origin that differs from bob's id in its last byte is not bob");
    out_relayed (&t, 1);
    t.ctx.from = OTHER;
    expect_out (&t, IM_SHARE_YES, NULL, NULL,
                "a sender that differs from bob's id in its last byte is not bob");
    out_relayed (&t, 1);
    add_recipient (&t.rec, FROM);
    expect_out (&t, IM_SHARE_RECIPIENTS, NULL, NULL,
                "a recipient that differs from bob's id in its first byte is not bob");
    out_relayed (&t, 1);
    t.pol.norigins = 1;
    make_id (t.pol.origins[0], 0x22);
    t.pol.origins[0][IM_NODE_ID_SIZE - 1] ^= 1;
    expect_out (&t, IM_SHARE_RELAY_ORIGIN, NULL, NULL,
                "a relay-origin that differs from the origin in its last byte is not it");

    /* The reason buffer. */
    char why[64];
    out_own (&t);
    t.rec.tlp = IM_TLP_RED;
    strcpy (why, "untouched");
    ok (im_policy_outbound (&t.ctx, why, 0) == IM_SHARE_RED
            && strcmp (why, "untouched") == 0,
        "a reason buffer of size 0 is not written");
    ok (im_policy_outbound (&t.ctx, why, 9) == IM_SHARE_RED
            && strcmp (why, "not sent") == 0,
        "a reason buffer of 9 bytes gets 'not sent', terminated");
}

/* --- Inbound ------------------------------------------------------------ */

typedef struct {
    im_record_t rec;
    im_inbound_t in;
    im_accept_ctx_t ctx;
} in_t;

/* A GREEN domain record bob made and sends at hops 0, under default inbound
 * rules. */
static void
in_own (in_t *t)
{
    im_record_init (&t->rec);
    memcpy (t->rec.origin, PEER, IM_NODE_ID_SIZE);
    t->rec.type = IM_TYPE_DOMAIN;
    strcpy (t->rec.value, "evil.example");
    t->rec.created = t->rec.modified = NOW - 3600;
    im_inbound_default (&t->in);
    memset (&t->ctx, 0, sizeof t->ctx);
    t->ctx.rec = &t->rec;
    t->ctx.hops = 0;
    t->ctx.self = SELF;
    t->ctx.peer = PEER;
    t->ctx.peer_name = "bob";
    t->ctx.in = &t->in;
    t->ctx.holds_earlier = 0;
    t->ctx.now = NOW;
}

/* A third party's record that bob holds at HOPS and sends on. */
static void
in_relayed (in_t *t, unsigned hops)
{
    in_own (t);
    memcpy (t->rec.origin, ORIGIN, IM_NODE_ID_SIZE);
    t->ctx.hops = hops;
}

static void
expect_in (const in_t *t, im_accept_t want, const char *m1, const char *what)
{
    char why[512], shown[600];
    strcpy (why, "");
    im_accept_t got = im_policy_inbound (&t->ctx, why, sizeof why);
    im_accept_t bare = im_policy_inbound (&t->ctx, NULL, 0);
    ok (got == want && bare == want, "%s", what);
    if (got != want || bare != want)
        diag ("want %d (%s), got %d (%s), %d without a reason: %s", (int)want,
              im_accept_name (want), (int)got, im_accept_name (got), (int)bare, why);
    ok (why[0] && mentions (why, m1), "  the reason%s%s: '%s'",
        m1 ? " says " : " is given", m1 ? m1 : "", printable (why, shown, sizeof shown));
}

static void
test_inbound_rules (void)
{
    static in_t t;

    diag ("Inbound rules, one per rule of the list");

    /* 1. A tombstone of what this node holds: accepted, whatever it is. */
    in_relayed (&t, 3);
    t.rec.op = IM_OP_REVOKE;
    t.rec.version = 2;
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, OTHER);
    t.rec.reach = 1;
    t.rec.valid_until = NOW - 10;
    t.in.relayed = 0;
    t.ctx.holds_earlier = 1;
    expect_in (
        &t, IM_ACCEPT_REVOCATION, NULL,
        "rule 1: a tombstone of a record held here is accepted whatever else it is");

    /* 2. Expired. */
    in_own (&t);
    t.rec.valid_until = NOW;
    expect_in (&t, IM_ACCEPT_EXPIRED, NULL,
               "rule 2: a record whose valid_until is now is refused");

    /* 3. Recipients named, this node not one. */
    in_own (&t);
    add_recipient (&t.rec, OTHER);
    expect_in (&t, IM_ACCEPT_RECIPIENTS, NULL,
               "rule 3: a record for others is a policy violation");

    /* 4. AMBER relayed. */
    in_relayed (&t, 1);
    t.rec.tlp = IM_TLP_AMBER;
    expect_in (&t, IM_ACCEPT_NOT_ORIGIN, "TLP:AMBER",
               "rule 4: AMBER from bob, who is not its origin, is a policy violation");

    /* 5. RED not addressed here. */
    in_own (&t);
    t.rec.tlp = IM_TLP_RED;
    expect_in (
        &t, IM_ACCEPT_RED, "TLP:RED",
        "rule 5: RED from its origin, not naming this node, is a policy violation");

    /* 6. Further than its reach. */
    in_relayed (&t, 1);
    t.rec.reach = 1;
    expect_in (&t, IM_ACCEPT_REACH, NULL,
               "rule 6: reach 1 arriving from hops 1 is a policy violation");

    /* 7. accept = own. */
    in_relayed (&t, 1);
    t.in.relayed = 0;
    expect_in (&t, IM_ACCEPT_OWN_ONLY, NULL,
               "rule 7: a third-party record from a peer under accept=own is refused");

    /* 8. accept-origins. */
    in_relayed (&t, 1);
    t.in.norigins = 1;
    memcpy (t.in.origins[0], OTHER, IM_NODE_ID_SIZE);
    expect_in (&t, IM_ACCEPT_ORIGIN, NULL,
               "rule 8: a record whose origin is not in accept-origins is refused");

    /* 9. accept-types. */
    in_own (&t);
    t.in.types = BIT (IM_TYPE_IPV4);
    expect_in (&t, IM_ACCEPT_TYPE, NULL,
               "rule 9: a domain from a peer under accept-types=ipv4 is refused");

    /* 10. Otherwise. */
    in_own (&t);
    expect_in (&t, IM_ACCEPT_YES, NULL, "rule 10: bob's own GREEN record is accepted");
    in_relayed (&t, 4);
    expect_in (&t, IM_ACCEPT_YES, NULL,
               "rule 10: a third-party GREEN record at hops 4 is accepted");
}

static void
test_inbound_order (void)
{
    static in_t t;

    diag ("Inbound: which rule decides when several could");

    in_own (&t);
    t.rec.op = IM_OP_REVOKE;
    t.rec.tlp = IM_TLP_RED;
    expect_in (&t, IM_ACCEPT_RED, NULL,
               "a RED tombstone of a record not held here goes by the rules: refused");
    in_own (&t);
    t.rec.op = IM_OP_REVOKE;
    expect_in (&t, IM_ACCEPT_YES, NULL,
               "a GREEN tombstone of a record not held here is accepted as a record");

    in_own (&t);
    t.rec.valid_until = NOW + 1;
    expect_in (&t, IM_ACCEPT_YES, NULL, "a record valid one second more is accepted");
    in_own (&t);
    t.rec.valid_until = NOW - 1;
    add_recipient (&t.rec, OTHER);
    expect_in (
        &t, IM_ACCEPT_EXPIRED, NULL,
        "rule 2 before 3: an expired record for others is 'expired', not a violation");

    in_relayed (&t, 1);
    add_recipient (&t.rec, SELF);
    add_recipient (&t.rec, OTHER);
    expect_in (&t, IM_ACCEPT_YES, NULL,
               "a relayed GREEN record naming this node among others is accepted");
    in_own (&t);
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, OTHER);
    expect_in (&t, IM_ACCEPT_RECIPIENTS, NULL,
               "rule 3 before 5: RED for others is refused for its recipients");
    in_relayed (&t, 1);
    t.rec.tlp = IM_TLP_AMBER;
    add_recipient (&t.rec, FROM);
    expect_in (&t, IM_ACCEPT_RECIPIENTS, NULL,
               "rule 3 before 4: relayed AMBER for others is refused for its recipients");

    in_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    expect_in (&t, IM_ACCEPT_YES, NULL, "AMBER from its origin at hops 0 is accepted");
    in_own (&t);
    t.rec.tlp = IM_TLP_AMBER_STRICT;
    expect_in (&t, IM_ACCEPT_YES, NULL,
               "AMBER+STRICT from its origin at hops 0 is accepted");
    in_own (&t);
    t.rec.tlp = IM_TLP_AMBER;
    t.ctx.hops = 1;
    expect_in (&t, IM_ACCEPT_NOT_ORIGIN, "TLP:AMBER",
               "AMBER whose origin is bob but which bob holds at hops 1 is a violation");
    in_relayed (&t, 1);
    t.rec.tlp = IM_TLP_AMBER_STRICT;
    expect_in (&t, IM_ACCEPT_NOT_ORIGIN, "TLP:AMBER+STRICT",
               "relayed AMBER+STRICT is a policy violation");
    in_relayed (&t, 1);
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, SELF);
    expect_in (&t, IM_ACCEPT_NOT_ORIGIN, "TLP:RED",
               "rule 4 before 5: relayed RED, even naming this node, is a violation");
    in_own (&t);
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, SELF);
    expect_in (&t, IM_ACCEPT_YES, NULL,
               "RED from its origin naming this node is accepted");
    in_own (&t);
    t.rec.tlp = IM_TLP_RED;
    add_recipient (&t.rec, SELF);
    t.rec.reach = 0;
    expect_in (&t, IM_ACCEPT_REACH, NULL,
               "RED naming this node but of reach 0 is a violation of its reach");

    struct {
        uint8_t reach;
        unsigned hops;
        im_accept_t want;
    } reach[] = {
        { 0, 0, IM_ACCEPT_REACH },     { 1, 0, IM_ACCEPT_YES },
        { 1, 1, IM_ACCEPT_REACH },     { 2, 1, IM_ACCEPT_YES },
        { 2, 2, IM_ACCEPT_REACH },     { 254, 253, IM_ACCEPT_YES },
        { 254, 254, IM_ACCEPT_REACH }, { 255, 254, IM_ACCEPT_YES },
        { 255, 255, IM_ACCEPT_YES },   { 255, 1000, IM_ACCEPT_YES },
        { 3, 1000, IM_ACCEPT_REACH },
    };
    for (size_t i = 0; i < COUNT (reach); i++) {
        char what[160];
        if (reach[i].hops == 0)
            in_own (&t);
        else
            in_relayed (&t, reach[i].hops);
        t.rec.reach = reach[i].reach;
        snprintf (what, sizeof what, "reach %u from hops %u: %s", reach[i].reach,
                  reach[i].hops,
                  reach[i].want == IM_ACCEPT_YES ? "accepted" : "a violation");
        expect_in (&t, reach[i].want, NULL, what);
    }
    in_relayed (&t, 2);
    t.rec.reach = 2;
    t.in.relayed = 0;
    expect_in (&t, IM_ACCEPT_REACH, NULL,
               "rule 6 before 7: too far under accept=own is a violation of its reach");

    in_own (&t);
    t.in.relayed = 0;
    expect_in (&t, IM_ACCEPT_YES, NULL, "accept=own takes bob's own records");
    in_relayed (&t, 1);
    t.in.relayed = 0;
    t.in.norigins = 1;
    memcpy (t.in.origins[0], PEER, IM_NODE_ID_SIZE);
    expect_in (&t, IM_ACCEPT_OWN_ONLY, NULL, "rule 7 before 8: accept=own decides first");
    in_relayed (&t, 1);
    t.in.norigins = 2;
    memcpy (t.in.origins[0], OTHER, IM_NODE_ID_SIZE);
    memcpy (t.in.origins[1], ORIGIN, IM_NODE_ID_SIZE);
    expect_in (&t, IM_ACCEPT_YES, NULL,
               "a record whose origin is the second of accept-origins is accepted");
    in_own (&t);
    t.in.norigins = 1;
    memcpy (t.in.origins[0], OTHER, IM_NODE_ID_SIZE);
    expect_in (&t, IM_ACCEPT_ORIGIN, NULL,
               "accept-origins binds bob's own records too when bob is not listed");
    in_relayed (&t, 1);
    t.in.norigins = 1;
    memcpy (t.in.origins[0], OTHER, IM_NODE_ID_SIZE);
    t.in.types = BIT (IM_TYPE_IPV4);
    expect_in (&t, IM_ACCEPT_ORIGIN, NULL, "rule 8 before 9: the origin decides first");
    in_own (&t);
    t.in.types = BIT (IM_TYPE_IPV4) | BIT (IM_TYPE_DOMAIN);
    expect_in (&t, IM_ACCEPT_YES, NULL,
               "a domain is accepted under accept-types=ipv4,domain");
    in_relayed (&t, 1);
    memcpy (t.rec.origin, SELF, IM_NODE_ID_SIZE);
    t.rec.origin[IM_NODE_ID_SIZE - 1] ^= 1;
    add_recipient (&t.rec, t.rec.origin);
    expect_in (&t, IM_ACCEPT_RECIPIENTS, NULL,
               "a recipient that differs from this node's id in its last byte is not it");

    char why[64];
    in_own (&t);
    t.rec.tlp = IM_TLP_RED;
    strcpy (why, "untouched");
    ok (im_policy_inbound (&t.ctx, why, 0) == IM_ACCEPT_RED
            && strcmp (why, "untouched") == 0,
        "an inbound reason buffer of size 0 is not written");
    ok (im_policy_inbound (&t.ctx, why, 4) == IM_ACCEPT_RED && strlen (why) <= 3,
        "an inbound reason buffer of 4 bytes gets a terminated reason");
}

/* --- Verdict names and classes ------------------------------------------ */

static void
test_names (void)
{
    const char *seen[IM_SHARE_COUNT + IM_ACCEPT_COUNT];
    int distinct = 1, all = 1;

    for (int v = 0; v < IM_SHARE_COUNT; v++) {
        const char *n = im_share_name ((im_share_t)v);
        seen[v] = n;
        if (!n || !n[0]) {
            all = 0;
            diag ("share verdict %d has no name", v);
            continue;
        }
        for (int w = 0; w < v; w++)
            if (seen[w] && strcmp (seen[w], n) == 0)
                distinct = 0;
    }
    ok (all, "every outbound verdict has a name");
    ok (distinct, "no two outbound verdicts share a name");
    is (im_share_name (IM_SHARE_REVOCATION), "revocation",
        "share verdict REVOCATION is 'revocation'");
    is (im_share_name (IM_SHARE_EXPIRED), "expired",
        "share verdict EXPIRED is 'expired'");
    const char *n = im_share_name (IM_SHARE_COUNT);
    ok (n == NULL || strlen (n) < 64, "IM_SHARE_COUNT has no name or a safe one");
    n = im_share_name ((im_share_t)-1);
    ok (n == NULL || strlen (n) < 64, "share verdict -1 has no name or a safe one");
    n = im_share_name ((im_share_t)999);
    ok (n == NULL || strlen (n) < 64, "share verdict 999 has no name or a safe one");

    all = distinct = 1;
    for (int v = 0; v < IM_ACCEPT_COUNT; v++) {
        n = im_accept_name ((im_accept_t)v);
        seen[v] = n;
        if (!n || !n[0]) {
            all = 0;
            diag ("accept verdict %d has no name", v);
            continue;
        }
        for (int w = 0; w < v; w++)
            if (seen[w] && strcmp (seen[w], n) == 0)
                distinct = 0;
    }
    ok (all, "every inbound verdict has a name");
    ok (distinct, "no two inbound verdicts share a name");
    is (im_accept_name (IM_ACCEPT_REVOCATION), "revocation",
        "accept verdict REVOCATION is 'revocation'");
    is (im_accept_name (IM_ACCEPT_EXPIRED), "expired",
        "accept verdict EXPIRED is 'expired'");
    n = im_accept_name (IM_ACCEPT_COUNT);
    ok (n == NULL || strlen (n) < 64, "IM_ACCEPT_COUNT has no name or a safe one");
    n = im_accept_name ((im_accept_t)-1);
    ok (n == NULL || strlen (n) < 64, "accept verdict -1 has no name or a safe one");

    static const struct {
        im_accept_t v;
        int violation;
        const char *what;
    } classes[] = {
        { IM_ACCEPT_YES, 0, "an accepted record" },
        { IM_ACCEPT_REVOCATION, 0, "an accepted revocation" },
        { IM_ACCEPT_EXPIRED, 0, "an expired record (clocks differ)" },
        { IM_ACCEPT_RECIPIENTS, 1, "a record for other recipients" },
        { IM_ACCEPT_NOT_ORIGIN, 1, "AMBER or RED from a non-origin" },
        { IM_ACCEPT_RED, 1, "RED not addressed here" },
        { IM_ACCEPT_REACH, 1, "a record beyond its reach" },
        { IM_ACCEPT_OWN_ONLY, 0, "a refusal under accept=own (the peer cannot know)" },
        { IM_ACCEPT_ORIGIN, 0, "a refusal under accept-origins" },
        { IM_ACCEPT_TYPE, 0, "a refusal under accept-types" },
        { IM_ACCEPT_INVALID, 0, "a refusal for a missing argument" },
    };
    cmp_ok (COUNT (classes), "==", IM_ACCEPT_COUNT,
            "every inbound verdict is classified below");
    for (size_t i = 0; i < COUNT (classes); i++)
        cmp_ok (im_accept_violation (classes[i].v), "==", classes[i].violation,
                "%s is %sa violation", classes[i].what,
                classes[i].violation ? "" : "not ");
}

/* --- im_policy_format --------------------------------------------------- */

/* Reads TEXT, as im_policy_format wrote it with INDENT, back into a fresh
 * default policy OUT named NAME, one "key = value" line at a time through
 * im_policy_set (a "name" line sets the name). Returns 0, or -1 with the
 * reason in ERR. */
static int
reparse (const char *text, int indent, const char *name, im_policy_t *out, char *err,
         size_t errsz)
{
    char line[4096];
    im_policy_default (out, name);
    for (const char *s = text; *s;) {
        const char *nl = strchr (s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen (s);
        if (len >= sizeof line) {
            snprintf (err, errsz, "line too long");
            return -1;
        }
        memcpy (line, s, len);
        line[len] = '\0';
        s += len + (nl ? 1 : 0);
        for (int i = 0; i < indent; i++)
            if (line[i] != ' ') {
                snprintf (err, errsz, "line '%.200s' is not indented by %d", line,
                          indent);
                return -1;
            }
        if (line[indent] == ' ' || line[indent] == '\0') {
            snprintf (err, errsz, "line '%.200s' is indented by more than %d or empty",
                      line, indent);
            return -1;
        }
        char *key = line + indent, *eq = strchr (key, '=');
        if (!eq) {
            snprintf (err, errsz, "line '%.200s' has no '='", line);
            return -1;
        }
        char *kend = eq, *value = eq + 1;
        while (kend > key && kend[-1] == ' ')
            kend--;
        *kend = '\0';
        while (*value == ' ')
            value++;
        size_t vlen = strlen (value);
        while (vlen && value[vlen - 1] == ' ')
            value[--vlen] = '\0';
        if (vlen >= 2 && (value[0] == '"' || value[0] == '\'')
            && value[vlen - 1] == value[0]) {
            value[vlen - 1] = '\0';
            value++;
        }
        if (strcmp (key, "name") == 0) {
            snprintf (out->name, sizeof out->name, "%s", value);
            continue;
        }
        char e[256];
        if (im_policy_set (out, key, value, e, sizeof e) != 0) {
            snprintf (err, errsz, "%s = '%s': %s", key, value, e);
            return -1;
        }
    }
    return 0;
}

/* Loads "policy" and TEXT (formatted with indent 4) as the configuration
 * loader does, with czmq's zconfig, and sets each key of the section with
 * im_policy_set into a fresh default policy OUT named NAME. Returns 0, or -1
 * with the reason in ERR. */
static int
reload (const char *text, const char *name, im_policy_t *out, char *err, size_t errsz)
{
    static char file[20000];
    snprintf (file, sizeof file, "policy\n%s", text);
    im_policy_default (out, name);
    zconfig_t *root = zconfig_str_load (file);
    if (!root) {
        snprintf (err, errsz, "zconfig does not load it");
        return -1;
    }
    int rc = 0;
    zconfig_t *section = zconfig_locate (root, "policy");
    for (zconfig_t *k = section ? zconfig_child (section) : NULL; k && rc == 0;
         k = zconfig_next (k)) {
        char e[256];
        const char *value = zconfig_value (k) ? zconfig_value (k) : "";
        if (im_policy_set (out, zconfig_name (k), value, e, sizeof e) != 0) {
            snprintf (err, errsz, "%s = '%s': %s", zconfig_name (k), value, e);
            rc = -1;
        }
    }
    zconfig_destroy (&root);
    return rc;
}

static void
fmt_default (im_policy_t *p)
{
    im_policy_default (p, IM_POLICY_DEFAULT);
}
static void
fmt_partners (im_policy_t *p)
{
    partners (p);
}
static void
fmt_everything (im_policy_t *p)
{
    im_policy_default (p, "everything");
    p->max_tlp = IM_TLP_AMBER_STRICT;
    p->types = BIT (IM_TYPE_SHA256) | BIT (IM_TYPE_ASN) | BIT (IM_TYPE_FILENAME);
    p->deny_types = BIT (IM_TYPE_MD5) | BIT (IM_TYPE_SHA1);
    ok_tags_16 (p);
    p->min_confidence = 100;
    ok_origins_32 (p);
}
static void
fmt_closed (im_policy_t *p)
{
    im_policy_default (p, "closed");
    p->max_tlp = IM_TLP_CLEAR;
    p->relay = 0;
    p->deny_types = BIT (IM_TYPE_URL);
    p->ntags = 1;
    strcpy (p->tags[0], "shareable");
}
static void
fmt_origins (im_policy_t *p)
{
    im_policy_default (p, "origins");
    p->norigins = 2;
    memcpy (p->origins[0], ORIGIN, IM_NODE_ID_SIZE);
    memcpy (p->origins[1], OTHER, IM_NODE_ID_SIZE);
    p->min_confidence = 1;
}

static void
fmt_quote (im_policy_t *p)
{
    char err[256];
    im_policy_default (p, "quoted");
    /* As `tags = 'say"hi,c2 #1'` in the file gives it. */
    if (im_policy_set (p, "tags", "say\"hi,c2 #1", err, sizeof err) != 0)
        diag ("tags with quotes: %s", err);
}

static void
test_format (void)
{
    static const struct {
        const char *what;
        void (*make) (im_policy_t *p);
        int indent;
    } cases[] = {
        { "the built-in default policy", fmt_default, 4 },
        { "the partners policy of SPEC.md", fmt_partners, 4 },
        { "a policy with every rule at its limits", fmt_everything, 8 },
        { "a closed policy (clear, relay=no)", fmt_closed, 0 },
        { "a policy with relay-origins", fmt_origins, 2 },
        { "a policy whose tags hold a '\"' and a '#'", fmt_quote, 4 },
    };
    static char out[16384], shown[600];
    static im_policy_t p, back;
    char err[512];

    for (size_t i = 0; i < COUNT (cases); i++) {
        cases[i].make (&p);
        errno = 0;
        int len = im_policy_format (&p, cases[i].indent, out, sizeof out);
        ok (len > 0 && (size_t)len == strlen (out), "policy_format writes %s (%d bytes)",
            cases[i].what, len);
        if (len <= 0)
            continue;
        strcpy (err, "");
        int rc = reparse (out, cases[i].indent, p.name, &back, err, sizeof err);
        ok (rc == 0, "every line of %s, indented by %d, reads back through policy_set",
            cases[i].what, cases[i].indent);
        if (rc != 0) {
            diag ("%s", err);
            diag ("formatted: %s", printable (out, shown, sizeof shown));
        }
        ok (rc == 0 && im_policy_equal (&p, &back) == 1, "%s reads back equal",
            cases[i].what);
        ok (rc == 0 && strcmp (back.name, p.name) == 0
                && im_policy_check (&back, err, sizeof err) == 0,
            "%s read back keeps its name and passes its check", cases[i].what);

        /* The same through zconfig, as the configuration loader reads it. */
        static char four[16384];
        im_policy_format (&p, 4, four, sizeof four);
        strcpy (err, "");
        rc = reload (four, p.name, &back, err, sizeof err);
        ok (rc == 0 && im_policy_equal (&p, &back) == 1,
            "%s, in a policy section, loads through zconfig and reads back equal",
            cases[i].what);
        if (rc != 0)
            diag ("%s", err);

        /* Exactly the room needed, and one byte less. */
        static char tight[16384];
        errno = 0;
        rc = im_policy_format (&p, cases[i].indent, tight, (size_t)len + 1);
        ok (rc == len && strcmp (tight, out) == 0, "%s fits in %d + 1 bytes",
            cases[i].what, len);
        errno = 0;
        rc = im_policy_format (&p, cases[i].indent, tight, (size_t)len);
        ok (rc == -1 && errno == ENOSPC, "%s in %d bytes is ENOSPC", cases[i].what, len);
        errno = 0;
        rc = im_policy_format (&p, cases[i].indent, tight, 1);
        ok (rc == -1 && errno == ENOSPC, "%s in 1 byte is ENOSPC", cases[i].what);
    }

    partners (&p);
    im_policy_format (&p, 4, out, sizeof out);
    ok (strstr (out, "    max-tlp = amber\n") != NULL,
        "partners is written 'max-tlp = amber'");
    ok (strstr (out, "domain") && strstr (out, "url") && strstr (out, "internal")
            && strstr (out, "50"),
        "partners is written with its types, deny-tags and min-confidence");
    fmt_everything (&p);
    im_policy_format (&p, 0, out, sizeof out);
    ok (strstr (out, "max-tlp = amber+strict") != NULL,
        "amber+strict is written in lower case, as SPEC.md writes labels");
    {
        char hex[IM_NODE_HEX_SIZE];
        im_node_format (p.origins[31], hex);
        ok (strstr (out, hex) != NULL,
            "the 32nd relay-origin is written as 64 hex digits");
    }
}

static const tap_test_t tests[]
    = { TAP_DIAG (
            "SPEC.md: Sharing policy (Policies in the configuration, Outbound, Inbound)"),
        TAP_TEST (test_bad_arguments),
        TAP_TEST (test_defaults),
        TAP_TEST (test_check),
        TAP_TEST (test_policy_set),
        TAP_TEST (test_inbound_set),
        TAP_TEST (test_equal),
        TAP_TEST (test_outbound_rules),
        TAP_TEST (test_outbound_order),
        TAP_TEST (test_inbound_rules),
        TAP_TEST (test_inbound_order),
        TAP_TEST (test_names),
        TAP_TEST (test_format),
        TAP_END };

int
main (int argc, char **argv)
{
    make_ids ();
    make_lists ();
    return tap_main (argc, argv, tests);
}
