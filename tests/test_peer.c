/* SPDX-License-Identifier: MPL-2.0 */
/* test_peer.c -- unit tests for node/im_peer.c, the peer's transition tables
 * (SPEC.md, "Peer states"): every transition listed here lands in its state,
 * every other event is refused and changes nothing; and for proto/im_record.c's
 * im_record_peek, the fixed head of an encoded record. */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "im_peer.h"
#include "im_record.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

typedef struct {
    im_peer_region_t region;
    int from;
    im_peer_event_t event;
    int to;
} row_t;

/* The transitions as SPEC.md lists them; nothing else is allowed. */
static const row_t rows[] = {
    { IM_REGION_LINK, IM_LINK_HELLO, IM_EV_HELLO_ANSWERED, IM_LINK_READY },
    { IM_REGION_LINK, IM_LINK_READY, IM_EV_HELLO_ANSWERED, IM_LINK_READY },
    { IM_REGION_LINK, IM_LINK_HELLO, IM_EV_LINK_LOST, IM_LINK_HELLO },
    { IM_REGION_LINK, IM_LINK_READY, IM_EV_LINK_LOST, IM_LINK_HELLO },

    { IM_REGION_PULL, IM_PULL_IDLE, IM_EV_PULL_SENT, IM_PULL_OUT },
    { IM_REGION_PULL, IM_PULL_OUT, IM_EV_PULL_ANSWERED, IM_PULL_IDLE },
    { IM_REGION_PULL, IM_PULL_STALE, IM_EV_PULL_ANSWERED, IM_PULL_IDLE },
    { IM_REGION_PULL, IM_PULL_IDLE, IM_EV_PULL_LOST, IM_PULL_IDLE },
    { IM_REGION_PULL, IM_PULL_OUT, IM_EV_PULL_LOST, IM_PULL_IDLE },
    { IM_REGION_PULL, IM_PULL_STALE, IM_EV_PULL_LOST, IM_PULL_IDLE },
    { IM_REGION_PULL, IM_PULL_OUT, IM_EV_CURSOR_REWOUND, IM_PULL_STALE },
    { IM_REGION_PULL, IM_PULL_STALE, IM_EV_CURSOR_REWOUND, IM_PULL_STALE },

    { IM_REGION_SERVE, IM_SERVE_IDLE, IM_EV_PARK, IM_SERVE_PARKED },
    { IM_REGION_SERVE, IM_SERVE_IDLE, IM_EV_UNPARK, IM_SERVE_IDLE },
    { IM_REGION_SERVE, IM_SERVE_PARKED, IM_EV_UNPARK, IM_SERVE_IDLE },
    { IM_REGION_SERVE, IM_SERVE_RELINK, IM_EV_UNPARK, IM_SERVE_IDLE },
    { IM_REGION_SERVE, IM_SERVE_PARKED, IM_EV_ROUTER_CUT, IM_SERVE_RELINK },
    { IM_REGION_SERVE, IM_SERVE_RELINK, IM_EV_RELINKED, IM_SERVE_PARKED },

    { IM_REGION_RESCAN, IM_RESCAN_NONE, IM_EV_POLICY_CHANGED, IM_RESCAN_WALKING },
    { IM_REGION_RESCAN, IM_RESCAN_WALKING, IM_EV_POLICY_CHANGED, IM_RESCAN_WALKING },
    { IM_REGION_RESCAN, IM_RESCAN_WALKING, IM_EV_RESCAN_DONE, IM_RESCAN_NONE },

    { IM_REGION_ROTATE, IM_ROTATE_TELLING, IM_EV_ROTATION_BEGAN, IM_ROTATE_TELLING },
    { IM_REGION_ROTATE, IM_ROTATE_ACKED, IM_EV_ROTATION_BEGAN, IM_ROTATE_TELLING },
    { IM_REGION_ROTATE, IM_ROTATE_TELLING, IM_EV_ROTATED, IM_ROTATE_ACKED },
    { IM_REGION_ROTATE, IM_ROTATE_TELLING, IM_EV_ADDED_ROTATING, IM_ROTATE_ACKED },

    { IM_REGION_DIAL, IM_DIAL_CURRENT, IM_EV_DIAL_OTHER_KEY, IM_DIAL_PREVIOUS },
    { IM_REGION_DIAL, IM_DIAL_PREVIOUS, IM_EV_DIAL_OTHER_KEY, IM_DIAL_CURRENT },
    { IM_REGION_DIAL, IM_DIAL_CURRENT, IM_EV_DIAL_NEW_KEY, IM_DIAL_CURRENT },
    { IM_REGION_DIAL, IM_DIAL_PREVIOUS, IM_EV_DIAL_NEW_KEY, IM_DIAL_CURRENT },
};

