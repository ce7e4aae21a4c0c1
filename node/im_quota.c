/* SPDX-License-Identifier: MPL-2.0 */
/* im_quota.c -- each peer's request quota: a token bucket charged for what
 * its requests cost this node (SPEC.md, "Quotas"); over it, a request is
 * dropped, counted and logged at most every 10 s. And the limit on the lines
 * a peer's messages make: PEER_LOG_PER_MIN a minute, the rest counted by kind. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "im_mesh_int.h"

/* What a request costs P's bucket up front, in units of about a millisecond
 * of work: a walk of the change log (PULL, SYNC; what was read is charged
 * after, see mesh_charge), look-ups by key (HAVE, FETCH), a sort of node ids
 * (LAZY, EAGER: one over the bucket is dropped, the last one taken stays), a
 * new link (HELLO: an answer, a pull, the lists sent again; as much for a
 * PING or PONG of a new session, a restart), a signature (ROTATE). Answers
 * to our own requests (RECORDS, FOUND, KEYS, and the HELLOs that answer
 * ours: mesh_hello_charge) are bounded by what we asked, and free. */
static double
request_cost (const peer_t *p, const im_msg_t *msg)
{
    switch (msg->id) {
    case IM_MSG_PING:
    case IM_MSG_PONG: return p->session && msg->session != p->session ? 1 : 0;
    case IM_MSG_HELLO:
    case IM_MSG_ROTATE:
    case IM_MSG_PULL:
    case IM_MSG_SYNC: return 1;
    case IM_MSG_HAVE: return 0.05 + (double)msg->count / 1000;
    case IM_MSG_FETCH: return 0.05 + (double)msg->count / 200;
    case IM_MSG_LAZY:
    case IM_MSG_EAGER: return 0.05 + (double)msg->count / 1000;
    default: return 0;
    }
}

/* QUOTA_RATE, or for tests IM_TEST_QUOTA_RATE (read once, logged): a test
 * of the quota whose flood a busy machine slows below the rate sets it
 * lower. Never higher, nor so low that a full bucket (twice the rate)
 * cannot pay for a FETCH of 1000 keys (5.05 units). */
static double
quota_rate (void)
{
    static double rate;
    if (rate == 0) {
        rate = QUOTA_RATE;
        const char *v = getenv ("IM_TEST_QUOTA_RATE");
        char *end = NULL;
        double r = v ? strtod (v, &end) : 0;
        if (v && end != v && *end == 0 && r >= 6 && r < QUOTA_RATE) {
            rate = r;
            zsys_warning ("mesh: IM_TEST_QUOTA_RATE: each peer's requests may cost %.0f "
                          "units a second, not %.0f (a test setting)",
                          rate, QUOTA_RATE);
        }
    }
    return rate;
}

double
mesh_quota_burst (void)
{
    return quota_rate () * (QUOTA_BURST / QUOTA_RATE);
}

/* Fills P's bucket for the time gone by. */
static void
quota_refill (peer_t *p, int64_t now)
{
    double burst = mesh_quota_burst ();
    p->quota += (double)(now - p->quota_at) * quota_rate () / 1000.0;
    if (p->quota > burst)
        p->quota = burst;
    p->quota_at = now;
}

void
mesh_charge (peer_t *p, double cost)
{
    p->quota -= cost;
}

int
mesh_quota_left (peer_t *p)
{
    quota_refill (p, zclock_mono ());
    return p->quota >= 1;
}

/* Charges P's bucket for MSG. Returns 0, or -1 when P is over its quota: the
 * message is dropped unread (a PULL waits instead), counted and, once in a
 * while, logged. */
int
mesh_quota (peer_t *p, const im_msg_t *msg)
{
    double cost = request_cost (p, msg);
    if (cost == 0)
        return 0;
    int64_t now = zclock_mono ();
    quota_refill (p, now);
    if (p->quota >= cost) {
        p->quota -= cost;
        return 0;
    }
    p->refused[REFUSE_QUOTA]++;
    if (now - p->quota_warned >= QUOTA_WARN_MS) {
        p->quota_warned = now;
        zsys_warning ("mesh: %s sends more requests than its quota allows (%.0f units "
                      "a second): %llu held back so far, this one a %s costing %.2f "
                      "with %.2f left",
                      p->card.name, quota_rate (),
                      (unsigned long long)p->refused[REFUSE_QUOTA], im_msg_name (msg->id),
                      cost, p->quota);
    }
    return -1;
}

