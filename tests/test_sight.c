/* SPDX-License-Identifier: MPL-2.0 */
/* test_sight.c -- unit tests of sightings and carriers (proto/im_sight.c,
 * the rules im_record_check applies to them): bad arguments, tables of good
 * and bad sightings, values, and carriers whose envelope or digest is not
 * what its value says. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "im_record.h"
#include "im_sight.h"
#include "tap.h"

static uint8_t pk[32], sk[64], rpk[32], rsk[64];
static uint8_t buf[IM_RECORD_MAX], inner[IM_RECORD_MAX];
static size_t inner_len;
static char err[256];

static void
test_bad_args (void)
{
    im_sight_t s;
    ok (im_sight_check (NULL, err, sizeof err) == -1 && errno == EINVAL,
        "check refuses no sighting");
    ok (im_sight_decode (NULL, IM_SIGHT_EXT_SIZE, &s) == -1 && errno == EINVAL,
        "decode refuses no data");
    uint8_t d[IM_SIGHT_EXT_SIZE + 1] = { 0 };
    ok (im_sight_decode (d, IM_SIGHT_EXT_SIZE + 1, &s) == -1 && errno == EINVAL,
        "decode refuses 22 bytes");
    ok (im_sight_get (NULL, &s) == -1 && errno == EINVAL, "get refuses no record");
    uint8_t o[32], id[16];
    ok (im_sighting_parse (NULL, o, id) == -1 && errno == EINVAL, "parse refuses NULL");
    im_record_t *r = calloc (1, sizeof *r);
    ok (im_carrier_make (NULL, inner, 10, 1, 0, 1, (const uint8_t (*)[32])rpk, 1, err,
                         sizeof err)
                == -1
            && errno == EINVAL,
        "carrier_make refuses no record");
    ok (im_carrier_make (r, inner, 10, 1, 0, 1, (const uint8_t (*)[32])rpk, 0, err,
                         sizeof err)
                == -1
            && errno == EINVAL,
        "carrier_make refuses no recipient");
    const uint8_t *e;
    size_t n;
    ok (im_carrier_envelope (r, &e, &n) == -1 && errno == EINVAL,
        "an empty record holds no envelope");
    ok (im_source_name (0) == NULL && im_source_name (IM_SOURCE_COUNT) == NULL
            && im_source_from_name ("cctv") == 0 && im_source_from_name (NULL) == 0,
        "no source 0, %d, cctv or NULL", IM_SOURCE_COUNT);
    free (r);
}

static void
test_sight_table (void)
{
    static const struct {
        im_sight_t s;
        int good;
        const char *what;
    } rows[] = {
        { { 1, 100, 100, IM_SOURCE_SENSOR }, 1, "one sighting at one time" },
        { { IM_SIGHT_COUNT_MAX, 100, 200, IM_SOURCE_OTHER }, 1, "the largest count" },
        { { 0, 100, 100, IM_SOURCE_SENSOR }, 0, "a count of 0" },
        { { IM_SIGHT_COUNT_MAX + 1, 100, 100, IM_SOURCE_SENSOR },
          0,
          "a count too large" },
        { { 1, 0, 100, IM_SOURCE_SENSOR }, 0, "no first seen" },
        { { 1, 200, 100, IM_SOURCE_SENSOR }, 0, "first seen after last seen" },
        { { 1, 100, 100, 0 }, 0, "source 0" },
        { { 1, 100, 100, IM_SOURCE_COUNT }, 0, "an unknown source" },
        { { 1, 100, INT64_C (253402300799), IM_SOURCE_SENSOR },
          1,
          "last seen at the end of the year 9999" },
        { { 1, 100, INT64_C (253402300800), IM_SOURCE_SENSOR },
          0,
          "last seen after the year 9999" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        uint8_t d[IM_SIGHT_EXT_SIZE];
        im_sight_t back;
        int rc = im_sight_check (&rows[i].s, err, sizeof err);
        im_sight_encode (&rows[i].s, d);
        int rc2 = im_sight_decode (d, sizeof d, &back);
        if (rows[i].good)
            ok (rc == 0 && rc2 == 0 && back.count == rows[i].s.count
                    && back.first_seen == rows[i].s.first_seen
                    && back.last_seen == rows[i].s.last_seen
                    && back.source == rows[i].s.source,
                "%s is taken and decodes to itself", rows[i].what);
        else
            ok (rc == -1 && errno == EINVAL && rc2 == -1 && *err, "%s is refused (%s)",
                rows[i].what, err);
    }
}

static void
test_values (void)
{
    uint8_t o[32], id[16], o2[32], id2[16];
    char v[IM_SIGHTING_VALUE_SIZE];
    randombytes_buf (o, sizeof o);
    randombytes_buf (id, sizeof id);
    im_sighting_value (o, id, v);
    ok (strlen (v) == IM_SIGHTING_VALUE_SIZE - 1 && v[64] == '/',
        "a sighting's value is ORIGINHEX/UUID (%s)", v);
    ok (im_sighting_parse (v, o2, id2) == 0 && memcmp (o, o2, 32) == 0
            && memcmp (id, id2, 16) == 0,
        "it parses back to the same indicator");
    char canon[IM_VALUE_MAX + 1];
    ok (im_ioc_normalise (IM_TYPE_SIGHTING, v, canon, sizeof canon, err, sizeof err) == 0
            && strcmp (canon, v) == 0,
        "the type's normaliser takes it as it is");
    static const char *const bad[] = { "", "x", "0123/uuid", NULL };
    for (int i = 0; bad[i]; i++)
        ok (im_sighting_parse (bad[i], o2, id2) == -1
                && im_ioc_normalise (IM_TYPE_SIGHTING, bad[i], canon, sizeof canon, err,
                                     sizeof err)
                       != 0,
            "'%s' is no sighting value", bad[i]);
}

/* A signed sighting by PK of a random indicator, with NEXT items of key
 * KEY (0: none). Returns the check's result. */