/* The number of states of each region, and its names. */
static const char *const names[IM_REGION_COUNT][4] = {
    [IM_REGION_LINK] = { "hello", "ready" },
    [IM_REGION_PULL] = { "idle", "out", "stale" },
    [IM_REGION_SERVE] = { "idle", "parked", "relink" },
    [IM_REGION_RESCAN] = { "none", "walking" },
    [IM_REGION_ROTATE] = { "telling", "acked" },
    [IM_REGION_DIAL] = { "current", "previous" },
};

static const row_t *
listed (im_peer_region_t region, int from, im_peer_event_t event)
{
    for (size_t i = 0; i < COUNT (rows); i++)
        if (rows[i].region == region && rows[i].from == from && rows[i].event == event)
            return &rows[i];
    return NULL;
}

/* States with every region in a state of its own choosing, REGION in FROM. */
static im_peer_states_t
states_with (im_peer_region_t region, int from)
{
    im_peer_states_t s = IM_PEER_STATES_INIT;
    for (int r = 0; r < IM_REGION_COUNT; r++)
        s.of[r] = im_peer_states_count ((im_peer_region_t)r) - 1;
    s.of[region] = from;
    return s;
}

static void
test_names (void)
{
    for (int r = 0; r < IM_REGION_COUNT; r++) {
        int n = 0;
        while (n < 4 && names[r][n])
            n++;
        cmp_ok (im_peer_states_count ((im_peer_region_t)r), "==", n,
                "the %s region has %d states", im_peer_region_name ((im_peer_region_t)r),
                n);
        for (int s = 0; s < n; s++)
            is (im_peer_state_name ((im_peer_region_t)r, s), names[r][s],
                "state %d of the %s region is called '%s'", s,
                im_peer_region_name ((im_peer_region_t)r), names[r][s]);
        is (im_peer_state_name ((im_peer_region_t)r, n), "?",
            "a state beyond the %s region's is called '?'",
            im_peer_region_name ((im_peer_region_t)r));
    }
    is (im_peer_region_name (IM_REGION_COUNT), "?", "no region is called '?'");
    is (im_peer_event_name (IM_EV_COUNT), "?", "no event is called '?'");
    ok (im_peer_event_region (IM_EV_COUNT) == IM_REGION_COUNT, "no event has no region");
    im_peer_states_t s = IM_PEER_STATES_INIT;
    for (int r = 0; r < IM_REGION_COUNT; r++)
        is (im_peer_state_name ((im_peer_region_t)r, s.of[r]), names[r][0],
            "a new peer's %s region starts in '%s'",
            im_peer_region_name ((im_peer_region_t)r), names[r][0]);
}

static void
test_listed (void)
{
    for (size_t i = 0; i < COUNT (rows); i++) {
        const row_t *t = &rows[i];
        im_peer_states_t s = states_with (t->region, t->from), before = s;
        int rc = im_peer_step (&s, t->event);
        before.of[t->region] = t->to;
        ok (rc == 0 && memcmp (&s, &before, sizeof s) == 0,
            "in %s state '%s', '%s' leads to '%s'", im_peer_region_name (t->region),
            im_peer_state_name (t->region, t->from), im_peer_event_name (t->event),
            im_peer_state_name (t->region, t->to));
    }
}

