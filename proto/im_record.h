/* SPDX-License-Identifier: MPL-2.0 */
/* im_record.h -- the indicator record and its canonical, signed binary
 * encoding (proto/SPEC.md, "The indicator record"). The encoding is what the
 * origin signs; relays and stores carry the signed bytes unchanged. */
#ifndef IM_RECORD_H
#define IM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "im_batch.h"
#include "im_ioc.h"
#include "im_seal.h"
#include "im_util.h"

#define IM_NODE_ID_SIZE 32    /* Ed25519 public key */
#define IM_SECRET_KEY_SIZE 64 /* Ed25519 secret key (seed and public key) */
#define IM_ID_SIZE 16         /* indicator id: a UUID (this node makes version 7) */
#define IM_SIG_SIZE 64        /* Ed25519 signature */
#define IM_TAGS_MAX 32
#define IM_TAG_MAX 128
#define IM_DESC_MAX 4096
#define IM_RECIPIENTS_MAX 64
#define IM_REACH_UNLIMITED 255
#define IM_CONFIDENCE_DEFAULT 50
#define IM_ID_STR_SIZE 37                          /* UUID text and NUL */
#define IM_NODE_HEX_SIZE (2 * IM_NODE_ID_SIZE + 1) /* node id in hex and NUL */

/* Fixed part of the body: magic (4), origin, id, version (8), op, type, tlp,
 * confidence, reach (1 each), created, modified, valid_from, valid_until. */
#define IM_RECORD_FIXED (4 + IM_NODE_ID_SIZE + IM_ID_SIZE + 8 + 5 + 4 * 8)
/* Largest body, and largest signed record the codec will produce or accept
 * (format 2, whose authentication is the larger). */
#define IM_RECORD_BODY_MAX                                                               \
    (IM_RECORD_FIXED + 2 + IM_VALUE_MAX + 2 + IM_DESC_MAX + 1                            \
     + IM_TAGS_MAX * (1 + IM_TAG_MAX) + 1 + IM_RECIPIENTS_MAX * IM_NODE_ID_SIZE + 1)
#define IM_RECORD_MAX (IM_RECORD_BODY_MAX + IM_BATCH_AUTH)
/* The optional last byte of the body: the indicator is not meant for
 * automatic detection (SPEC.md, "Encoding"); absent when it is. */
#define IM_RECORD_FLAG_NO_DETECT 0x01
/* Extension items (SPEC.md, "Reports"): at most IM_EXT_ITEMS_MAX in a record
 * of format 3, kept encoded (key, 2-byte size, data) in canonical order; the
 * room is what the largest body leaves beside the smallest other fields (a
 * body stays within IM_RECORD_BODY_MAX all the same). */
#define IM_EXT_ITEMS_MAX 64
#define IM_EXT_MAX (IM_RECORD_BODY_MAX - IM_RECORD_FIXED - 9)
#define IM_RECORD_PAGE 4096 /* the page im_record_array's records start on */
#define IM_RECORD_SLOT (7 * IM_RECORD_PAGE) /* bytes of an im_record_t: whole pages */
typedef enum {
    IM_EXT_ATTACK = 1,     /* ATT&CK technique id, Tnnnn or Tnnnn.nnn */
    IM_EXT_ACTOR = 2,      /* threat actor name */
    IM_EXT_MALWARE = 3,    /* malware name */
    IM_EXT_REF = 4,        /* reference URL */
    IM_EXT_MITIGATION = 5, /* text and up to 8 reference URLs */
    IM_EXT_SIGHTING = 6,   /* a sighting's count, times and source (im_sight.h) */
    IM_EXT_SEALED = 7,     /* a carrier's sealed envelope (im_seal.h) */
    IM_EXT_EXERCISE = 8,   /* an inject's or acknowledgement's exercise name */
    IM_EXT_ACK = 9,        /* an acknowledgement: receipt and actions */
    IM_EXT_WINDOW = 10     /* an exercise's start and end */
} im_ext_key_t;
#define IM_ACK_ACTIONS_MAX 32 /* actions an acknowledgement records */
#define IM_ACTION_KINDS 4     /* detected, blocked, mitigated, escalated */

