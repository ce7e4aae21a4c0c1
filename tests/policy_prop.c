/* SPDX-License-Identifier: MPL-2.0 */
/* policy_prop.c -- property test of the sharing policy (SPEC.md, "Sharing
 * policy", "Reach and hops"): random meshes of real nodes with random
 * policies and random indicators; once they have converged, every node must
 * hold exactly the records that an oracle written here from the SPEC's rule
 * lists computes: nothing more (a LEAK), nothing less (an UNDER-DELIVERY).
 *
 * The oracle is independent of the node: it does not use im_policy.h. For
 * each record it walks the mesh breadth-first from the origin; a link u -> v
 * carries the record at hops h (h: the hops at which u holds it, 0 at the
 * origin) when u's outbound rules for v ("Outbound: what a node sends",
 * rules 4 to 16) and v's inbound rules for u ("Inbound: what a node
 * accepts", rules 2 to 10, the entry's hops being h) both let it. Every rule
 * allows at least as much at fewer hops, so the first visit of a node is at
 * the fewest hops any allowed path gives, which is what the node keeps ("Hops
 * over several paths"). No record is revoked, so outbound rules 1 to 3 and
 * inbound rule 1 never apply.
 *
 *   policy_prop --seed N [--count K] [--nodes-min 6] [--nodes-max 8]
 *               [--indicators 200] [--timeout 60] [--settle 1000]
 *               [--jobs 1] [--keep] [--no-rules] [--dry-run]
 *
 * --timeout bounds the wait for convergence (seconds); --settle is how long
 * the mesh must then stay as it is, once quiet, before the last look (ms);
 * --no-rules writes no policy sections and no inbound rules, so that only the
 * records' markings and the built-in default policy apply (to tell a policy
 * failure from a replication one); --dry-run starts no node and prints which
 * rules each mesh exercises. POLICY_PROP_DEBUG=1 prints the progress of
 * each poll, and which link decisions each rule made, on standard error.
 *
 * Mesh i uses seed N+i: the mesh, the policies and the indicators follow
 * from the seed alone, so `--seed S --count 1` runs one mesh again. INTELMESH
 * and INTELMESHD name the command and the daemon. Output is TAP, one test a
 * mesh, the plan last. Each mesh runs in a child process of its own (at most
 * --jobs at a time), which starts and stops its daemons by PID; a failing
 * mesh keeps its directory (nodes' configurations, logs and stores). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <getopt.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#define MAXN 16  /* nodes in a mesh, at most */
#define MAXPOL 4 /* policy sections a node writes, at most */
#define NTYPES 11
#define NTAGS 6
#define UNLIMITED 255
#define DIAG_MAX 25 /* discrepancies described per mesh */

enum { CLEAR = 1, GREEN, AMBER, AMBER_STRICT, RED };

static const char *type_names[NTYPES + 1]
    = { "",    "ipv4", "ipv6",   "domain", "url",      "email",
        "md5", "sha1", "sha256", "sha512", "filename", "asn" };
static const char *tlp_names[6]
    = { "", "clear", "green", "amber", "amber+strict", "red" };
static const char *tag_names[NTAGS]
    = { "c2", "phishing", "botnet", "internal", "scan", "ransomware" };
static const char *pol_pool[] = { "default", "partners", "strict", "open", "p1", "p2" };
#define POL_POOL (sizeof pol_pool / sizeof pol_pool[0])

/* --- Options and global state ------------------------------------------- */

static struct {
    unsigned long long seed;
    int count, nodes_min, nodes_max, indicators, timeout_s, settle_ms, jobs, keep,
        no_rules;
    int dry_run;
    const char *intelmesh, *intelmeshd, *tmpdir;
} opt = { 0, 1, 6, 8, 200, 60, 1000, 1, 0, 0, 0, NULL, NULL, NULL };

static volatile sig_atomic_t g_stop;
static pid_t g_daemons[MAXN]; /* in a mesh worker: its daemons, for a hard stop */
static pid_t g_workers[64];   /* in the parent: running workers */

static void
on_signal (int sig)
{
    (void)sig;
    if (g_stop) { /* the second signal: no more waiting */
        for (int i = 0; i < MAXN; i++)
            if (g_daemons[i] > 0)
                kill (g_daemons[i], SIGKILL);
        _exit (3);
    }
    g_stop = 1;
    for (int i = 0; i < 64; i++)
        if (g_workers[i] > 0)
            kill (g_workers[i], SIGTERM);
}

static int64_t
now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR && !g_stop)
        ;
}

