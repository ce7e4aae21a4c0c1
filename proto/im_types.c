/* SPDX-License-Identifier: MPL-2.0 */
/* im_types.c -- the table of indicator types (see im_types.h) and the look-ups
 * by STIX path, MISP type and hash length that the importers need, and the
 * host of a url or email value. Constant
 * data and pure functions. */

#include "im_types.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* Indexed by the wire value; row 0 (IM_TYPE_NONE) is empty. */
static const im_type_info_t types[IM_TYPE_COUNT] = {
    [IM_TYPE_IPV4] = { .type = IM_TYPE_IPV4,
                       .name = "ipv4",
                       .normalise = im_ioc_norm_ipv4,
                       .stix_path = "ipv4-addr:value",
                       .misp_type = "ip-dst",
                       .misp_names = { "ip-src", "ip-dst" },
                       .misp_category = "Network activity",
                       .wl = IM_WL_CIDR,
                       .lookup = IM_LOOKUP_PREFIX },
    [IM_TYPE_IPV6] = { .type = IM_TYPE_IPV6,
                       .name = "ipv6",
                       .normalise = im_ioc_norm_ipv6,
                       .stix_path = "ipv6-addr:value",
                       .misp_type = "ip-dst",
                       .misp_names = { "ip-src", "ip-dst" },
                       .misp_category = "Network activity",
                       .wl = IM_WL_CIDR,
                       .lookup = IM_LOOKUP_PREFIX },
    [IM_TYPE_DOMAIN] = { .type = IM_TYPE_DOMAIN,
                         .name = "domain",
                         .normalise = im_ioc_norm_domain,
                         .stix_path = "domain-name:value",
                         .misp_type = "domain",
                         .misp_names = { "domain", "hostname" },
                         .misp_category = "Network activity",
                         .wl = IM_WL_HOSTNAME },
    [IM_TYPE_URL] = { .type = IM_TYPE_URL,
                      .name = "url",
                      .normalise = im_ioc_norm_url,
                      .stix_path = "url:value",
                      .misp_type = "url",
                      .misp_names = { "url" },
                      .misp_category = "Network activity",
                      .wl = IM_WL_URL_HOST },
    [IM_TYPE_EMAIL] = { .type = IM_TYPE_EMAIL,
                        .name = "email",
                        .normalise = im_ioc_norm_email,
                        .stix_path = "email-addr:value",
                        .misp_type = "email-src",
                        .misp_names = { "email", "email-src", "email-dst" },
                        .misp_category = "Payload delivery",
                        .wl = IM_WL_EMAIL_HOST },
    [IM_TYPE_MD5] = { .type = IM_TYPE_MD5,
                      .name = "md5",
                      .normalise = im_ioc_norm_hash,
                      .hexlen = 32,
                      .what = "an MD5",
                      .stix_path = "file:hashes.MD5",
                      .stix_hashes = { "md5" },
                      .misp_type = "md5",
                      .misp_names = { "md5" },
                      .misp_category = "Payload delivery" },
    [IM_TYPE_SHA1] = { .type = IM_TYPE_SHA1,
                       .name = "sha1",
                       .normalise = im_ioc_norm_hash,
                       .hexlen = 40,
                       .what = "a SHA-1",
                       .stix_path = "file:hashes.'SHA-1'",
                       .stix_hashes = { "sha1", "sha-1" },
                       .misp_type = "sha1",
                       .misp_names = { "sha1" },
                       .misp_category = "Payload delivery" },
    [IM_TYPE_SHA256] = { .type = IM_TYPE_SHA256,
                         .name = "sha256",
                         .normalise = im_ioc_norm_hash,
                         .hexlen = 64,
                         .what = "a SHA-256",
                         .stix_path = "file:hashes.'SHA-256'",
                         .stix_hashes = { "sha256", "sha-256" },
                         .misp_type = "sha256",
                         .misp_names = { "sha256" },
                         .misp_category = "Payload delivery" },
    [IM_TYPE_SHA512] = { .type = IM_TYPE_SHA512,
                         .name = "sha512",
                         .normalise = im_ioc_norm_hash,
                         .hexlen = 128,
                         .what = "a SHA-512",
                         .stix_path = "file:hashes.'SHA-512'",
                         .stix_hashes = { "sha512", "sha-512" },
                         .misp_type = "sha512",
                         .misp_names = { "sha512" },
                         .misp_category = "Payload delivery" },
    [IM_TYPE_FILENAME] = { .type = IM_TYPE_FILENAME,
                           .name = "filename",
                           .normalise = im_ioc_norm_filename,
                           .stix_path = "file:name",
                           .misp_type = "filename",
                           .misp_names = { "filename" },
                           .misp_category = "Payload delivery" },
    [IM_TYPE_ASN] = { .type = IM_TYPE_ASN,
                      .name = "asn",
                      .normalise = im_ioc_norm_asn,
                      .stix_path = "autonomous-system:number",
                      .num_prefix = "AS",
                      .misp_type = "AS",
                      .misp_names = { "AS" },
                      .misp_category = "Network activity" },
    [IM_TYPE_CVE] = { .type = IM_TYPE_CVE,
                      .name = "cve",
                      .normalise = im_ioc_norm_cve,
                      .stix_object = "vulnerability",
                      .stix_source = "cve",
                      .misp_type = "vulnerability",
                      .misp_names = { "vulnerability" },
                      .misp_category = "External analysis" },
    /* MISP has no attribute type for a technique: a text attribute with the
     * galaxy tag misp-galaxy:mitre-attack-pattern (im_export.c, import). */
    [IM_TYPE_ATTACK_PATTERN] = { .type = IM_TYPE_ATTACK_PATTERN,
                                 .name = "attack-pattern",
                                 .normalise = im_ioc_norm_attack,
                                 .stix_object = "attack-pattern",
                                 .stix_source = "mitre-attack",
                                 .misp_type = "text",
                                 .misp_category = "External analysis" },
    [IM_TYPE_REGKEY] = { .type = IM_TYPE_REGKEY,
                         .name = "regkey",
                         .normalise = im_ioc_norm_regkey,
                         .stix_path = "windows-registry-key:key",
                         .misp_type = "regkey",
                         .misp_names = { "regkey" },
                         .misp_category = "Persistence mechanism",
                         .lookup = IM_LOOKUP_NOCASE },
    [IM_TYPE_YARA] = { .type = IM_TYPE_YARA,
                       .name = "yara",
                       .normalise = im_ioc_norm_yara,
                       .stix_pattern_type = "yara",
                       .misp_type = "yara",
                       .misp_names = { "yara" },
                       .misp_category = "Payload installation",
                       .labelled = 1 },
    [IM_TYPE_SIGMA] = { .type = IM_TYPE_SIGMA,
                        .name = "sigma",
                        .normalise = im_ioc_norm_sigma,
                        .stix_pattern_type = "sigma",
                        .misp_type = "sigma",
                        .misp_names = { "sigma" },
                        .misp_category = "Payload installation",
                        .labelled = 1 },
    [IM_TYPE_SNORT] = { .type = IM_TYPE_SNORT,
                        .name = "snort",
                        .normalise = im_ioc_norm_snort,
                        .stix_pattern_type = "snort",
                        .misp_type = "snort",
                        .misp_names = { "snort" },
                        .misp_category = "Network activity",
                        .labelled = 1 },
    [IM_TYPE_SIGHTING] = { .type = IM_TYPE_SIGHTING,
                           .name = "sighting",
                           .normalise = im_ioc_norm_sighting,
                           .not_ioc = 1 },
    [IM_TYPE_SEALED] = { .type = IM_TYPE_SEALED,
                         .name = "sealed",
                         .normalise = im_ioc_norm_sealed,
                         .not_ioc = 1 },
    [IM_TYPE_REPORT] = { .type = IM_TYPE_REPORT,
                         .name = "report",
                         .normalise = im_ioc_norm_report,
                         .not_ioc = 1 },
    [IM_TYPE_MEMBER] = { .type = IM_TYPE_MEMBER,
                         .name = "member",
                         .normalise = im_ioc_norm_member,
                         .not_ioc = 1 },
    [IM_TYPE_EXERCISE] = { .type = IM_TYPE_EXERCISE,
                           .name = "exercise",
                           .normalise = im_ioc_norm_exercise,
                           .not_ioc = 1 },
    [IM_TYPE_INJECT] = { .type = IM_TYPE_INJECT,
                         .name = "inject",
                         .normalise = im_ioc_norm_inject,
                         .not_ioc = 1 },
    [IM_TYPE_ACK] = { .type = IM_TYPE_ACK,
                      .name = "ack",
                      .normalise = im_ioc_norm_sighting,
                      .not_ioc = 1 },
};