static int
sighting_with (int key, int count, im_record_t *r)
{
    im_record_init (r);
    memcpy (r->origin, pk, 32);
    r->type = IM_TYPE_SIGHTING;
    uint8_t o[32], id[16];
    randombytes_buf (o, sizeof o);
    randombytes_buf (id, sizeof id);
    im_sighting_value (o, id, r->value);
    im_sighting_id (r->value, r->id);
    r->tlp = IM_TLP_RED;
    memcpy (r->recipients[0], o, 32);
    r->nrecipients = 1;
    r->created = r->modified = 1700000000;
    im_sight_t s = { 3, 1700000000, 1700000100, IM_SOURCE_HONEYPOT };
    uint8_t d[IM_SIGHT_EXT_SIZE];
    im_sight_encode (&s, d);
    for (int i = 0; i < count; i++) {
        d[3] = (uint8_t)(3 + i); /* distinct items */
        if (key
            && im_record_add_ext (r, key, key == IM_EXT_SIGHTING ? d : (uint8_t *)"T1566",
                                  key == IM_EXT_SIGHTING ? sizeof d : 5, err, sizeof err))
            return -2;
    }
    return im_record_check (r, err, sizeof err);
}

static void
test_sighting_records (void)
{
    static im_record_t r, back;
    ok (sighting_with (IM_EXT_SIGHTING, 1, &r) == 0, "a sighting with one item is valid");
    size_t len = 0;
    ok (im_record_sign (&r, sk, buf, sizeof buf, &len, err, sizeof err) == 0
            && im_record_decode (buf, len, 1, &back, err, sizeof err) == 0,
        "it signs and decodes, signature checked");
    im_sight_t s;
    ok (im_sight_get (&back, &s) == 0 && s.count == 3 && s.source == IM_SOURCE_HONEYPOT
            && s.first_seen == 1700000000 && s.last_seen == 1700000100,
        "its count, times and source come back");
    json_t *j = im_record_to_json (&back);
    json_t *sj = json_object_get (j, "sighting");
    ok (json_integer_value (json_object_get (sj, "count")) == 3
            && strcmp (json_string_value (json_object_get (sj, "source")), "honeypot")
                   == 0,
        "its JSON has sighting.count and sighting.source");
    json_decref (j);
    ok (sighting_with (0, 0, &r) == -1 && strstr (err, "exactly one"),
        "a sighting without its item is refused (%s)", err);
    ok (sighting_with (IM_EXT_SIGHTING, 2, &r) == -1 && strstr (err, "exactly one"),
        "a sighting with two items is refused (%s)", err);
    ok (sighting_with (IM_EXT_ATTACK, 1, &r) == -1,
        "a sighting with a report's item is "
        "refused (%s)",
        err);
    sighting_with (IM_EXT_SIGHTING, 1, &r);
    r.id[15] ^= 1;
    ok (im_record_check (&r, err, sizeof err) == -1 && strstr (err, "UUID of its value"),
        "a sighting whose id is not its value's UUID is refused (%s)", err);
    r.id[15] ^= 1;
    r.op = IM_OP_REVOKE;
    r.version = 2;
    r.id[0] ^= 1;
    ok (im_record_check (&r, err, sizeof err) == -1 && strstr (err, "UUID of its value"),
        "so is its revocation (%s)", err);
    /* A report with a sighting's item, or a carrier's. */
    sighting_with (IM_EXT_SIGHTING, 1, &r);
    uint8_t d[IM_SIGHT_EXT_SIZE];
    memcpy (d, r.ext + 3, sizeof d);
    im_record_init (&r);
    memcpy (r.origin, pk, 32);
    randombytes_buf (r.id, sizeof r.id);
    r.type = IM_TYPE_REPORT;
    strcpy (r.value, "a report");
    r.created = r.modified = 1700000000;
    ok (im_record_add_ext (&r, IM_EXT_ATTACK, "T1566", 5, err, sizeof err) == 0
            && im_record_check (&r, err, sizeof err) == 0,
        "a report with a technique is valid");
    ok (im_record_add_ext (&r, IM_EXT_SIGHTING, d, sizeof d, err, sizeof err) == 0
            && im_record_check (&r, err, sizeof err) == -1 && strstr (err, "no sighting"),
        "a report holding a sighting's item is refused (%s)", err);
    /* An indicator with a sighting item. */
    sighting_with (IM_EXT_SIGHTING, 1, &r);
    r.type = IM_TYPE_IPV4;
    strcpy (r.value, "198.51.100.1");
    ok (im_record_check (&r, err, sizeof err) == -1 && strstr (err, "report"),
        "an indicator with a sighting item is refused (%s)", err);
}