/* --- Random numbers: splitmix64, from the mesh's seed only --------------- */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t
rnext (rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned
rnum (rng_t *r, unsigned n) /* 0 .. n-1 */
{
    return n ? (unsigned)(rnext (r) % n) : 0;
}

static int
chance (rng_t *r, unsigned pct)
{
    return rnum (r, 100) < pct;
}

/* Copies SRC into DST of DSTSZ bytes, cut if need be. */
static void
copy_str (char *dst, size_t dstsz, const char *src)
{
    size_t len = strnlen (src, dstsz - 1);
    memmove (dst, src, len);
    dst[len] = 0;
}

/* A random subset of SIZE of the N bits 0..N-1 (of BASE..BASE+N-1 when
 * BASE is 1), avoiding the bits of AVOID. */
static unsigned
rsubset (rng_t *r, unsigned n, unsigned base, unsigned size, unsigned avoid)
{
    unsigned set = 0;
    for (unsigned tries = 0; tries < 100 && (unsigned)__builtin_popcount (set) < size;
         tries++) {
        unsigned b = 1u << (base + rnum (r, n));
        if (!(b & avoid))
            set |= b;
    }
    return set;
}

/* --- The mesh as the test builds it -------------------------------------- */

typedef struct {
    char name[16];
    int max_tlp;       /* CLEAR .. AMBER_STRICT */
    int write_max_tlp; /* else absent: green */
    unsigned types;    /* bit per type; 0: every type */
    int types_empty;   /* written as types = "" (every type) */
    unsigned deny_types;
    unsigned tags, deny_tags; /* bit per tag index */
    int min_conf;             /* -1: absent */
    int relay;                /* 1 yes, 0 no */
    int write_relay;
    int has_relay_origins;
    unsigned relay_origins; /* bit per node index */
    int relay_foreign;      /* a node id of no node in the list too */
} pol_t;

typedef struct {
    char name[24]; /* this node's name for the peer */
    int pol;       /* index into the node's pols; -1: "default" */
    int write_pol; /* write `policy = ` even when "default" */
    int dial_in;   /* endpoint = "": the peer dials this node */
    int accept_own;
    unsigned accept_types; /* 0: not given */
    int has_accept_origins;
    unsigned accept_origins;
    int accept_foreign;
    int write_rate;
} peercfg_t;

typedef struct {
    char name[16];
    char dir[232];
    int port;
    char id[65]; /* node id, hex */
    char card[512];
    pol_t pols[MAXPOL];
    int npols;
    int default_pol;      /* index of the policy named default, or -1 */
    int pols_first;       /* policy sections before the peer sections */
    peercfg_t peer[MAXN]; /* for each neighbour */
    pid_t pid;
    int exited, status;
    zsock_t *ctl;
} node_t;

typedef struct {
    int origin;
    int type, tlp, conf, reach;
    unsigned recips;   /* bit per node index */
    int recip_foreign; /* also names a node id of no node of the mesh */
    unsigned tags;
    int expired;      /* valid_until 2020-01-01 */
    int future;       /* valid_from 2099-01-01 (not yet valid: still shared) */
    int until_future; /* valid_until 2099-12-31 */
    char value[160];
    char id[40];
    /* the oracle */
    unsigned holders;
    int dist[MAXN], parent[MAXN];
    /* what the nodes hold */
    unsigned held;
} rec_t;

typedef struct {
    unsigned long long seed;
    int idx;
    int n;
    int adj[MAXN][MAXN];
    int nlinks;
    node_t node[MAXN];
    rec_t *rec;
    int nrec;
    int *order; /* record indexes sorted by id */
    char root[200];
    char foreign_id[65]; /* a node id that no node of the mesh has */
    FILE *out;
    int failed;
} mesh_t;

static void diag (mesh_t *m, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
diag (mesh_t *m, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fputs ("# ", m->out);
    vfprintf (m->out, fmt, ap);
    fputc ('\n', m->out);
    va_end (ap);
    fflush (m->out);
}

/* --- Generating the mesh, policies and indicators ----------------------- */

static void
gen_policy (rng_t *r, mesh_t *m, pol_t *p, const char *name)
{
    memset (p, 0, sizeof *p);
    snprintf (p->name, sizeof p->name, "%s", name);
    p->max_tlp = CLEAR + (int)rnum (r, 4);
    p->write_max_tlp = p->max_tlp != GREEN || chance (r, 50);
    if (chance (r, 25))
        p->types = rsubset (r, NTYPES, 1, 1 + rnum (r, 6), 0);
    else if (chance (r, 5))
        p->types_empty = 1;
    if (chance (r, 20))
        p->deny_types = rsubset (r, NTYPES, 1, 1 + rnum (r, 3), p->types);
    if (chance (r, 15))
        p->tags = rsubset (r, NTAGS, 0, 1 + rnum (r, 3), 0);
    if (chance (r, 20))
        p->deny_tags = rsubset (r, NTAGS, 0, 1 + rnum (r, 2), p->tags);
    p->min_conf = chance (r, 20) ? (int)rnum (r, 81) : -1;
    p->relay = !chance (r, 15);
    p->write_relay = !p->relay || chance (r, 30);
    if (p->relay && chance (r, 20)) {
        p->has_relay_origins = 1;
        p->relay_origins = rsubset (r, (unsigned)m->n, 0, 1 + rnum (r, 4), 0);
        p->relay_foreign = chance (r, 20);
    }
}

static void
gen_mesh (mesh_t *m)
{
    rng_t r = { m->seed * 0x2545f4914f6cdd1dULL + 17 };
    int n = opt.nodes_min + (int)rnum (&r, (unsigned)(opt.nodes_max - opt.nodes_min + 1));
    m->n = n;
    for (int i = 0; i < 64; i++)
        m->foreign_id[i] = "0123456789abcdef"[rnum (&r, 16)];
    m->foreign_id[64] = 0;

    /* A random spanning tree, then a few more links. */
    int perm[MAXN];
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rnum (&r, (unsigned)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 1; i < n; i++) {
        int a = perm[i], b = perm[rnum (&r, (unsigned)i)];
        m->adj[a][b] = m->adj[b][a] = 1;
        m->nlinks++;
    }
    int extra = 1 + (int)rnum (&r, (unsigned)n / 2 + 1);
    for (int tries = 0; extra > 0 && tries < 200; tries++) {
        int a = (int)rnum (&r, (unsigned)n), b = (int)rnum (&r, (unsigned)n);
        if (a == b || m->adj[a][b])
            continue;
        m->adj[a][b] = m->adj[b][a] = 1;
        m->nlinks++;
        extra--;
    }

    for (int u = 0; u < n; u++) {
        node_t *nd = &m->node[u];
        snprintf (nd->name, sizeof nd->name, "n%d", u);
        nd->default_pol = -1;
        nd->npols = (int)rnum (&r, MAXPOL);
        unsigned used = 0;
        for (int k = 0; k < nd->npols; k++) {
            unsigned pick;
            do
                pick = rnum (&r, POL_POOL);
            while (used & (1u << pick));
            used |= 1u << pick;
            gen_policy (&r, m, &nd->pols[k], pol_pool[pick]);
            if (pick == 0)
                nd->default_pol = k;
        }
        nd->pols_first = chance (&r, 60);
        if (opt.no_rules) {
            nd->npols = 0;
            nd->default_pol = -1;
        }
    }
    for (int u = 0; u < n; u++)
        for (int v = 0; v < n; v++) {
            if (!m->adj[u][v])
                continue;
            peercfg_t *pc = &m->node[u].peer[v];
            /* Sometimes a name of this node's own for the peer. */
            char alias[64];
            if (chance (&r, 25))
                snprintf (alias, sizeof alias, "x-n%d-%d", v, u);
            else
                snprintf (alias, sizeof alias, "n%d", v);
            copy_str (pc->name, sizeof pc->name, alias);
            pc->pol = m->node[u].npols && chance (&r, 75)
                          ? (int)rnum (&r, (unsigned)m->node[u].npols)
                          : -1;
            if (pc->pol >= 0 && pc->pol == m->node[u].default_pol && chance (&r, 50))
                pc->pol = -1; /* the same policy, by omission */
            pc->write_pol = pc->pol >= 0 || chance (&r, 30);
            pc->accept_own = chance (&r, 12);
            if (chance (&r, 15))
                pc->accept_types = rsubset (&r, NTYPES, 1, 3 + rnum (&r, 6), 0);
            if (!pc->accept_own && chance (&r, 10)) {
                pc->has_accept_origins = 1;
                pc->accept_origins = rsubset (&r, (unsigned)n, 0, 2 + rnum (&r, 4), 0);
                pc->accept_foreign = chance (&r, 20);
            }
            else if (pc->accept_own && chance (&r, 20)) {
                /* accept = own with accept-origins naming the peer itself. */
                pc->has_accept_origins = 1;
                pc->accept_origins = 1u << v;
            }
            pc->write_rate = chance (&r, 20);
            if (opt.no_rules) {
                pc->pol = -1;
                pc->write_pol = 0;
                pc->accept_own = 0;
                pc->accept_types = 0;
                pc->has_accept_origins = 0;
                pc->write_rate = 0;
            }
        }
    /* One end of some links dials in only (endpoint ""). */
    for (int u = 0; u < n; u++)
        for (int v = u + 1; v < n; v++)
            if (m->adj[u][v] && chance (&r, 15)) {
                if (chance (&r, 50))
                    m->node[u].peer[v].dial_in = 1;
                else
                    m->node[v].peer[u].dial_in = 1;
            }

    /* The indicators. */
    m->nrec = opt.indicators;
    m->rec = calloc ((size_t)m->nrec, sizeof *m->rec);
    m->order = calloc ((size_t)m->nrec, sizeof *m->order);
    unsigned tag = (unsigned)(m->seed % 100000);
    for (int k = 0; k < m->nrec; k++) {
        rec_t *x = &m->rec[k];
        x->origin = (int)rnum (&r, (unsigned)n);
        x->type = 1 + (int)rnum (&r, NTYPES);
        x->tlp = CLEAR + (int)rnum (&r, 5);
        x->conf = (int)rnum (&r, 101);
        static const int reaches[] = { 0, 1, 2, 3, UNLIMITED };
        x->reach = reaches[rnum (&r, 5)];
        if (chance (&r, 25)) {
            x->recips = rsubset (&r, (unsigned)n, 0, 1 + rnum (&r, 3), 0);
            x->recip_foreign = chance (&r, 15);
        }
        else if (chance (&r, 2))
            x->recip_foreign = 1; /* names only a node outside the mesh */
        if (chance (&r, 70))
            x->tags = rsubset (&r, NTAGS, 0, 1 + rnum (&r, 2), 0);
        if (chance (&r, 6))
            x->expired = 1;
        else if (chance (&r, 5))
            x->future = 1;
        else if (chance (&r, 10))
            x->until_future = 1;
        char hex[129];
        for (int i = 0; i < 128; i++)
            hex[i] = "0123456789abcdef"[rnum (&r, 16)];
        hex[128] = 0;
        switch (x->type) {
        case 1:
            snprintf (x->value, sizeof x->value, "11.%u.%d.%d", tag % 250 + 1, k / 256,
                      k % 256);
            break;
        case 2:
            snprintf (x->value, sizeof x->value, "2001:db8:%x::%x", tag % 0xffff + 1,
                      k + 1);
            break;
        case 3:
            snprintf (x->value, sizeof x->value, "r%d.m%u.example.org", k, tag);
            break;
        case 4:
            snprintf (x->value, sizeof x->value, "https://u%d.m%u.example.net/p?q=%d", k,
                      tag, k);
            break;
        case 5:
            snprintf (x->value, sizeof x->value, "u%d@m%u.example.com", k, tag);
            break;
        case 6: snprintf (x->value, sizeof x->value, "%.32s", hex); break;
        case 7: snprintf (x->value, sizeof x->value, "%.40s", hex); break;
        case 8: snprintf (x->value, sizeof x->value, "%.64s", hex); break;
        case 9: snprintf (x->value, sizeof x->value, "%.128s", hex); break;
        case 10: snprintf (x->value, sizeof x->value, "evil-%d-%u.exe", k, tag); break;
        default: snprintf (x->value, sizeof x->value, "AS%d", 64496 + k); break;
        }
    }
}

/* --- The oracle: SPEC.md, "Outbound" and "Inbound" ----------------------- */

static const pol_t builtin_default
    = { .name = "default", .max_tlp = GREEN, .min_conf = -1, .relay = 1 };

/* The outbound policy of U for its peer V. */
static const pol_t *
out_policy (const mesh_t *m, int u, int v)
{
    const node_t *nd = &m->node[u];
    int k = nd->peer[v].pol;
    if (k < 0)
        k = nd->default_pol;
    return k >= 0 ? &nd->pols[k] : &builtin_default;
}

static int
named (const rec_t *x, int v)
{
    return (x->recips >> v) & 1;
}

static int
has_recipients (const rec_t *x)
{
    return x->recips || x->recip_foreign;
}

/* NULL when U, holding X at hops H, sends it to its peer V; else the rule
 * that stops it. */
static const char *
out_rule (const mesh_t *m, int u, int v, int h, const rec_t *x)
{
    const pol_t *p = out_policy (m, u, v);
    int own = u == x->origin;
    if (v == x->origin)
        return "out 1: the peer is its origin";
    if (x->expired)
        return "out 4: expired";
    if (has_recipients (x) && !named (x, v))
        return "out 5: recipients named, the peer is not one";
    if (x->tlp >= AMBER && !own)
        return "out 6: AMBER/AMBER+STRICT/RED and not its origin";
    if (x->tlp == RED && !named (x, v))
        return "out 7: RED and the peer is not named";
    if (!named (x, v) && x->tlp > p->max_tlp)
        return "out 8: above max-tlp, the peer not named";
    if (x->reach != UNLIMITED && h + 1 > x->reach)
        return "out 9: beyond its reach";
    if (!own && !p->relay)
        return "out 10: relay = no";
    if (!own && p->has_relay_origins && !((p->relay_origins >> x->origin) & 1))
        return "out 11: origin not in relay-origins";
    if (p->types && !((p->types >> x->type) & 1))
        return "out 12: type not in types";
    if ((p->deny_types >> x->type) & 1)
        return "out 12: type in deny-types";
    if (p->tags && !(p->tags & x->tags))
        return "out 13: none of the tags";
    if (p->deny_tags & x->tags)
        return "out 14: a denied tag";
    if (p->min_conf >= 0 && x->conf < p->min_conf)
        return "out 15: below min-confidence";
    (void)h;
    return NULL;
}

/* NULL when V accepts X from its peer U, which holds it at hops H; else the
 * rule that refuses it. */
static const char *
in_rule (const mesh_t *m, int v, int u, int h, const rec_t *x)
{
    const peercfg_t *pc = &m->node[v].peer[u];
    if (x->expired)
        return "in 2: expired";
    if (has_recipients (x) && !named (x, v))
        return "in 3: recipients named, this node is not one";
    if (x->tlp >= AMBER && (u != x->origin || h != 0))
        return "in 4: AMBER/AMBER+STRICT/RED not from its origin";
    if (x->tlp == RED && !named (x, v))
        return "in 5: RED not naming this node";
    if (x->reach != UNLIMITED && h + 1 > x->reach)
        return "in 6: beyond its reach";
    if (pc->accept_own && u != x->origin)
        return "in 7: accept = own";
    if (pc->has_accept_origins && !((pc->accept_origins >> x->origin) & 1))
        return "in 8: origin not in accept-origins";
    if (pc->accept_types && !((pc->accept_types >> x->type) & 1))
        return "in 9: type not in accept-types";
    return NULL;
}

/* Whether U, holding the carrier of X (SPEC.md, "Carrying sealed
 * envelopes": TLP:GREEN, no recipients, tags or type rules, X's reach) at
 * hops H, sends it to V and V takes it. */
static int
carrier_goes (const mesh_t *m, int u, int v, int h, const rec_t *x)
{
    const pol_t *p = out_policy (m, u, v);
    const peercfg_t *pc = &m->node[v].peer[u];
    int own = u == x->origin;
    return v != x->origin && !x->expired && GREEN <= p->max_tlp
           && (x->reach == UNLIMITED || h + 1 <= x->reach) && (own || p->relay)
           && (own || !p->has_relay_origins || ((p->relay_origins >> x->origin) & 1))
           && !(pc->accept_own && u != x->origin)
           && !(pc->has_accept_origins && !((pc->accept_origins >> x->origin) & 1));
}

/* The holders of X by the rules: breadth first from its origin, each hop
 * by out_rule and in_rule, hops the fewest. A recipient that is no peer of
 * the origin gets X sealed, wherever X's carrier reaches it (at the
 * carrier's hops), and goes on from there. */
static void
oracle (mesh_t *m, rec_t *x)
{
    int queue[MAXN * MAXN], head = 0, tail = 0, cdist[MAXN];
    for (int i = 0; i < m->n; i++)
        x->dist[i] = x->parent[i] = cdist[i] = -1;
    cdist[x->origin] = 0;
    queue[tail++] = x->origin;
    while (head < tail) {
        int u = queue[head++];
        for (int v = 0; v < m->n; v++)
            if (m->adj[u][v] && cdist[v] < 0 && carrier_goes (m, u, v, cdist[u], x)) {
                cdist[v] = cdist[u] + 1;
                queue[tail++] = v;
            }
    }
    x->dist[x->origin] = 0;
    for (int v = 0; v < m->n; v++)
        if (v != x->origin && named (x, v) && !m->adj[x->origin][v] && cdist[v] > 0) {
            x->dist[v] = cdist[v];
            x->parent[v] = x->origin;
        }
    /* The fewest hops over every path, sealed ones included. */
    for (int changed = 1; changed;) {
        changed = 0;
        for (int u = 0; u < m->n; u++)
            for (int v = 0; x->dist[u] >= 0 && v < m->n; v++) {
                int h = x->dist[u];
                if (u == v || !m->adj[u][v] || (x->dist[v] >= 0 && x->dist[v] <= h + 1)
                    || out_rule (m, u, v, h, x) || in_rule (m, v, u, h, x))
                    continue;
                x->dist[v] = h + 1;
                x->parent[v] = u;
                changed = 1;
            }
    }
    x->holders = 0;
    for (int v = 0; v < m->n; v++)
        if (x->dist[v] >= 0)
            x->holders |= 1u << v;
}

static const char *
str_or (const char *s, const char *otherwise)
{
    return s ? s : otherwise;
}

/* --- Describing things for diagnostics ------------------------------------ */

static void
list_bits (char *buf, size_t sz, unsigned bits, int base, int n, const char *const *names,
           const mesh_t *m)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = base; i < base + n; i++)
        if ((bits >> i) & 1)
            o += (size_t)snprintf (buf + o, sz - o, "%s%s", o ? "," : "",
                                   names ? names[i] : m->node[i].name);
}