static void
test_refused (void)
{
    for (int e = 0; e < IM_EV_COUNT; e++) {
        im_peer_region_t region = im_peer_event_region ((im_peer_event_t)e);
        for (int from = 0; from < im_peer_states_count (region); from++) {
            if (listed (region, from, (im_peer_event_t)e))
                continue;
            im_peer_states_t s = states_with (region, from), before = s;
            errno = 0;
            int rc = im_peer_step (&s, (im_peer_event_t)e);
            ok (rc == -1 && errno == EPERM && memcmp (&s, &before, sizeof s) == 0,
                "in %s state '%s', '%s' is refused and changes nothing",
                im_peer_region_name (region), im_peer_state_name (region, from),
                im_peer_event_name ((im_peer_event_t)e));
        }
    }
    im_peer_states_t s = IM_PEER_STATES_INIT;
    errno = 0;
    ok (im_peer_step (&s, IM_EV_COUNT) == -1 && errno == EINVAL,
        "an unknown event is EINVAL");
    errno = 0;
    ok (im_peer_step (NULL, IM_EV_PARK) == -1 && errno == EINVAL, "no states is EINVAL");
}

/* The code's tables hold exactly the rows listed here. */
static void
test_tables (void)
{
    size_t total = 0;
    for (int r = 0; r < IM_REGION_COUNT; r++) {
        size_t n = 0;
        const im_peer_transition_t *t = im_peer_table ((im_peer_region_t)r, &n);
        int all = t != NULL;
        for (size_t i = 0; t && i < n; i++) {
            const row_t *want = listed ((im_peer_region_t)r, t[i].from, t[i].event);
            all = all && want && want->to == t[i].to
                  && im_peer_event_region (t[i].event) == (im_peer_region_t)r;
        }
        ok (all, "every row of the %s table is a listed transition of its region",
            im_peer_region_name ((im_peer_region_t)r));
        total += n;
    }
    cmp_ok ((long long)total, "==", (long long)COUNT (rows),
            "the tables hold as many rows as are listed");
    size_t n = 1;
    ok (im_peer_table (IM_REGION_COUNT, &n) == NULL && n == 0, "no region has no table");
}

/* A life: dealer answered, a pull out, rewound, answered; parked, cut,
 * relinked, answered. */
static void
test_story (void)
{
    static const im_peer_event_t story[] = {
        IM_EV_HELLO_ANSWERED, IM_EV_PULL_SENT, IM_EV_CURSOR_REWOUND,
        IM_EV_PULL_ANSWERED,  IM_EV_PARK,      IM_EV_ROUTER_CUT,
        IM_EV_RELINKED,       IM_EV_UNPARK,    IM_EV_ROTATED,
        IM_EV_DIAL_OTHER_KEY, IM_EV_LINK_LOST,
    };
    im_peer_states_t s = IM_PEER_STATES_INIT;
    int fine = 1;
    for (size_t i = 0; i < COUNT (story); i++)
        fine = fine && im_peer_step (&s, story[i]) == 0;
    ok (fine, "a peer's story of %zu events is allowed step by step", COUNT (story));
    ok (s.of[IM_REGION_LINK] == IM_LINK_HELLO && s.of[IM_REGION_PULL] == IM_PULL_IDLE
            && s.of[IM_REGION_SERVE] == IM_SERVE_IDLE
            && s.of[IM_REGION_ROTATE] == IM_ROTATE_ACKED
            && s.of[IM_REGION_DIAL] == IM_DIAL_PREVIOUS,
        "and ends saying HELLO, pulling nothing, serving nothing, known by our key, "
        "dialling its previous key");
    ok (im_peer_step (&s, IM_EV_ROTATED) == -1, "a second ROTATED is refused");
}