static void
test_carriers (void)
{
    static im_record_t c, back;
    im_record_init (&c);
    memcpy (c.origin, pk, 32);
    randombytes_buf (c.id, sizeof c.id);
    c.created = c.modified = 1700000000;
    ok (im_carrier_make (&c, inner, inner_len, 3, 1700000500, 1700000000,
                         (const uint8_t (*)[32])rpk, 1, err, sizeof err)
            == 0,
        "a carrier is made of a record");
    ok (c.type == IM_TYPE_SEALED && c.tlp == IM_TLP_GREEN && c.reach == 3
            && c.nrecipients == 0 && c.valid_until == 1700000500,
        "sealed, GREEN, the record's reach, no recipients, ending with the record");
    size_t len = 0;
    ok (im_record_sign (&c, sk, buf, sizeof buf, &len, err, sizeof err) == 0
            && im_record_decode (buf, len, 1, &back, err, sizeof err) == 0,
        "it signs and decodes (%zu bytes)", len);
    const uint8_t *env;
    size_t elen;
    uint8_t out[IM_SEAL_PAYLOAD_MAX];
    size_t olen = 0;
    ok (im_carrier_envelope (&back, &env, &elen) == 0
            && im_seal_open (env, elen, rsk, out, sizeof out, &olen, err, sizeof err) == 0
            && olen == inner_len && memcmp (out, inner, olen) == 0,
        "its recipient opens it to the record");
    ok (im_seal_open (env, elen, sk, out, sizeof out, &olen, err, sizeof err) == -1
            && errno == ENOENT,
        "its origin, no recipient, cannot");
    char digest[33];
    memcpy (digest, back.value, sizeof digest);
    back.value[0] = back.value[0] == 'a' ? 'b' : 'a';
    ok (im_record_check (&back, err, sizeof err) == -1 && strstr (err, "digest"),
        "a carrier whose value is not its envelope's digest is refused (%s)", err);
    memcpy (back.value, digest, sizeof digest);
    back.ext[3 + 10] ^= 1; /* a byte of the envelope: its digest changes */
    ok (im_record_check (&back, err, sizeof err) == -1, "a changed envelope is refused");
    back.ext[3 + 10] ^= 1;
    back.ext[3] = 'X'; /* the magic */
    ok (im_record_check (&back, err, sizeof err) == -1 && strstr (err, "envelope"),
        "an item that is no envelope is refused (%s)", err);
    /* Too large to carry. */
    static uint8_t big[IM_CARRIER_PAYLOAD_MAX + 1];
    ok (im_carrier_make (&c, big, sizeof big, 1, 0, 1700000000,
                         (const uint8_t (*)[32])rpk, 1, err, sizeof err)
                == -1
            && errno == ENOSPC,
        "a record over %d bytes cannot be sealed (%s)", (int)IM_CARRIER_PAYLOAD_MAX, err);
    ok (im_carrier_make (&c, big, IM_CARRIER_PAYLOAD_MAX, 1, 0, 1700000000,
                         (const uint8_t (*)[32])rpk, 1, err, sizeof err)
                == 0
            && im_record_sign (&c, sk, buf, sizeof buf, &len, err, sizeof err) == 0,
        "one of exactly %d bytes can, and its carrier signs (%zu bytes)",
        (int)IM_CARRIER_PAYLOAD_MAX, len);
}

static const tap_test_t tests[]
    = { TAP_TEST (test_bad_args), TAP_TEST (test_sight_table),
        TAP_TEST (test_values),   TAP_TEST (test_sighting_records),
        TAP_TEST (test_carriers), TAP_END };

int
main (int argc, char **argv)
{
    if (sodium_init () < 0)
        BAIL_OUT ("sodium_init");
    crypto_sign_keypair (pk, sk);
    crypto_sign_keypair (rpk, rsk);
    im_record_t *r = calloc (1, sizeof *r);
    im_record_init (r);
    memcpy (r->origin, pk, 32);
    randombytes_buf (r->id, sizeof r->id);
    r->type = IM_TYPE_DOMAIN;
    strcpy (r->value, "red.example");
    r->tlp = IM_TLP_RED;
    memcpy (r->recipients[0], rpk, 32);
    r->nrecipients = 1;
    r->created = r->modified = 1700000000;
    if (im_record_sign (r, sk, inner, sizeof inner, &inner_len, err, sizeof err))
        BAIL_OUT ("inner: %s", err);
    free (r);
    return tap_main (argc, argv, tests);
}