static void
describe_policy (const pol_t *p, const mesh_t *m, char *buf, size_t sz)
{
    char l[256];
    size_t o
        = (size_t)snprintf (buf, sz, "%s[max-tlp=%s", p->name, tlp_names[p->max_tlp]);
    if (p->types) {
        list_bits (l, sizeof l, p->types, 1, NTYPES, type_names, m);
        o += (size_t)snprintf (buf + o, sz - o, " types=%s", l);
    }
    if (p->deny_types) {
        list_bits (l, sizeof l, p->deny_types, 1, NTYPES, type_names, m);
        o += (size_t)snprintf (buf + o, sz - o, " deny-types=%s", l);
    }
    if (p->tags) {
        list_bits (l, sizeof l, p->tags, 0, NTAGS, tag_names, m);
        o += (size_t)snprintf (buf + o, sz - o, " tags=%s", l);
    }
    if (p->deny_tags) {
        list_bits (l, sizeof l, p->deny_tags, 0, NTAGS, tag_names, m);
        o += (size_t)snprintf (buf + o, sz - o, " deny-tags=%s", l);
    }
    if (p->min_conf >= 0)
        o += (size_t)snprintf (buf + o, sz - o, " min-confidence=%d", p->min_conf);
    if (!p->relay)
        o += (size_t)snprintf (buf + o, sz - o, " relay=no");
    if (p->has_relay_origins) {
        list_bits (l, sizeof l, p->relay_origins, 0, m->n, NULL, m);
        o += (size_t)snprintf (buf + o, sz - o, " relay-origins=%s%s", l,
                               p->relay_foreign ? ",<foreign>" : "");
    }
    snprintf (buf + o, sz - o, "]");
}

static void
describe_inbound (const peercfg_t *pc, const mesh_t *m, char *buf, size_t sz)
{
    char l[256];
    size_t o
        = (size_t)snprintf (buf, sz, "accept=%s", pc->accept_own ? "own" : "relayed");
    if (pc->accept_types) {
        list_bits (l, sizeof l, pc->accept_types, 1, NTYPES, type_names, m);
        o += (size_t)snprintf (buf + o, sz - o, " accept-types=%s", l);
    }
    if (pc->has_accept_origins) {
        list_bits (l, sizeof l, pc->accept_origins, 0, m->n, NULL, m);
        o += (size_t)snprintf (buf + o, sz - o, " accept-origins=%s%s", l,
                               pc->accept_foreign ? ",<foreign>" : "");
    }
    (void)o;
}

static void
describe_record (const mesh_t *m, const rec_t *x, char *buf, size_t sz)
{
    char recips[256], tags[128];
    list_bits (recips, sizeof recips, x->recips, 0, m->n, NULL, m);
    if (x->recip_foreign)
        strcat (recips, recips[0] ? ",<foreign>" : "<foreign>");
    list_bits (tags, sizeof tags, x->tags, 0, NTAGS, tag_names, m);
    char reach[16];
    if (x->reach == UNLIMITED)
        snprintf (reach, sizeof reach, "unlimited");
    else
        snprintf (reach, sizeof reach, "%d", x->reach);
    snprintf (buf, sz,
              "%s from %s: %s %s, tlp %s, reach %s, recipients [%s], tags [%s], "
              "confidence %d%s%s",
              x->id, m->node[x->origin].name, type_names[x->type], x->value,
              tlp_names[x->tlp], reach, recips, tags, x->conf,
              x->expired ? ", valid_until 2020-01-01 (expired)" : "",
              x->future ? ", valid_from 2099-01-01" : "");
}

static void
describe_mesh (mesh_t *m)
{
    char a[1024], b[512];
    diag (m,
          "mesh: %d nodes, %d links (policy written for each direction; inbound rules at "
          "the receiver)",
          m->n, m->nlinks);
    for (int u = 0; u < m->n; u++)
        for (int v = 0; v < m->n; v++) {
            if (!m->adj[u][v])
                continue;
            describe_policy (out_policy (m, u, v), m, a, sizeof a);
            describe_inbound (&m->node[v].peer[u], m, b, sizeof b);
            diag (m, "  %s -> %s: out %s; in at %s: %s%s", m->node[u].name,
                  m->node[v].name, a, m->node[v].name, b,
                  m->node[u].peer[v].dial_in ? "; endpoint \"\" (the peer dials in)"
                                             : "");
        }
}

/* --- Processes ------------------------------------------------------------- */

/* Starts ARGV with standard input from IN (or /dev/null), standard output to
 * OUT and standard error to ERR (or /dev/null; ERR appended). */
static pid_t
spawn (char *const argv[], const char *in, const char *out, const char *err)
{
    pid_t pid = fork ();
    if (pid != 0)
        return pid;
    signal (SIGINT, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    int fd = open (in ? in : "/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2 (fd, 0);
        close (fd);
    }
    fd = open (out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2 (fd, 1);
        close (fd);
    }
    fd = open (err ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2 (fd, 2);
        close (fd);
    }
    execv (argv[0], argv);
    fprintf (stderr, "policy_prop: cannot run %s: %s\n", argv[0], strerror (errno));
    _exit (127);
}

/* Waits at most TIMEOUT_MS for PID; kills it after that. Returns its exit
 * status, or -1 when it had to be killed or died of a signal. */
static int
wait_pid (pid_t pid, int timeout_ms)
{
    int64_t end = now_ms () + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid (pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms () > end) {
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            return -1;
        }
        sleep_ms (5);
    }
}

static char *
slurp (const char *path)
{
    FILE *f = fopen (path, "r");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    char chunk[8192];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, f)) > 0) {
        if (len + got + 1 > cap) {
            cap = (len + got + 1) * 2;
            char *nb = realloc (buf, cap);
            if (!nb) {
                free (buf);
                fclose (f);
                return NULL;
            }
            buf = nb;
        }
        memcpy (buf + len, chunk, got);
        len += got;
    }
    fclose (f);
    if (!buf)
        buf = calloc (1, 1);
    else
        buf[len] = 0;
    return buf;
}

/* A free TCP port on 127.0.0.1 in 20000..31999 (below the ephemeral range):
 * one this process can bind now, and not one it gave out already. */