typedef enum { IM_OP_PUT = 1, IM_OP_REVOKE = 2 } im_op_t;

/* A decoded indicator. A plain value type (it is copied into batches and
 * filled by the decoder); every string is NUL terminated and every count is
 * within its limit once im_record_check() has passed. Times are seconds since
 * the Unix epoch, UTC; valid_from and valid_until are 0 when unset.
 *
 * A record fills IM_RECORD_SLOT bytes, seven pages: in an array that starts
 * on a page (im_record_array) every record does too, and a short one is then
 * written and read in one page. At its fields' 24,768 bytes a record began
 * anywhere in a page, and half of them reached into a second one with the
 * first byte of their description: 1.5 page faults for each slot of an array
 * filled for the first time. */
typedef union {
    struct {
        uint8_t origin[IM_NODE_ID_SIZE];
        uint8_t id[IM_ID_SIZE];
        uint64_t version;
        uint8_t op;         /* im_op_t */
        uint8_t type;       /* im_type_t */
        uint8_t tlp;        /* im_tlp_t */
        uint8_t confidence; /* 0..100 */
        uint8_t reach;      /* links from the origin; IM_REACH_UNLIMITED */
        uint8_t no_detect;  /* 1: kept and shared, but not meant for automatic
                             * detection (MISP to_ids false); 0, the default: it is */
        int64_t created;
        int64_t modified;
        int64_t valid_from;
        int64_t valid_until;
        /* The counts sit with the fixed fields, before the room of the strings
         * and lists, so that a record with short strings and empty lists is
         * written and read in its first page: a batch of 1,000 fresh records
         * touched four pages each, a page fault each (40% of a mesh's faults). */
        size_t ntags;
        size_t nrecipients;
        size_t next;    /* extension items (reports only) */
        size_t ext_len; /* bytes used in ext */
        char value[IM_VALUE_MAX + 1];
        char description[IM_DESC_MAX + 1];
        char tags[IM_TAGS_MAX][IM_TAG_MAX + 1];
        uint8_t recipients[IM_RECIPIENTS_MAX][IM_NODE_ID_SIZE];
        uint8_t ext[IM_EXT_MAX]; /* the items, encoded and in canonical order */
    };
    uint8_t slot_[IM_RECORD_SLOT]; /* the room the fields leave is not used */
} im_record_t;
_Static_assert(sizeof (im_record_t) == IM_RECORD_SLOT, "the fields fit in the slot");

/* An array of N records starting on a page, freed with free(); its records
 * are not initialised. Returns NULL with errno ENOMEM (or EINVAL when N is
 * 0). */
im_record_t *im_record_array (size_t n);

/* Makes the first page of records *READY to N-1 of ARRAY (from
 * im_record_array) present, one call each, and raises *READY to N: what a
 * short record is written in, without a page fault for each (a fault took
 * 14 us on make bench's machine, a call 4 us). The caller keeps *READY with
 * the array (0 when new). Records from N on, and the rest of each slot, are
 * left to come as they are touched. */
void im_record_array_ready (im_record_t *array, size_t *ready, size_t n);

/* Resets every field: no tags, no recipients, confidence and reach defaults,
 * version 1, op put. */
void im_record_init (im_record_t *self);

/* Checks every field against the rules of SPEC.md (ranges, canonical value,
 * tag and description characters, duplicates, validity window). Returns 0, or
 * -1 with errno EINVAL and a one-line reason naming the field in ERR. */
int im_record_check (const im_record_t *self, char *err, size_t errsz);

/* Adds a tag (kept unique; order does not matter). Returns 0 or -1 with errno
 * EINVAL (bad tag) or ENOSPC (too many), reason in ERR. */
int im_record_add_tag (im_record_t *self, const char *tag, char *err, size_t errsz);

/* Checks SELF, encodes it canonically (tags and recipients sorted) as a
 * record of format 2 and signs it with SECRET_KEY, whose public half must
 * equal SELF->origin, as a batch of one. Writes the signed record into BUF
 * and its size into *LEN. Returns 0, or -1 with errno EINVAL (bad record or
 * key mismatch, reason in ERR) or ENOSPC. */
int im_record_sign (const im_record_t *self, const uint8_t secret_key[IM_SECRET_KEY_SIZE],
                    uint8_t *buf, size_t bufsz, size_t *len, char *err, size_t errsz);