/* --- im_record_peek ------------------------------------------------------ */

static void
test_peek (void)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t seed[crypto_sign_SEEDBYTES] = { 7 };
    crypto_sign_seed_keypair (pk, sk, seed);
    im_record_t r;
    im_record_init (&r);
    memcpy (r.origin, pk, IM_NODE_ID_SIZE);
    for (int i = 0; i < IM_ID_SIZE; i++)
        r.id[i] = (uint8_t)(0xA0 + i);
    r.id[6] = 0x70; /* version 7 */
    r.id[8] = 0x80;
    r.version = UINT64_C (0x0102030405060708);
    r.op = IM_OP_REVOKE;
    r.type = IM_TYPE_DOMAIN;
    strcpy (r.value, "evil.example");
    r.tlp = IM_TLP_AMBER;
    r.confidence = 80;
    r.reach = 3;
    r.created = 1700000000;
    r.modified = 1700000100;
    r.valid_from = 1700000000;
    r.valid_until = 1800000000;
    static uint8_t buf[IM_RECORD_MAX];
    size_t len = 0;
    char err[256];
    if (im_record_sign (&r, sk, buf, sizeof buf, &len, err, sizeof err) != 0) {
        ok (0, "a record to peek at is signed: %s", err);
        return;
    }
    im_record_head_t h;
    memset (&h, 0xEE, sizeof h);
    ok (im_record_peek (buf, len, &h) == 0, "the head of a signed record is read");
    cmp_ok (h.format, "==", 2, "its format is 2");
    ok (memcmp (h.origin, r.origin, IM_NODE_ID_SIZE) == 0, "its origin is the record's");
    ok (memcmp (h.id, r.id, IM_ID_SIZE) == 0, "its id is the record's");
    ok (h.version == r.version, "its version is the record's, big-endian");
    ok (h.op == r.op && h.type == r.type && h.tlp == r.tlp
            && h.confidence == r.confidence,
        "its op, type, tlp and confidence are the record's");
    cmp_ok (h.reach, "==", 3, "its reach is the record's");
    ok (h.created == r.created && h.modified == r.modified && h.valid_from == r.valid_from
            && h.valid_until == r.valid_until,
        "its four times are the record's");
    /* The same as decoding says. */
    static im_record_t d;
    ok (im_record_decode (buf, len, 1, &d, err, sizeof err) == 0 && d.version == h.version
            && d.reach == h.reach && memcmp (d.id, h.id, IM_ID_SIZE) == 0,
        "what is peeked is what is decoded");
    errno = 0;
    ok (im_record_peek (buf, IM_RECORD_FIXED + IM_SIG_SIZE - 1, &h) == -1
            && errno == EBADMSG,
        "a buffer too short for a head and a signature is EBADMSG");
    ok (im_record_peek (buf, IM_RECORD_FIXED + IM_SIG_SIZE, &h) == 0,
        "a buffer just long enough for a head and a signature is read");
    buf[1] = 'X';
    errno = 0;
    ok (im_record_peek (buf, len, &h) == -1 && errno == EBADMSG,
        "bytes that do not start with IMR are EBADMSG");
    buf[1] = 'M';
    buf[3] = 9;
    ok (im_record_peek (buf, len, &h) == 0 && h.format == 9,
        "an unknown format version is reported, not checked");
    errno = 0;
    ok (im_record_peek (NULL, len, &h) == -1 && errno == EINVAL, "no buffer is EINVAL");
    errno = 0;
    ok (im_record_peek (buf, len, NULL) == -1 && errno == EINVAL, "no head is EINVAL");
}

static const tap_test_t tests[] = { TAP_TEST (test_names),
                                    TAP_TEST (test_listed),
                                    TAP_TEST (test_refused),
                                    TAP_TEST (test_tables),
                                    TAP_TEST (test_story),
                                    TAP_TEST (test_peek),
                                    TAP_END };

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init failed");
    return tap_main (argc, argv, tests);
}