static int
free_port (int *given, int ngiven)
{
    static unsigned state;
    if (!state)
        state = (unsigned)getpid () * 2654435761u ^ (unsigned)now_ms ();
    for (int tries = 0; tries < 1000; tries++) {
        state = state * 1103515245u + 12345u;
        int port = 20000 + (int)((state >> 8) % 12000);
        int dup = 0;
        for (int i = 0; i < ngiven; i++)
            dup |= given[i] == port;
        if (dup)
            continue;
        int s = socket (AF_INET, SOCK_STREAM, 0);
        if (s < 0)
            return -1;
        struct sockaddr_in a = { 0 };
        a.sin_family = AF_INET;
        a.sin_port = htons ((uint16_t)port);
        a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        int ok = bind (s, (struct sockaddr *)&a, sizeof a) == 0;
        close (s);
        if (ok)
            return port;
    }
    return -1;
}

static int
rm_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove (path);
}

/* --- The control socket ---------------------------------------------------- */

/* Sends COMMAND with BODY to node U's control socket; returns the reply's
 * object (OK) or NULL (ERROR, no reply within TIMEOUT_MS: the socket is made
 * again, so that a late reply is never taken for the next one). */
static json_t *
ctl_call (mesh_t *m, int u, const char *command, const char *body, int timeout_ms,
          int *is_error)
{
    node_t *nd = &m->node[u];
    if (is_error)
        *is_error = 0;
    if (!nd->ctl) {
        char ep[512];
        snprintf (ep, sizeof ep, "ipc://%s/control.sock", nd->dir);
        nd->ctl = zsock_new (ZMQ_DEALER);
        if (!nd->ctl)
            return NULL;
        zsock_set_linger (nd->ctl, 0);
        if (zsock_connect (nd->ctl, "%s", ep)) {
            zsock_destroy (&nd->ctl);
            return NULL;
        }
    }
    zsock_set_sndtimeo (nd->ctl, timeout_ms);
    if (zstr_sendm (nd->ctl, command) || zstr_send (nd->ctl, body)) {
        zsock_destroy (&nd->ctl);
        return NULL;
    }
    zpoller_t *poller = zpoller_new (nd->ctl, NULL);
    void *which = NULL;
    int64_t end = now_ms () + timeout_ms;
    while (!which && !g_stop && now_ms () < end) {
        int64_t left = end - now_ms ();
        which = zpoller_wait (poller, (int)(left < 100 ? left : 100));
        if (!which && zpoller_terminated (poller))
            break;
    }
    zpoller_destroy (&poller);
    if (!which) {
        zsock_destroy (&nd->ctl);
        return NULL;
    }
    zmsg_t *msg = zmsg_recv (nd->ctl);
    if (!msg || zmsg_size (msg) != 2) {
        zmsg_destroy (&msg);
        zsock_destroy (&nd->ctl);
        return NULL;
    }
    char *status = zmsg_popstr (msg), *text = zmsg_popstr (msg);
    zmsg_destroy (&msg);
    json_t *reply = text ? json_loads (text, 0, NULL) : NULL;
    if (status && strcmp (status, "OK") != 0) {
        if (is_error)
            *is_error = 1;
        json_decref (reply);
        reply = NULL;
    }
    zstr_free (&status);
    zstr_free (&text);
    return reply;
}

/* --- Setting up the mesh ----------------------------------------------------- */

/* An origin in a list at node U: the peer's name at U when it is U's peer and
 * the coin says so, else its node id. */
static void
append_origin (const mesh_t *m, int u, int o, rng_t *r, char *buf, size_t sz)
{
    size_t len = strlen (buf);
    if (o != u && m->adj[u][o] && chance (r, 50))
        snprintf (buf + len, sz - len, "%s%s", len ? "," : "", m->node[u].peer[o].name);
    else
        snprintf (buf + len, sz - len, "%s%s", len ? "," : "", m->node[o].id);
}

static void
write_list (FILE *f, const char *key, unsigned bits, int base, int n,
            const char *const *names)
{
    fprintf (f, "    %s = \"", key);
    int first = 1;
    for (int i = base; i < base + n; i++)
        if ((bits >> i) & 1) {
            fprintf (f, "%s%s", first ? "" : ",", names[i]);
            first = 0;
        }
    fprintf (f, "\"\n");
}

static void
write_policies (mesh_t *m, int u, FILE *f, rng_t *r)
{
    node_t *nd = &m->node[u];
    for (int k = 0; k < nd->npols; k++) {
        const pol_t *p = &nd->pols[k];
        fprintf (f, "\npolicy\n    name = \"%s\"\n", p->name);
        if (p->write_max_tlp)
            fprintf (f, "    max-tlp = \"%s\"\n", tlp_names[p->max_tlp]);
        if (p->types)
            write_list (f, "types", p->types, 1, NTYPES, type_names);
        else if (p->types_empty)
            fprintf (f, "    types = \"\"\n");
        if (p->deny_types)
            write_list (f, "deny-types", p->deny_types, 1, NTYPES, type_names);
        if (p->tags)
            write_list (f, "tags", p->tags, 0, NTAGS, tag_names);
        if (p->deny_tags)
            write_list (f, "deny-tags", p->deny_tags, 0, NTAGS, tag_names);
        if (p->min_conf >= 0)
            fprintf (f, "    min-confidence = %d\n", p->min_conf);
        if (p->write_relay)
            fprintf (f, "    relay = \"%s\"\n", p->relay ? "yes" : "no");
        if (p->has_relay_origins) {
            char l[4096] = "";
            for (int o = 0; o < m->n; o++)
                if ((p->relay_origins >> o) & 1)
                    append_origin (m, u, o, r, l, sizeof l);
            if (p->relay_foreign)
                snprintf (l + strlen (l), sizeof l - strlen (l), ",%s", m->foreign_id);
            fprintf (f, "    relay-origins = \"%s\"\n", l);
        }
    }
}

static void
write_peers (mesh_t *m, int u, FILE *f, rng_t *r)
{
    node_t *nd = &m->node[u];
    for (int v = 0; v < m->n; v++) {
        if (!m->adj[u][v])
            continue;
        const peercfg_t *pc = &nd->peer[v];
        fprintf (f, "\npeer\n    name = \"%s\"\n    card = \"%s\"\n", pc->name,
                 m->node[v].card);
        if (pc->dial_in)
            fprintf (f, "    endpoint = \"\"\n");
        if (pc->write_pol)
            fprintf (f, "    policy = \"%s\"\n",
                     pc->pol >= 0 ? nd->pols[pc->pol].name : "default");
        if (pc->accept_own)
            fprintf (f, "    accept = \"own\"\n");
        else if (chance (r, 10))
            fprintf (f, "    accept = \"relayed\"\n");
        if (pc->accept_types)
            write_list (f, "accept-types", pc->accept_types, 1, NTYPES, type_names);
        if (pc->has_accept_origins) {
            char l[4096] = "";
            for (int o = 0; o < m->n; o++)
                if ((pc->accept_origins >> o) & 1)
                    append_origin (m, u, o, r, l, sizeof l);
            if (pc->accept_foreign)
                snprintf (l + strlen (l), sizeof l - strlen (l), ",%s", m->foreign_id);
            fprintf (f, "    accept-origins = \"%s\"\n", l);
        }
        if (pc->write_rate)
            fprintf (f, "    rate = 0\n");
    }
}

static int
write_config (mesh_t *m, int u)
{
    char path[512];
    snprintf (path, sizeof path, "%s/intelmesh.conf", m->node[u].dir);
    FILE *f = fopen (path, "a");
    if (!f)
        return -1;
    /* How names are written is drawn from a stream of its own, so that it
     * does not shift the rest. */
    rng_t r = { m->seed * 31 + (uint64_t)u * 7919 + 1 };
    fprintf (f, "\n#   policy_prop: mesh seed %llu\n", m->seed);
    if (m->node[u].pols_first) {
        write_policies (m, u, f, &r);
        write_peers (m, u, f, &r);
    }
    else {
        write_peers (m, u, f, &r);
        write_policies (m, u, f, &r);
    }
    return fclose (f);
}

/* Runs `intelmesh ARGS...` for every node at once (in ARGS, "%D" stands for
 * the node's directory, "%N" for its name, "%P" for its port), standard input
 * from ROOT/nI.IN_SUFFIX when given, output to ROOT/nI.OUT_SUFFIX. WHAT names
 * the command in diagnostics. Returns the number that failed. */
static int
cli_all (mesh_t *m, const char *what, const char *const *args, const char *in_suffix,
         const char *out_suffix, int timeout_ms, int ok_status)
{
    enum { WORDS = 16, WORD = 512 };
    pid_t pids[MAXN];
    static char words[MAXN][WORDS][WORD];
    int failed = 0;
    for (int u = 0; u < m->n; u++) {
        char *argv[WORDS + 1];
        int a = 0;
        argv[a++] = (char *)opt.intelmesh;
        for (int i = 0; args[i] && a < WORDS; i++, a++) {
            char *w = words[u][a];
            size_t o = 0;
            for (const char *s = args[i]; *s && o < WORD - 1; s++) {
                char num[16];
                const char *put = NULL;
                if (s[0] == '%' && s[1] == 'D')
                    put = m->node[u].dir;
                else if (s[0] == '%' && s[1] == 'N')
                    put = m->node[u].name;
                else if (s[0] == '%' && s[1] == 'P') {
                    snprintf (num, sizeof num, "%d", m->node[u].port);
                    put = num;
                }
                if (put) {
                    s++;
                    for (; *put && o < WORD - 1; put++)
                        w[o++] = *put;
                }
                else
                    w[o++] = *s;
            }
            w[o] = 0;
            argv[a] = w;
        }
        argv[a] = NULL;
        char in[512], out[512], err[512];
        snprintf (in, sizeof in, "%s/%s.%s", m->root, m->node[u].name,
                  in_suffix ? in_suffix : "");
        snprintf (out, sizeof out, "%s/%s.%s", m->root, m->node[u].name, out_suffix);
        snprintf (err, sizeof err, "%s/%s.cli.err", m->root, m->node[u].name);
        pids[u] = spawn (argv, in_suffix ? in : NULL, out, err);
    }
    for (int u = 0; u < m->n; u++) {
        int rc = pids[u] > 0 ? wait_pid (pids[u], timeout_ms) : -1;
        if (rc != 0 && rc != ok_status) {
            char err[512];
            snprintf (err, sizeof err, "%s/%s.cli.err", m->root, m->node[u].name);
            char *text = slurp (err);
            diag (m, "intelmesh %s failed for %s (status %d): %.300s", what,
                  m->node[u].name, rc, text ? text : "");
            free (text);
            failed++;
        }
    }
    return failed;
}