/* Checks SELF and encodes it canonically into BUF, with zeros where the
 * batch's authentication goes (IM_BATCH_AUTH bytes at the end); *LEN is the
 * size of the whole record. Nothing is signed until im_record_seal().
 * Returns 0, or -1 with errno EINVAL (reason in ERR) or ENOSPC. */
int im_record_encode (const im_record_t *self, uint8_t *buf, size_t bufsz, size_t *len,
                      char *err, size_t errsz);

/* Signs the N (1 to IM_BATCH_MAX) records RECS[i] (LENS[i] bytes each, made
 * by im_record_encode, all of the origin SECRET_KEY signs for) as one batch
 * (SPEC.md, "Batches"): writes each one's authentication in place. Returns
 * 0, or -1 with errno EINVAL and the reason in ERR. */
int im_record_seal (uint8_t *const *recs, const size_t *lens, size_t n,
                    const uint8_t secret_key[IM_SECRET_KEY_SIZE], char *err,
                    size_t errsz);

/* Copies SRC into DST as it reads back once encoded (tags and recipients in
 * canonical order), copying only the parts of the strings and lists in use:
 * what im_record_decode_stored() of its encoding gives, without encoding.
 * SRC must have passed im_record_check(). */
void im_record_copy (im_record_t *dst, const im_record_t *src);

/* Decodes a signed record. Every length is bounds-checked, trailing bytes,
 * an unknown format, a non-canonical encoding or an invalid field are refused;
 * with VERIFY the origin's signature is checked too (a store reading back what
 * it verified before may skip it). Returns 0, or -1 with errno EBADMSG
 * (malformed) or EPERM (bad signature) and the reason in ERR. */
int im_record_decode (const uint8_t *buf, size_t len, int verify, im_record_t *self,
                      char *err, size_t errsz);

/* As im_record_decode() with VERIFY, where a batch root already verified
 * (in CACHE, which may be NULL) is not verified again: one signature a batch
 * (SPEC.md, "Batches"). */
int im_record_decode_cached (const uint8_t *buf, size_t len, im_batch_cache_t *cache,
                             im_record_t *self, char *err, size_t errsz);

/* Decodes a record read back from this node's own store, which checked it
 * before storing it, or bytes that im_record_decode_cached accepted before
 * and that have not changed since: every length is still bounds-checked, but
 * the field rules and the signature are not checked again (look-ups stay
 * fast). Returns 0, or -1 with errno EBADMSG. Never use it on bytes from
 * outside that were not checked so. */
int im_record_decode_stored (const uint8_t *buf, size_t len, im_record_t *self);

/* The fixed head of an encoded record (SPEC.md, "Encoding"): what can be
 * read without decoding, or verifying, the whole record. */
typedef struct {
    uint8_t format; /* the magic's last byte: the format version */
    uint8_t origin[IM_NODE_ID_SIZE];
    uint8_t id[IM_ID_SIZE];
    uint64_t version;
    uint8_t op, type, tlp, confidence, reach;
    int64_t created, modified, valid_from, valid_until;
} im_record_head_t;

/* Reads the fixed head of the encoded record BUF (LEN bytes) into HEAD,
 * checking only that LEN can hold a head and a signature and that BUF starts
 * with "IMR" (the format version is reported, not checked). Nothing else is
 * checked: decode before trusting anything but the key (origin, id,
 * version). Returns 0, or -1 with errno EBADMSG (EINVAL: a NULL argument). */
int im_record_peek (const uint8_t *buf, size_t len, im_record_head_t *head);

/* The record as a JSON object with every field, times in RFC 3339 UTC (the
 * PUB socket format, SPEC.md). Returns a new reference or NULL (ENOMEM). */
json_t *im_record_to_json (const im_record_t *self);

/* Fills the content fields of SELF (type, value, tlp, confidence, tags,
 * description, reach, valid_from, valid_until, recipients, detect) from a JSON object
 * as the control socket and `publish -` carry it (SPEC.md): type and value
 * required, the rest optional with defaults; the value is validated and
 * normalised. Other fields are left as they are. NOW resolves relative times.
 * Returns 0, or -1 with errno EINVAL and a reason naming the field in ERR. */