#define HASH_PREFIX "file:hashes."
#define HASH_PREFIX_LEN (sizeof HASH_PREFIX - 1)

const im_type_info_t *
im_type_info (int type)
{
    return type > IM_TYPE_NONE && type < IM_TYPE_COUNT && types[type].name ? &types[type]
                                                                           : NULL;
}

int
im_type_is_ioc (int type)
{
    const im_type_info_t *t = im_type_info (type);
    return t && !t->not_ioc;
}

/* True when S (LEN bytes) spells WORD, in any case when NOCASE. */
static int
same (const char *s, size_t len, const char *word, int nocase)
{
    return strlen (word) == len
           && (nocase ? strncasecmp (s, word, len) : memcmp (s, word, len)) == 0;
}

int
im_type_from_stix_path (const char *path, size_t len)
{
    int hash = len > HASH_PREFIX_LEN && memcmp (path, HASH_PREFIX, HASH_PREFIX_LEN) == 0;
    for (int t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++) {
        const im_type_info_t *ti = &types[t];
        if (!ti->stix_hashes[0] && ti->stix_path && same (path, len, ti->stix_path, 0))
            return t;
        for (size_t i = 0; hash && i < 3 && ti->stix_hashes[i]; i++)
            if (same (path + HASH_PREFIX_LEN, len - HASH_PREFIX_LEN, ti->stix_hashes[i],
                      1))
                return t;
    }
    return -1;
}