static int
setup (mesh_t *m)
{
    int ports[MAXN];
    for (int u = 0; u < m->n; u++) {
        node_t *nd = &m->node[u];
        char dir[sizeof nd->dir];
        snprintf (dir, sizeof dir, "%s/n%d", m->root, u);
        copy_str (nd->dir, sizeof nd->dir, dir);
        nd->port = ports[u] = free_port (ports, u);
        if (nd->port < 0) {
            diag (m, "no free port");
            return -1;
        }
    }
    const char *init[] = { "init",
                           "-d",
                           "%D",
                           "--name",
                           "%N",
                           "--listen",
                           "tcp://127.0.0.1:%P",
                           "--pub",
                           "ipc://%D/pub.sock",
                           NULL };
    if (cli_all (m, "init", init, NULL, "init.out", 30000, 0))
        return -1;
    const char *id[] = { "-d", "%D", "id", NULL };
    if (cli_all (m, "id", id, NULL, "card", 30000, 0))
        return -1;
    for (int u = 0; u < m->n; u++) {
        char path[512];
        snprintf (path, sizeof path, "%s/%s.card", m->root, m->node[u].name);
        char *text = slurp (path);
        char tag[32], name[65], id_hex[66], curve[66], ep[256];
        if (!text
            || sscanf (text, "%31s %64s %65s %65s %255s", tag, name, id_hex, curve, ep)
                   != 5
            || strcmp (tag, "intelmesh1") != 0 || strlen (id_hex) != 64
            || strlen (curve) != 64) {
            diag (m, "cannot read the card of %s: %s", m->node[u].name,
                  text ? text : "(none)");
            free (text);
            return -1;
        }
        copy_str (m->node[u].id, sizeof m->node[u].id, id_hex);
        snprintf (m->node[u].card, sizeof m->node[u].card, "intelmesh1 %s %s %s %s", name,
                  id_hex, curve, ep);
        free (text);
    }
    for (int u = 0; u < m->n; u++)
        if (write_config (m, u)) {
            diag (m, "cannot write the configuration of %s", m->node[u].name);
            return -1;
        }
    return 0;
}

static int
start_nodes (mesh_t *m)
{
    for (int u = 0; u < m->n; u++) {
        node_t *nd = &m->node[u];
        char log[512];
        snprintf (log, sizeof log, "%s/%s.log", m->root, nd->name);
        char *argv[] = { (char *)opt.intelmeshd, "-d", nd->dir, "--foreground", NULL };
        nd->pid = spawn (argv, NULL, NULL, log);
        g_daemons[u] = nd->pid;
        if (nd->pid < 0) {
            diag (m, "cannot fork for %s", nd->name);
            return -1;
        }
    }
    int64_t end = now_ms () + 30000;
    for (int u = 0; u < m->n; u++) {
        node_t *nd = &m->node[u];
        json_t *st = NULL;
        while (!st && !g_stop && now_ms () < end) {
            int status;
            if (waitpid (nd->pid, &status, WNOHANG) == nd->pid) {
                nd->exited = 1;
                nd->status = status;
                g_daemons[u] = 0;
                char log[512];
                snprintf (log, sizeof log, "%s/%s.log", m->root, nd->name);
                char *text = slurp (log);
                int in_use = text && strstr (text, "Address already in use");
                diag (m, "%s exited at start (status %d): %.600s", nd->name,
                      WIFEXITED (status) ? WEXITSTATUS (status) : -1, text ? text : "");
                free (text);
                return in_use ? -2 : -1;
            }
            st = ctl_call (m, u, "STATUS", "{}", 500, NULL);
            if (!st)
                sleep_ms (20);
        }
        if (!st) {
            diag (m, "%s does not answer STATUS", nd->name);
            return -1;
        }
        json_decref (st);
    }
    return 0;
}

/* Publishes every node's indicators in one `intelmesh publish --json -` each,
 * and takes the ids it prints. */
static int
publish (mesh_t *m)
{
    int count[MAXN] = { 0 };
    int *line_rec[MAXN] = { NULL };
    int bad = 0;
    for (int u = 0; u < m->n && !bad; u++) {
        line_rec[u] = calloc ((size_t)m->nrec + 1, sizeof (int));
        char path[512];
        snprintf (path, sizeof path, "%s/%s.jsonl", m->root, m->node[u].name);
        FILE *f = line_rec[u] ? fopen (path, "w") : NULL;
        if (!f) {
            diag (m, "cannot write %s", path);
            bad++;
            break;
        }
        for (int k = 0; k < m->nrec; k++) {
            rec_t *x = &m->rec[k];
            if (x->origin != u)
                continue;
            json_t *o = json_object ();
            json_object_set_new (o, "type", json_string (type_names[x->type]));
            json_object_set_new (o, "value", json_string (x->value));
            json_object_set_new (o, "tlp", json_string (tlp_names[x->tlp]));
            json_object_set_new (o, "confidence", json_integer (x->conf));
            json_object_set_new (o, "reach",
                                 x->reach == UNLIMITED ? json_string ("unlimited")
                                                       : json_integer (x->reach));
            json_t *tags = json_array ();
            for (int t = 0; t < NTAGS; t++)
                if ((x->tags >> t) & 1)
                    json_array_append_new (tags, json_string (tag_names[t]));
            json_object_set_new (o, "tags", tags);
            json_t *rc = json_array ();
            for (int v = 0; v < m->n; v++)
                if (named (x, v))
                    json_array_append_new (rc, json_string (m->node[v].id));
            if (x->recip_foreign)
                json_array_append_new (rc, json_string (m->foreign_id));
            json_object_set_new (o, "recipients", rc);
            if (x->expired) { /* valid for a year, long ago */
                json_object_set_new (o, "valid_from", json_string ("2019-01-01"));
                json_object_set_new (o, "valid_until", json_string ("2020-01-01"));
            }
            if (x->future)
                json_object_set_new (o, "valid_from", json_string ("2099-01-01"));
            if (x->until_future)
                json_object_set_new (o, "valid_until",
                                     json_string ("2099-12-31T23:00:00Z"));
            json_object_set_new (o, "description", json_string ("policy_prop"));
            char *text = json_dumps (o, JSON_COMPACT);
            fprintf (f, "%s\n", text);
            free (text);
            json_decref (o);
            line_rec[u][++count[u]] = k;
        }
        fclose (f);
    }
    const char *args[] = { "-d", "%D", "publish", "--json", "-", NULL };
    if (!bad)
        bad = cli_all (m, "publish", args, "jsonl", "published", 120000, 1);
    for (int u = 0; u < m->n && !bad; u++) {
        char path[512];
        snprintf (path, sizeof path, "%s/%s.published", m->root, m->node[u].name);
        char *text = slurp (path);
        int got = 0;
        for (char *line = text, *next; line && *line; line = next) {
            next = strchr (line, '\n');
            if (next)
                *next++ = 0;
            json_t *o = json_loads (line, 0, NULL);
            long ln = (long)json_integer_value (json_object_get (o, "line"));
            const char *id = json_string_value (json_object_get (o, "id"));
            const char *err = json_string_value (json_object_get (o, "error"));
            if (ln < 1 || ln > count[u]) {
                diag (m, "%s: publish printed an unexpected line: %.200s",
                      m->node[u].name, line);
                bad++;
            }
            else if (id && strlen (id) == 36) {
                snprintf (m->rec[line_rec[u][ln]].id, sizeof m->rec[0].id, "%s", id);
                got++;
            }
            else {
                char d[1024];
                describe_record (m, &m->rec[line_rec[u][ln]], d, sizeof d);
                diag (m, "%s refused %s: %s", m->node[u].name, d, err ? err : "?");
                bad++;
            }
            json_decref (o);
            if (!next)
                break;
        }
        free (text);
        if (!bad && got != count[u]) {
            char err[512];
            snprintf (err, sizeof err, "%s/%s.cli.err", m->root, m->node[u].name);
            char *said = slurp (err);
            diag (m, "%s: %d indicators given to publish, %d ids back; it said: %.300s",
                  m->node[u].name, count[u], got, said ? said : "");
            free (said);
            bad++;
        }
    }
    for (int u = 0; u < m->n; u++)
        free (line_rec[u]);
    return bad ? -1 : 0;
}

/* --- Comparing what the nodes hold with the oracle ---------------------------- */

static const mesh_t *sort_mesh;

static int
cmp_order (const void *a, const void *b)
{
    return strcmp (sort_mesh->rec[*(const int *)a].id,
                   sort_mesh->rec[*(const int *)b].id);
}

