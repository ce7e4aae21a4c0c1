/* SPDX-License-Identifier: MPL-2.0 */
/* im_taxii_int.h -- private to the TAXII server's files: its state, the
 * parsed query of a request (im_taxii_query.c, pure functions) and the walk
 * of the store that answers objects, manifest and versions. */
#ifndef IM_TAXII_INT_H
#define IM_TAXII_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "im_config.h"
#include "im_policy.h"
#include "im_store.h"
#include "im_taxii.h"

#define TAXII_MEDIA "application/taxii+json;version=2.1"
#define TAXII_STIX_MEDIA "application/stix+json;version=2.1"
#define TAXII_API_ROOT "intelmesh" /* the one API root: /intelmesh/ */
#define TAXII_LIMIT_DEFAULT 100    /* objects a page, when not asked */
#define TAXII_LIMIT_MAX 1000       /* objects a page at most */
#define TAXII_SCAN_MAX 50000       /* changes one list request reads at most */
#define TAXII_MATCH_MAX 32         /* values in one match[...] */
#define TAXII_ID_SIZE 64           /* "indicator--UUID" and room */

/* What a request asks for (the URL's query). */
typedef struct {
    int64_t added_after_ms; /* -1: none */
    size_t limit;
    uint64_t next; /* the change the page starts after (0: the first) */
    int no_type;   /* match[type] names no type this collection holds */
    size_t nids;   /* match[id] (or the id in the URL) */
    char ids[TAXII_MATCH_MAX][TAXII_ID_SIZE];
    size_t nversions; /* match[version] as times (ms); 0: any version */
    int64_t versions[TAXII_MATCH_MAX];
} taxii_query_t;

/* Parses the query's values as the URL gave them (NULL when absent).
 * Returns 0, or -1 with errno EINVAL and the reason in ERR. */
int taxii_query_parse (taxii_query_t *q, const char *added_after, const char *limit,
                       const char *next, const char *type, const char *id,
                       const char *version, const char *spec_version, char *err,
                       size_t errsz);

/* 1 when ACCEPT (an Accept header) takes TAXII 2.1's media type. */
int taxii_accepts (const char *accept);

/* An RFC 3339 time with optional fraction into ms since the epoch. Returns
 * 0 or -1 (EINVAL). */
int taxii_time_parse (const char *text, int64_t *ms);

/* What a walk builds. */
typedef enum { TAXII_OBJECTS, TAXII_MANIFEST, TAXII_VERSIONS } taxii_what_t;

/* One page of a walk: the envelope and what its headers say. */
typedef struct {
    json_t *body;
    int64_t first_ms, last_ms; /* date_added of the first and last (-1: none) */
    size_t count;
} taxii_page_t;

#define TAXII_CONNECTIONS_MAX 64u /* and 16 from one address */

struct _im_taxii_t {
    struct MHD_Daemon *daemon;
    int fd; /* MHD's epoll descriptor, for the node's poller */
    im_store_t *store;
    uint8_t node[IM_NODE_ID_SIZE];
    char name[IM_NAME_MAX + 1];
    char listen[IM_ENDPOINT_MAX];
    char collection[40]; /* the collection's id, a UUID */
    char *cert, *key;    /* PEM, kept while the daemon runs */
    char last_error[256];
    size_t nclients;
    im_taxii_client_t clients[IM_TAXII_CLIENTS_MAX];
    size_t npolicies;
    im_policy_t policies[IM_POLICY_MAX];
    uint64_t requests, refused_auth, not_acceptable, bad_requests;
    uint64_t http_errors; /* messages of libmicrohttpd (its log is limited) */
    /* One walk of the store a turn of the node's loop: the requests that
     * come after it in that turn wait, suspended, for the next turn, so that
     * the node's own work (a peer's batch, `status`) is never held up by
     * more than one page. At most as many as connections. */
    int walked;
    struct MHD_Connection *first; /* whose turn it is, when some waited */
    size_t nwaiting;
    struct MHD_Connection *waiting[TAXII_CONNECTIONS_MAX];
    uint64_t deferred; /* requests held to a later turn */
};

/* Walks the store for CLIENT as Q asks: an envelope of objects, a manifest,
 * or (WHAT TAXII_VERSIONS) the versions of the ids in Q. Returns 0 with
 * PAGE filled (PAGE->count 0: nothing found), or -1 with errno. */
int taxii_walk (im_taxii_t *self, const im_taxii_client_t *client, const taxii_query_t *q,
                taxii_what_t what, taxii_page_t *page);

#endif