int
mesh_hello_charge (peer_t *p, const im_msg_t *msg, int inbound)
{
    if (!inbound && p->hello_owed && peer_is (p, IM_REGION_LINK, IM_LINK_HELLO)) {
        p->hello_owed--;
        return 0;
    }
    return mesh_quota (p, msg);
}

/* The kinds' names in the summary, in peer_log_kind_t's order. */
static const char *const log_kinds[PEER_LOG_KINDS] = {
    [PEER_LOG_SERVED_WRITE] = "failed writes of what was served",
    [PEER_LOG_KEY_WRITE] = "failed writes of its new key",
    [PEER_LOG_SEND] = "answers that could not be sent",
    [PEER_LOG_MALFORMED] = "malformed messages",
    [PEER_LOG_HELLO] = "HELLOs refused",
    [PEER_LOG_ROTATE] = "key rotations refused",
    [PEER_LOG_SEALED_OTHER] = "records sealed by another than their origin",
    [PEER_LOG_SEALED] = "sealed records refused",
    [PEER_LOG_CREDIT] = "answers beyond the credit",
    [PEER_LOG_PULL_UNREAD] = "pulls with an answer unread",
    [PEER_LOG_EAGER] = "records an eager peer did not bring",
    [PEER_LOG_PULL_BEYOND] = "pulls beyond this store",
    [PEER_LOG_PULL_OLD] = "pulls from before this store restarted",
    [PEER_LOG_STORE_RESTART] = "restarts of its store",
    [PEER_LOG_PULL_START] = "pulls from the start",
    [PEER_LOG_RESTART] = "restarts",
    [PEER_LOG_CONNECT] = "connections",
};

/* Room for every kind's name (under 48 bytes each) and count (10 digits),
 * and the separators. */
#define KINDS_TEXT_MAX (PEER_LOG_KINDS * (48 + 2 + 10 + 1) + 16)

/* Once the minute of P's lines is over: says how many were held back in
 * it, if any, and how many of each kind, and counts anew from P's next line. */
void
mesh_peer_log_tick (peer_t *p, int64_t now)
{
    if (!p->log_at || now - p->log_at < 60000)
        return;
    if (p->unlogged) {
        char since[IM_TIME_STR_SIZE], kinds[KINDS_TEXT_MAX] = "";
        size_t len = 0;
        for (int k = 0; k < PEER_LOG_KINDS && len < sizeof kinds; k++) {
            if (!p->unlogged_of[k])
                continue;
            int n
                = snprintf (kinds + len, sizeof kinds - len, "%s%s %u",
                            len ? ", " : "; by kind: ", log_kinds[k], p->unlogged_of[k]);
            len = n < 0 ? sizeof kinds : len + (size_t)n; /* cut short: the end */
        }
        zsys_warning ("mesh: %llu more lines about what %s sent were not logged, from %s "
                      "on (at most %d a minute a peer)%s",
                      (unsigned long long)p->unlogged, p->card.name,
                      im_time_format (p->log_since, since), PEER_LOG_PER_MIN, kinds);
    }
    p->log_at = 0;
    p->logged = 0;
    p->unlogged = 0;
    memset (p->unlogged_of, 0, sizeof p->unlogged_of);
}

int
mesh_peer_log (peer_t *p, peer_log_kind_t kind)
{
    int64_t now = zclock_mono ();
    mesh_peer_log_tick (p, now);
    if (!p->log_at) {
        p->log_at = now;
        p->log_since = im_time_now ();
    }
    if (p->logged < PEER_LOG_PER_MIN) {
        p->logged++;
        return 1;
    }
    p->unlogged++;
    if ((unsigned)kind < PEER_LOG_KINDS && p->unlogged_of[kind] < UINT32_MAX)
        p->unlogged_of[kind]++;
    return 0;
}