static int
find_rec (const mesh_t *m, const char *id)
{
    int lo = 0, hi = m->nrec - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp (m->rec[m->order[mid]].id, id);
        if (c == 0)
            return m->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

typedef struct {
    int node;
    char origin[65], id[40];
} stranger_t;

/* Reads every node's records (LIST, page by page) into each record's `held`.
 * Records the test did not publish are strangers. Returns 0, or -1 when a
 * node did not answer. */
static int
collect (mesh_t *m, stranger_t *strangers, int *nstrangers, int max_strangers)
{
    for (int k = 0; k < m->nrec; k++)
        m->rec[k].held = 0;
    *nstrangers = 0;
    for (int u = 0; u < m->n; u++) {
        char after[100] = "";
        for (int page = 0; page < 1000; page++) {
            char body[200];
            if (after[0])
                snprintf (body, sizeof body, "{\"after\":\"%s\",\"limit\":1000}", after);
            else
                snprintf (body, sizeof body, "{\"limit\":1000}");
            json_t *reply = ctl_call (m, u, "LIST", body, 10000, NULL);
            if (!reply)
                return -1;
            json_t *records = json_object_get (reply, "records"), *r;
            size_t i;
            json_array_foreach (records, i, r)
            {
                const char *id = json_string_value (json_object_get (r, "id"));
                const char *origin = json_string_value (json_object_get (r, "origin"));
                int k = id ? find_rec (m, id) : -1;
                if (k >= 0 && origin
                    && strcmp (origin, m->node[m->rec[k].origin].id) == 0)
                    m->rec[k].held |= 1u << u;
                else if (*nstrangers < max_strangers) {
                    stranger_t *s = &strangers[(*nstrangers)++];
                    s->node = u;
                    snprintf (s->origin, sizeof s->origin, "%s", origin ? origin : "?");
                    snprintf (s->id, sizeof s->id, "%s", id ? id : "?");
                }
            }
            const char *next = json_string_value (json_object_get (reply, "next"));
            if (next)
                snprintf (after, sizeof after, "%s", next);
            json_decref (reply);
            if (!next)
                break;
        }
    }
    return 0;
}

static int
converged (const mesh_t *m, int nstrangers)
{
    if (nstrangers)
        return 0;
    for (int k = 0; k < m->nrec; k++)
        if (m->rec[k].held != m->rec[k].holders)
            return 0;
    return 1;
}

/* The path the oracle found to V, "n2 -> n5 -> n1". */
static void
oracle_path (const mesh_t *m, const rec_t *x, int v, char *buf, size_t sz)
{
    int path[MAXN], len = 0;
    for (int w = v; w >= 0 && len < MAXN; w = x->parent[w])
        path[len++] = w;
    size_t o = 0;
    buf[0] = 0;
    for (int i = len - 1; i >= 0; i--)
        o += (size_t)snprintf (buf + o, sz - o, "%s%s", i == len - 1 ? "" : " -> ",
                               m->node[path[i]].name);
}

static void
explain_discrepancy (mesh_t *m, const rec_t *x, int v, int leak)
{
    char d[1024], held[256];
    describe_record (m, x, d, sizeof d);
    list_bits (held, sizeof held, x->held, 0, m->n, NULL, m);
    char want[256];
    list_bits (want, sizeof want, x->holders, 0, m->n, NULL, m);
    diag (m, "%s at %s: record %s", leak ? "LEAK" : "UNDER-DELIVERY", m->node[v].name, d);
    diag (m, "  held by [%s]; the oracle says [%s]", held, want);
    if (!leak) {
        char path[256];
        oracle_path (m, x, v, path, sizeof path);
        diag (m, "  oracle path: %s (%d hops)", path, x->dist[v]);
    }
    /* Every neighbour: what the rules say about the link to V. */
    for (int u = 0; u < m->n; u++) {
        if (!m->adj[u][v])
            continue;
        char pol[512], in[512];
        describe_policy (out_policy (m, u, v), m, pol, sizeof pol);
        describe_inbound (&m->node[v].peer[u], m, in, sizeof in);
        if (x->dist[u] < 0) {
            diag (m,
                  "  neighbour %s: %s per the oracle (policy to %s %s; %s's inbound %s)",
                  m->node[u].name,
                  (x->held >> u) & 1 ? "holds it, but should not" : "does not hold it",
                  m->node[v].name, pol, m->node[v].name, in);
            continue;
        }
        const char *o = out_rule (m, u, v, x->dist[u], x);
        const char *i = in_rule (m, v, u, x->dist[u], x);
        diag (m,
              "  neighbour %s (holds it at %d hops per the oracle): %s; %s (policy to %s "
              "%s; "
              "%s's inbound %s)",
              m->node[u].name, x->dist[u], o ? o : "out: sent", i ? i : "in: accepted",
              m->node[v].name, pol, m->node[v].name, in);
    }
    /* What the neighbours that hold it say themselves (EXPLAIN). */
    for (int u = 0; u < m->n; u++) {
        if (!m->adj[u][v] || !((x->held >> u) & 1))
            continue;
        json_t *req = json_pack ("{s:s, s:s, s:s}", "id", x->id, "origin",
                                 m->node[x->origin].id, "peer", m->node[u].peer[v].name);
        char *body = json_dumps (req, JSON_COMPACT);
        json_decref (req);
        json_t *reply = body ? ctl_call (m, u, "EXPLAIN", body, 5000, NULL) : NULL;
        free (body);
        if (!reply) {
            diag (m, "  %s's EXPLAIN for %s: no answer", m->node[u].name,
                  m->node[v].name);
            continue;
        }
        json_t *sent = json_object_get (reply, "sent");
        int hops = (int)json_integer_value (json_object_get (reply, "hops"));
        int shared = json_is_true (json_object_get (reply, "shared"));
        char verdict[300];
        if (x->dist[u] < 0)
            snprintf (verdict, sizeof verdict, "the oracle says %s should not hold it",
                      m->node[u].name);
        else {
            const char *o = out_rule (m, u, v, x->dist[u], x);
            if ((o == NULL) == shared && hops == x->dist[u])
                snprintf (verdict, sizeof verdict, "the oracle agrees");
            else
                snprintf (verdict, sizeof verdict, "the oracle says: %s, at %d hops",
                          o ? o : "sent", x->dist[u]);
        }
        diag (m, "  %s's EXPLAIN for %s: %s, hops %d, from '%s', sent log: %s (%s)",
              m->node[u].name, m->node[v].name,
              str_or (json_string_value (json_object_get (reply, "why")), "?"), hops,
              str_or (json_string_value (json_object_get (reply, "from")), "?"),
              json_is_object (sent) ? "sent" : "never sent", verdict);
        json_decref (reply);
    }
}

/* Refusals a correct sender never causes, from every node's PEERS. Returns
 * how many were found (and describes them). */
static int
check_refusals (mesh_t *m)
{
    int bad = 0;
    for (int u = 0; u < m->n; u++) {
        json_t *reply = ctl_call (m, u, "PEERS", "{}", 10000, NULL);
        if (!reply)
            continue;
        json_t *peers = json_object_get (reply, "peers"), *p;
        size_t i;
        json_array_foreach (peers, i, p)
        {
            const char *name = json_string_value (json_object_get (p, "name"));
            json_t *refused = json_object_get (p, "refused");
            const char *reasons[] = { "policy violation", "expired", "own origin",
                                      "bad signature", "malformed" };
            for (size_t k = 0; k < sizeof reasons / sizeof reasons[0]; k++) {
                json_int_t c = json_integer_value (json_object_get (refused, reasons[k]));
                if (c > 0) {
                    bad++;
                    diag (
                        m,
                        "SENT-VIOLATION: %s refused %lld record(s) from peer %s as '%s' "
                        "(a correct sender never sends those)",
                        m->node[u].name, (long long)c, name ? name : "?", reasons[k]);
                }
            }
        }
        json_decref (reply);
    }
    return bad;
}

/* On failure: the links that are not up (PEERS: not connected), which
 * explain under-deliveries that have nothing to do with the policy. */
static void
report_links (mesh_t *m)
{
    for (int u = 0; u < m->n; u++) {
        if (m->node[u].exited)
            continue;
        json_t *reply = ctl_call (m, u, "PEERS", "{}", 5000, NULL), *p;
        size_t i;
        if (!reply) {
            diag (m, "%s does not answer PEERS", m->node[u].name);
            continue;
        }
        json_array_foreach (json_object_get (reply, "peers"), i, p)
        {
            const char *name
                = str_or (json_string_value (json_object_get (p, "name")), "?");
            json_int_t lag_in = json_integer_value (json_object_get (p, "lag_in"));
            json_int_t lag_out = json_integer_value (json_object_get (p, "lag_out"));
            if (!json_is_true (json_object_get (p, "connected")))
                diag (m,
                      "LINK DOWN: %s shows its peer %s as not connected (see %s/%s.log)",
                      m->node[u].name, name, m->root, m->node[u].name);
            else if (lag_in || lag_out)
                diag (m,
                      "LINK STUCK: %s lags behind its peer %s by %lld change(s), and %s "
                      "behind it by %lld (see %s/%s.log)",
                      m->node[u].name, name, (long long)lag_in, name, (long long)lag_out,
                      m->root, m->node[u].name);
        }
        json_decref (reply);
    }
}

/* --- One mesh -------------------------------------------------------------- */

static void
stop_nodes (mesh_t *m)
{
    for (int u = 0; u < m->n; u++) {
        node_t *nd = &m->node[u];
        zsock_destroy (&nd->ctl);
        if (nd->pid > 0 && !nd->exited)
            kill (nd->pid, SIGTERM);
    }
    int64_t end = now_ms () + 10000;
    for (int u = 0; u < m->n; u++) {
        node_t *nd = &m->node[u];
        if (nd->pid <= 0 || nd->exited)
            continue;
        int status;
        pid_t r;
        while ((r = waitpid (nd->pid, &status, WNOHANG)) == 0 && now_ms () < end)
            sleep_ms (10);
        if (r != nd->pid) {
            kill (nd->pid, SIGKILL);
            waitpid (nd->pid, &status, 0);
            diag (m, "%s did not stop within 10 s of SIGTERM: killed", nd->name);
            m->failed = 1;
        }
        else if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
            diag (m, "%s exited with %s %d (see %s/%s.log)", nd->name,
                  WIFEXITED (status) ? "status" : "signal",
                  WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status), m->root,
                  nd->name);
            m->failed = 1;
        }
        nd->exited = 1;
        g_daemons[u] = 0;
    }
}