int
im_type_from_misp (const char *s, size_t len, int nocase)
{
    for (int t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++)
        for (size_t i = 0; i < 4 && types[t].misp_names[i]; i++)
            if (same (s, len, types[t].misp_names[i], nocase))
                return t;
    return -1;
}

int
im_type_by_hexlen (size_t len)
{
    for (int t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++)
        if (types[t].hexlen && types[t].hexlen == len)
            return t;
    return IM_TYPE_NONE;
}

const char *
im_type_misp_distribution (int reach)
{
    static const char *const d[] = { "0", "1", "2", "3" };
    return reach >= 0 && reach < 3 ? d[reach] : d[3];
}

int
im_type_host (int type, const char *value, char *host, size_t hostsz)
{
    const char *a = NULL, *end = NULL, *p;
    if (value && type == IM_TYPE_EMAIL && (a = strrchr (value, '@')) != NULL) {
        a++;
        end = a + strlen (a);
    }
    else if (value && type == IM_TYPE_URL && (p = strstr (value, "://")) != NULL) {
        a = p + 3;
        end = a + strcspn (a, "/?#");
        for (const char *q = a; q < end; q++)
            if (*q == '@')
                a = q + 1;
        const char *close
            = a < end && *a == '[' ? memchr (a, ']', (size_t)(end - a)) : NULL;
        if (close) {
            a++;
            end = close;
        }
        else if ((p = memchr (a, ':', (size_t)(end - a))) != NULL)
            end = p;
    }
    if (!a || end <= a) {
        errno = EINVAL;
        return -1;
    }
    if ((size_t)(end - a) >= hostsz) {
        errno = ENOSPC;
        return -1;
    }
    memcpy (host, a, (size_t)(end - a));
    host[end - a] = '\0';
    return 0;
}