int im_record_from_json (im_record_t *self, const json_t *obj, int64_t now, char *err,
                         size_t errsz);

/* A new version of PREV (this node's own live record) made from OBJ: the
 * content fields OBJ does not give keep PREV's values, those it gives are
 * read as by im_record_from_json(), whose rules and errors apply. Identity,
 * version and times of SELF are left as they are. Returns 0 or -1 (EINVAL). */
int im_record_merge (im_record_t *self, const im_record_t *prev, const json_t *obj,
                     int64_t now, char *err, size_t errsz);

/* What differs between two versions, as {"FIELD": [OLD, NEW], ...} with the
 * fields and values of im_record_to_json() (tags and recipients compared as
 * sets); {} when the content is the same. Returns a new reference, or NULL
 * with errno ENOMEM (EINVAL: a NULL argument). */
json_t *im_record_changes (const im_record_t *old, const im_record_t *new);
/* Whether A and B have the same content apart from identity, version and
 * times (tags and recipients compared as sets). */
int im_record_same_content (const im_record_t *a, const im_record_t *b);

/* The changes from OLD to NEW that lower its protection: a lower TLP label,
 * a longer reach, detection turned off, a recipient dropped. Writes them into OUT as one
 * line
 * ("tlp: RED -> GREEN, reach: 1 -> unlimited", "" for none) and returns how
 * many, or -1 with errno EINVAL. */
int im_record_downgrades (const im_record_t *old, const im_record_t *new, char *out,
                          size_t outsz);

/* The protecting fields of TOMB, a revoked version, that a re-publication
 * of its value keeps because its item GIVEN (a JSON object) does not give
 * them: tlp, and those of reach, recipients and the validity window that
 * are not defaults (a tombstone keeps no tags, description or confidence).
 * Writes them into OUT as one line ("tlp RED, reach 1, recipients 2") and
 * returns how many, or -1 with errno EINVAL. */
int im_record_kept (const im_record_t *tomb, const json_t *given, char *out,
                    size_t outsz);

/* --- Extension items (SPEC.md, "Reports"; im_record_ext.c) --------------- */

/* A sighting's item (im_sight.h): count (4 bytes), first and last seen (8
 * each), source (1); and the largest envelope a carrier's item holds. */
#define IM_SIGHT_EXT_SIZE 21
#define IM_SIGHT_COUNT_MAX 1000000000u
#define IM_SIGHT_SOURCES 5 /* source kinds 1 to 5 */
#define IM_CARRIER_ENVELOPE_MAX                                                          \
    (IM_SEAL_OVERHEAD                                                                    \
     + ((IM_EXT_MAX - 3 - IM_SEAL_OVERHEAD) / IM_SEAL_BLOCK) * IM_SEAL_BLOCK)
/* Checks a sighting item's DATA (LEN bytes): 0, or -1 with errno EINVAL and
 * the reason in ERR (may be NULL). */
int im_ext_sighting_check (const uint8_t *data, size_t len, char *err, size_t errsz);
/* The name of an action KIND ("detected"), or NULL. */
const char *im_ext_action_name (int kind);
/* The name of a sighting's SOURCE kind ("sensor"), or NULL. */
const char *im_ext_source_name (int source);
/* The digest of the envelope ENV (LEN bytes) that is a carrier's value: 32
 * hex digits (BLAKE2b-128). */
void im_ext_digest (const uint8_t *env, size_t len, char out[33]);

#define IM_EXT_NAME_MAX 128   /* actor and malware names */
#define IM_EXT_URL_MAX 512    /* reference URLs */
#define IM_EXT_TEXT_MAX 1024  /* a mitigation's text */
#define IM_EXT_MIT_REFS_MAX 8 /* a mitigation's reference URLs */

/* Checks one item's DATA (LEN bytes) against the rules of KEY. Returns 0, or
 * -1 with errno EINVAL and a one-line reason naming the item in ERR. */
int im_ext_item_check (int key, const uint8_t *data, size_t len, char *err, size_t errsz);

/* Adds an item to SELF in its canonical place (an item already there is not
 * added twice). Returns 0, or -1 with errno EINVAL (a bad item) or ENOSPC
 * (more than IM_EXT_ITEMS_MAX items, or no room), reason in ERR. */