/* Any daemon gone while it should run is a failure. */
static int
daemons_alive (mesh_t *m)
{
    int ok = 1;
    for (int u = 0; u < m->n; u++) {
        node_t *nd = &m->node[u];
        int status;
        if (nd->pid > 0 && !nd->exited
            && waitpid (nd->pid, &status, WNOHANG) == nd->pid) {
            nd->exited = 1;
            g_daemons[u] = 0;
            diag (m, "%s died (%s %d; see %s/%s.log)", nd->name,
                  WIFEXITED (status) ? "status" : "signal",
                  WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status), m->root,
                  nd->name);
            ok = 0;
        }
    }
    return ok;
}

/* Sets up and starts M's nodes. free_port() only finds a port free at the
 * time; when another process takes it before the daemon binds it, the mesh
 * is made again on other ports (5 times at most). */
static int
start_mesh (mesh_t *m)
{
    for (int attempt = 1;; attempt++) {
        if (setup (m) != 0)
            return -1;
        int rc = start_nodes (m);
        if (rc != -2 || attempt == 5)
            return rc == 0 ? 0 : -1;
        diag (m, "a port was taken meanwhile: the mesh again, on other ports");
        int failed = m->failed;
        stop_nodes (m);
        m->failed = failed;
        for (int u = 0; u < m->n; u++) {
            m->node[u].pid = 0;
            m->node[u].exited = 0;
            m->node[u].status = 0;
        }
        if (nftw (m->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0
            || mkdir (m->root, 0700) != 0) {
            diag (m, "cannot empty %s: %s", m->root, strerror (errno));
            return -1;
        }
    }
}

/* Runs the mesh of M->seed; writes its result line first ("ok\t..." or "not
 * ok\t...") and diagnostics after into M->out. Returns 0 when it passed. */
static int
run_mesh (mesh_t *m)
{
    int64_t t0 = now_ms ();
    gen_mesh (m);

    int expected = 0, stopped = 0;
    for (int k = 0; k < m->nrec; k++) {
        oracle (m, &m->rec[k]);
        expected += __builtin_popcount (m->rec[k].holders) - 1;
        stopped += m->n - __builtin_popcount (m->rec[k].holders);
    }

    if (getenv ("POLICY_PROP_DEBUG") || opt.dry_run) {
        /* Which rule stopped each link a holder did not pass a record over. */
        const char *rule[64];
        int count[64], nrules = 0, passed = 0;
        for (int k = 0; k < m->nrec; k++) {
            const rec_t *x = &m->rec[k];
            for (int u = 0; u < m->n; u++)
                for (int v = 0; u != v && x->dist[u] >= 0 && v < m->n; v++) {
                    if (!m->adj[u][v])
                        continue;
                    const char *why = out_rule (m, u, v, x->dist[u], x);
                    if (!why)
                        why = in_rule (m, v, u, x->dist[u], x);
                    if (!why) {
                        passed++;
                        continue;
                    }
                    int r = 0;
                    while (r < nrules && rule[r] != why)
                        r++;
                    if (r == nrules && nrules < 64) {
                        rule[nrules] = why;
                        count[nrules++] = 0;
                    }
                    if (r < nrules)
                        count[r]++;
                }
        }
        fprintf (stderr, "mesh %d: %d link passes allowed; stopped by:\n", m->idx,
                 passed);
        for (int r = 0; r < nrules; r++)
            fprintf (stderr, "  %5d %s\n", count[r], rule[r]);
    }

    if (opt.dry_run) {
        diag (m,
              "mesh %d (seed %llu): dry run, %d deliveries expected, %d stopped by the "
              "rules",
              m->idx, m->seed, expected, stopped);
        free (m->rec);
        free (m->order);
        return 0;
    }
    char base[200];
    snprintf (base, sizeof base, "%s/policy_prop.XXXXXX", opt.tmpdir);
    if (!mkdtemp (base)) {
        diag (m, "mkdtemp %s: %s", base, strerror (errno));
        return -1;
    }
    snprintf (m->root, sizeof m->root, "%s", base);

    int64_t t_conv = 0;
    int ok = start_mesh (m) == 0;
    int64_t t_up = now_ms ();
    ok = ok && publish (m) == 0;
    int64_t t_pub = now_ms ();
    stranger_t strangers[20];
    int nstrangers = 0, listed = 0;
    if (ok) {
        sort_mesh = m;
        for (int k = 0; k < m->nrec; k++)
            m->order[k] = k;
        qsort (m->order, (size_t)m->nrec, sizeof *m->order, cmp_order);
        /* Converge: poll until every node holds the oracle's set. */
        int64_t end = now_ms () + (int64_t)opt.timeout_s * 1000;
        int done = 0;
        while (!done && !g_stop && now_ms () < end) {
            if (!daemons_alive (m)) {
                ok = 0;
                break;
            }
            int64_t tc = now_ms ();
            listed = collect (m, strangers, &nstrangers, 20) == 0;
            done = listed && converged (m, nstrangers);
            if (getenv ("POLICY_PROP_DEBUG"))
                fprintf (stderr, "collect took %lld ms\n", (long long)(now_ms () - tc));
            if (getenv ("POLICY_PROP_DEBUG") && listed) {
                int miss = 0, extra = 0;
                for (int k = 0; k < m->nrec; k++) {
                    miss += __builtin_popcount (m->rec[k].holders & ~m->rec[k].held);
                    extra += __builtin_popcount (m->rec[k].held & ~m->rec[k].holders);
                }
                fprintf (stderr, "%lld ms: %d missing, %d extra\n",
                         (long long)(now_ms () - t_pub), miss, extra);
                for (int k = 0; k < m->nrec && miss + extra <= 12; k++)
                    for (int v = 0; v < m->n; v++)
                        if (((m->rec[k].holders ^ m->rec[k].held) >> v) & 1) {
                            char d[1024];
                            describe_record (m, &m->rec[k], d, sizeof d);
                            fprintf (stderr, "   %s at %s: %s\n",
                                     (m->rec[k].held >> v) & 1 ? "extra" : "missing",
                                     m->node[v].name, d);
                        }
            }
            if (!done)
                sleep_ms (150);
        }
        t_conv = now_ms ();
        if (!done && ok && !g_stop)
            diag (m, "not converged after %d s", opt.timeout_s);
        /* Then quiet (every link up, no lag either way), a little longer,
         * and look again: late arrivals are leaks too. */
        if (done) {
            int quiet = 0;
            int64_t qend = now_ms () + 15000;
            while (!quiet && !g_stop && now_ms () < qend) {
                int dummy;
                quiet = 1;
                for (int u = 0; u < m->n && quiet; u++) {
                    json_t *reply = ctl_call (m, u, "PEERS", "{}", 10000, &dummy);
                    json_t *p;
                    size_t i;
                    if (!reply) {
                        quiet = 0;
                        break;
                    }
                    json_array_foreach (
                        json_object_get (reply, "peers"), i,
                        p) if (!json_is_true (json_object_get (p, "connected"))
                               || json_integer_value (json_object_get (p, "lag_in")) != 0
                               || json_integer_value (json_object_get (p, "lag_out"))
                                      != 0) quiet
                        = 0;
                    json_decref (reply);
                }
                if (!quiet)
                    sleep_ms (100);
            }
            if (!quiet)
                diag (m,
                      "note: the mesh did not go quiet (links up, lags 0) within 15 s");
            sleep_ms (opt.settle_ms);
            listed = collect (m, strangers, &nstrangers, 20) == 0;
            done = listed && converged (m, nstrangers);
            if (listed && !done)
                diag (m, "converged, then changed: something arrived late");
        }
        if (g_stop)
            ok = 0;
        else {
            if (!daemons_alive (m))
                ok = 0;
            if (!listed) {
                diag (m, "a node did not answer LIST");
                ok = 0;
            }
            if (!done)
                ok = 0;
            if (listed) {
                int shown = 0, leaks = 0, unders = 0;
                for (int k = 0; k < m->nrec; k++) {
                    rec_t *x = &m->rec[k];
                    for (int v = 0; v < m->n; v++) {
                        int want = (x->holders >> v) & 1, have = (x->held >> v) & 1;
                        if (want == have)
                            continue;
                        if (have)
                            leaks++;
                        else
                            unders++;
                        if (shown++ < DIAG_MAX)
                            explain_discrepancy (m, x, v, have);
                    }
                }
                for (int i = 0; i < nstrangers; i++)
                    diag (
                        m,
                        "LEAK at %s: a record the test did not publish: origin %s id %s",
                        m->node[strangers[i].node].name, strangers[i].origin,
                        strangers[i].id);
                if (leaks || unders || nstrangers)
                    diag (m, "%d leaks, %d under-deliveries, %d unknown records%s", leaks,
                          unders, nstrangers,
                          shown > DIAG_MAX ? " (the first ones described)" : "");
            }
            if (check_refusals (m))
                ok = 0;
            if (!ok)
                report_links (m);
        }
    }
    stop_nodes (m);
    if (m->failed)
        ok = 0;
    if (g_stop) {
        diag (m, "interrupted");
        ok = 0;
        if (!opt.keep)
            nftw (m->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    else if (!ok) {
        describe_mesh (m);
        diag (m, "the mesh is kept in %s (configurations, logs, stores)", m->root);
        diag (m, "rerun: policy_prop --seed %llu --count 1 --keep", m->seed);
        diag (m,
              "   or: POLICY_PROP_SEED=%llu POLICY_PROP_COUNT=1 make check "
              "TESTS=tests/t55-policy-prop.sh",
              m->seed);
    }
    else if (opt.keep)
        diag (m, "kept in %s", m->root);
    else if (nftw (m->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        diag (m, "could not remove %s: %s", m->root, strerror (errno));
    if (ok)
        diag (m,
              "mesh %d (seed %llu): %d deliveries expected, %d stopped by the rules; "
              "nodes up "
              "in %lld ms, published in %lld ms, converged in %lld ms, %lld ms in all",
              m->idx, m->seed, expected, stopped, (long long)(t_up - t0),
              (long long)(t_pub - t_up), (long long)(t_conv - t_pub),
              (long long)(now_ms () - t0));
    for (int u = 0; u < m->n; u++)
        zsock_destroy (&m->node[u].ctl);
    free (m->rec);
    free (m->order);
    return ok ? 0 : 1;
}

/* --- The parent: workers and TAP ----------------------------------------------- */

static void
usage (FILE *f)
{
    fprintf (
        f, "Usage: policy_prop --seed N [--count K] [--nodes-min 6] [--nodes-max 8]\n"
           "                   [--indicators 200] [--timeout 60] [--settle 1000]\n"
           "                   [--jobs 1] [--keep] [--no-rules] [--dry-run]\n"
           "Random meshes of intelmeshd nodes with random sharing policies and\n"
           "indicators; each node must end up holding exactly what the SPEC's rules\n"
           "give it. Mesh i uses seed N+i. INTELMESH and INTELMESHD name the binaries.\n"
           "--no-rules writes no policy sections and no inbound rules (only the\n"
           "records' own markings and the built-in default policy apply). --dry-run\n"
           "starts no node: it prints which rules each mesh exercises.\n");
}

static int
num_arg (const char *name, const char *text, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll (text, &end, 10);
    if (errno || *end || end == text || v < min || v > max) {
        fprintf (stderr, "policy_prop: %s: want a number from %lld to %lld\n", name, min,
                 max);
        return -1;
    }
    *out = v;
    return 0;
}

int
main (int argc, char **argv)
{
    static const struct option longs[] = { { "seed", required_argument, NULL, 's' },
                                           { "count", required_argument, NULL, 'c' },
                                           { "nodes-min", required_argument, NULL, 'm' },
                                           { "nodes-max", required_argument, NULL, 'M' },
                                           { "indicators", required_argument, NULL, 'i' },
                                           { "timeout", required_argument, NULL, 't' },
                                           { "settle", required_argument, NULL, 'S' },
                                           { "jobs", required_argument, NULL, 'j' },
                                           { "keep", no_argument, NULL, 'k' },
                                           { "no-rules", no_argument, NULL, 'n' },
                                           { "dry-run", no_argument, NULL, 'D' },
                                           { "help", no_argument, NULL, 'h' },
                                           { NULL, 0, NULL, 0 } };
    int have_seed = 0, c;
    long long v;
    while ((c = getopt_long (argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 's':
            if (num_arg ("--seed", optarg, 0, LLONG_MAX / 2, &v))
                return 2;
            opt.seed = (unsigned long long)v;
            have_seed = 1;
            break;
        case 'c':
            if (num_arg ("--count", optarg, 1, 1000000, &v))
                return 2;
            opt.count = (int)v;
            break;
        case 'm':
            if (num_arg ("--nodes-min", optarg, 2, MAXN, &v))
                return 2;
            opt.nodes_min = (int)v;
            break;
        case 'M':
            if (num_arg ("--nodes-max", optarg, 2, MAXN, &v))
                return 2;
            opt.nodes_max = (int)v;
            break;
        case 'i':
            if (num_arg ("--indicators", optarg, 1, 50000, &v))
                return 2;
            opt.indicators = (int)v;
            break;
        case 't':
            if (num_arg ("--timeout", optarg, 1, 3600, &v))
                return 2;
            opt.timeout_s = (int)v;
            break;
        case 'S':
            if (num_arg ("--settle", optarg, 0, 600000, &v))
                return 2;
            opt.settle_ms = (int)v;
            break;
        case 'j':
            if (num_arg ("--jobs", optarg, 1, 64, &v))
                return 2;
            opt.jobs = (int)v;
            break;
        case 'k': opt.keep = 1; break;
        case 'n': opt.no_rules = 1; break;
        case 'D': opt.dry_run = 1; break;
        case 'h': usage (stdout); return 0;
        default: usage (stderr); return 2;
        }
    }
    if (!have_seed || optind < argc || opt.nodes_min > opt.nodes_max) {
        usage (stderr);
        return 2;
    }
    opt.intelmesh = getenv ("INTELMESH");
    opt.intelmeshd = getenv ("INTELMESHD");
    if (!opt.dry_run
        && (!opt.intelmesh || !*opt.intelmesh || !opt.intelmeshd || !*opt.intelmeshd)) {
        fprintf (
            stderr,
            "policy_prop: set INTELMESH and INTELMESHD to the command and the daemon\n");
        return 2;
    }
    opt.tmpdir = getenv ("TMPDIR");
    if (!opt.tmpdir || !*opt.tmpdir)
        opt.tmpdir = "/tmp";
    if (strlen (opt.tmpdir) > 64) {
        /* A node's control socket path is at most 106 bytes. */
        printf ("# TMPDIR is too long for the nodes' control sockets: using /tmp\n");
        opt.tmpdir = "/tmp";
    }

    struct sigaction sa;
    memset (&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset (&sa.sa_mask);
    sigaction (SIGINT, &sa, NULL);
    sigaction (SIGTERM, &sa, NULL);
    setvbuf (stdout, NULL, _IOLBF, 0);

    printf ("# policy_prop: seeds %llu to %llu, %d to %d nodes, %d indicators a mesh\n",
            opt.seed, opt.seed + (unsigned long long)opt.count - 1, opt.nodes_min,
            opt.nodes_max, opt.indicators);

    /* Each mesh in a child of its own: its output goes to a file that is
     * printed, in mesh order, once it is done. */
    typedef struct {
        pid_t pid;
        char path[512];
        int done, rc;
        int64_t started;
    } job_t;
    job_t *jobs = calloc ((size_t)opt.count, sizeof *jobs);
    int next_start = 0, next_print = 0, failed = 0, running = 0;
    int64_t worker_limit = (int64_t)opt.timeout_s * 1000 + 120000;
    while (next_print < opt.count) {
        while (!g_stop && running < opt.jobs && next_start < opt.count) {
            job_t *j = &jobs[next_start];
            snprintf (j->path, sizeof j->path, "%s/policy_prop.out.XXXXXX", opt.tmpdir);
            int fd = mkstemp (j->path);
            if (fd < 0) {
                fprintf (stderr, "policy_prop: mkstemp: %s\n", strerror (errno));
                return 99;
            }
            fflush (stdout);
            j->pid = fork ();
            if (j->pid == 0) {
                zsys_handler_set (NULL);
                memset (g_workers, 0, sizeof g_workers);
                mesh_t *m = calloc (1, sizeof *m);
                m->seed = opt.seed + (unsigned long long)next_start;
                m->idx = next_start + 1;
                fcntl (fd, F_SETFD, FD_CLOEXEC); /* not for the daemons */
                m->out = fdopen (fd, "w");
                int rc = run_mesh (m);
                fclose (m->out);
                zsys_shutdown ();
                _exit (rc < 0 ? 2 : rc);
            }
            close (fd);
            if (j->pid < 0) {
                fprintf (stderr, "policy_prop: fork: %s\n", strerror (errno));
                return 99;
            }
            j->started = now_ms ();
            for (int w = 0; w < 64; w++)
                if (g_workers[w] <= 0) {
                    g_workers[w] = j->pid;
                    break;
                }
            running++;
            next_start++;
        }
        /* Reap whoever is done; stop a worker that overran. */
        for (int i = next_print; i < next_start; i++) {
            job_t *j = &jobs[i];
            if (j->done)
                continue;
            int status;
            pid_t r = waitpid (j->pid, &status, WNOHANG);
            if (r == 0 && now_ms () - j->started > worker_limit) {
                /* It has 15 s to stop its daemons. */
                kill (j->pid, SIGTERM);
                int64_t end = now_ms () + 15000;
                while ((r = waitpid (j->pid, &status, WNOHANG)) == 0 && now_ms () < end)
                    sleep_ms (50);
                if (r == 0) {
                    kill (j->pid, SIGKILL);
                    r = waitpid (j->pid, &status, 0);
                }
                printf ("# mesh %d overran %lld s: stopped\n", i + 1,
                        (long long)worker_limit / 1000);
                status = 1 << 8;
            }
            if (r == j->pid) {
                j->done = 1;
                j->rc = WIFEXITED (status) ? WEXITSTATUS (status) : 99;
                running--;
                for (int w = 0; w < 64; w++)
                    if (g_workers[w] == j->pid)
                        g_workers[w] = 0;
            }
        }
        while (next_print < next_start && jobs[next_print].done) {
            job_t *j = &jobs[next_print];
            unsigned long long seed = opt.seed + (unsigned long long)next_print;
            /* The same mesh, generated again here, for the test line. */
            mesh_t *m = calloc (1, sizeof *m);
            m->seed = seed;
            gen_mesh (m);
            printf (
                "%s %d - mesh %d (seed %llu): %d nodes, %d links, %d indicators: every "
                "node holds exactly the oracle's set\n",
                j->rc == 0 ? "ok" : "not ok", next_print + 1, next_print + 1, seed, m->n,
                m->nlinks, m->nrec);
            free (m->rec);
            free (m->order);
            free (m);
            char *text = slurp (j->path);
            if (text)
                fputs (text, stdout);
            free (text);
            unlink (j->path);
            if (j->rc != 0)
                failed++;
            next_print++;
        }
        if (g_stop && running == 0) {
            for (int i = next_print; i < opt.count; i++)
                printf ("not ok %d - mesh %d (seed %llu): not run (interrupted)\n", i + 1,
                        i + 1, opt.seed + (unsigned long long)i);
            failed += opt.count - next_print;
            next_print = opt.count;
            break;
        }
        if (next_print < opt.count)
            sleep_ms (20);
    }
    printf ("1..%d\n", opt.count);
    if (failed)
        printf ("# %d of %d meshes failed\n", failed, opt.count);
    free (jobs);
    return failed ? 1 : 0;
}