int im_record_add_ext (im_record_t *self, int key, const void *data, size_t len,
                       char *err, size_t errsz);

/* Builds the data of a mitigation item from TEXT and N reference URLs into
 * OUT (OUTSZ bytes), its size into *LEN. Returns 0 or -1 (EINVAL, ENOSPC). */
int im_ext_mitigation (const char *text, const char *const *urls, size_t n, uint8_t *out,
                       size_t outsz, size_t *len, char *err, size_t errsz);

/* Walks SELF's items: with *AT 0 at first, returns 1 and the next item's
 * KEY, DATA and LEN, or 0 at the end (or on a malformed item). */
int im_ext_next (const im_record_t *self, size_t *at, int *key, const uint8_t **data,
                 size_t *len);

/* The rules of the extension items for im_record_check(): a report's
 * context items (at most 64, each valid, in strictly ascending order), a
 * sighting's one IM_EXT_SIGHTING, a carrier's one IM_EXT_SEALED whose digest
 * is its value; no other record has any. Returns 0 or -1
 * with errno EINVAL and the reason in ERR. */
int im_ext_check (const im_record_t *self, char *err, size_t errsz);

/* Reads the extension section of a record of format 3 from *NEEDLE (up to
 * CEILING) into SELF, bounds-checked: 1 to 64 items of known keys, each
 * within its size, strictly ascending. Moves *NEEDLE past it. Returns 0, or
 * -1 with errno EBADMSG and the reason in ERR. */
int im_ext_decode (im_record_t *self, const uint8_t **needle, const uint8_t *ceiling,
                   char *err, size_t errsz);

/* Adds the items of SELF to the JSON object O: for a report "attack",
 * "actors", "malware", "refs" (arrays of strings) and "mitigations" (an
 * array of {"text", "refs"}); for a sighting "sighting" ({"count",
 * "first_seen", "last_seen", "source"}); for a carrier "envelope_bytes". Returns 0 or -1
 * (ENOMEM). */
int im_ext_to_json (const im_record_t *self, json_t *o);

/* UUID text form of an indicator id, lower case. */
void im_id_format (const uint8_t id[IM_ID_SIZE], char out[IM_ID_STR_SIZE]);
/* Parses UUID text (any case). Returns 0 or -1 with errno EINVAL. */
int im_id_parse (const char *text, uint8_t id[IM_ID_SIZE]);
/* A new time-ordered (version 7) UUID. */
void im_id_generate (uint8_t id[IM_ID_SIZE]);
/* The UUID made from NAME: the same name gives the same id every time (RFC
 * 4122 version 5, SHA-1 in intelmesh's namespace IM_ID_NAMESPACE, by
 * libuuid), for ids an importer or a feed must give again. */
void im_id_from_name (const void *name, size_t len, uint8_t id[IM_ID_SIZE]);
/* intelmesh's namespace for version 5 ids: uuid5(URL, "https://intelmesh.invalid/ns/id").
 */
#define IM_ID_NAMESPACE "886b1082-fbfd-53ad-b4ef-acc0ce9851a4"
/* Returns 1 when ID is an RFC 4122 UUID of version 1 to 5 (the versions the
 * STIX identifier pattern and MISP's validation accept), else 0. */
int im_id_is_rfc4122 (const uint8_t id[IM_ID_SIZE]);
/* The id that record (ORIGIN, ID) has outside the node (STIX, MISP, the
 * MISP-format feed): ID itself when im_id_is_rfc4122 (an imported id, kept
 * as it was), else the version 5 UUID of "ORIGIN-HEX/ID-TEXT" (a native,
 * time-ordered id): the same record has the same id in every export. */
void im_id_export (const uint8_t origin[IM_NODE_ID_SIZE], const uint8_t id[IM_ID_SIZE],
                   uint8_t out[IM_ID_SIZE]);

/* Node ids are written as 64 lower-case hex digits. */
void im_node_format (const uint8_t node[IM_NODE_ID_SIZE], char out[IM_NODE_HEX_SIZE]);
int im_node_parse (const char *text, uint8_t node[IM_NODE_ID_SIZE]);

#endif
