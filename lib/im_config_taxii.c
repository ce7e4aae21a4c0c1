/* SPDX-License-Identifier: MPL-2.0 */
/* im_config_taxii.c -- the TAXII server's part of intelmesh.conf: the
 * `taxii` section (where it listens, its certificate and key) and the
 * `taxii-client` sections (name, policy, key hash, recipient id). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <czmq.h>
#include <sodium.h>

#include "im_config.h"
#include "im_util.h"

/* BLAKE2b's personalisation: 16 bytes that make this hash one of its own. */
static const unsigned char key_personal[crypto_generichash_blake2b_PERSONALBYTES]
    = "intelmesh-taxii";

void
im_taxii_key_hash (const uint8_t key[IM_TAXII_KEY_SIZE], uint8_t hash[32])
{
    static const unsigned char salt[crypto_generichash_blake2b_SALTBYTES] = { 0 };
    crypto_generichash_blake2b_salt_personal (hash, 32, key, IM_TAXII_KEY_SIZE, NULL, 0,
                                              salt, key_personal);
}

const im_taxii_client_t *
im_config_taxii_client (const im_config_t *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->ntaxii_clients; i++)
        if (strcmp (cfg->taxii_clients[i].name, name) == 0)
            return &cfg->taxii_clients[i];
    return NULL;
}

int
im_taxii_listen_parse (const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[IM_ENDPOINT_MAX];
    const char *colon = text ? strrchr (text, ':') : NULL;
    if (!colon || (size_t)(colon - text) >= sizeof host) {
        errno = EINVAL;
        return -1;
    }
    snprintf (host, sizeof host, "%.*s", (int)(colon - text), text);
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (end == colon + 1 || *end || port < 1 || port > 65535) {
        errno = EINVAL;
        return -1;
    }
    memset (ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    size_t hl = strlen (host);
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        if (inet_pton (AF_INET6, host + 1, &v6->sin6_addr) != 1) {
            errno = EINVAL;
            return -1;
        }
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons ((uint16_t)port);
        *len = sizeof *v6;
        return 0;
    }
    if (strcmp (host, "*") == 0)
        v4->sin_addr.s_addr = htonl (INADDR_ANY);
    else if (inet_pton (AF_INET, host, &v4->sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    v4->sin_family = AF_INET;
    v4->sin_port = htons ((uint16_t)port);
    *len = sizeof *v4;
    return 0;
}

int
im_config_taxii_server (zconfig_t *root, im_config_t *cfg, const char **key, char *why,
                        size_t whysz)
{
    const char *listen = zconfig_get (root, "taxii/listen", NULL);
    const char *cert = zconfig_get (root, "taxii/certificate", NULL);
    const char *pkey = zconfig_get (root, "taxii/key", NULL);
    *key = NULL;
    if (!listen || !*listen) {
        if ((cert && *cert) || (pkey && *pkey)) {
            *key = "listen";
            return im_fail (EINVAL, why, whysz,
                            "taxii: a certificate or key without listen (give "
                            "listen = HOST:PORT to serve TAXII)");
        }
        return 0;
    }
    struct sockaddr_storage ss;
    socklen_t len;
    *key = "listen";
    if (strlen (listen) >= sizeof cfg->taxii_listen
        || im_taxii_listen_parse (listen, &ss, &len))
        return im_fail (EINVAL, why, whysz,
                        "taxii: listen = '%.300s' is not ADDRESS:PORT (an IPv4 address, "
                        "[IPv6] or *, and a port 1-65535)",
                        listen);
    *key = cert && *cert ? "key" : "certificate";
    if (!cert || !*cert || !pkey || !*pkey)
        return im_fail (EINVAL, why, whysz,
                        "taxii: HTTPS only: give certificate and key (PEM files)");
    if (strlen (cert) >= sizeof cfg->taxii_cert || strlen (pkey) >= sizeof cfg->taxii_key)
        return im_fail (ENAMETOOLONG, why, whysz, "taxii: a path is too long");
    snprintf (cfg->taxii_listen, sizeof cfg->taxii_listen, "%s", listen);
    snprintf (cfg->taxii_cert, sizeof cfg->taxii_cert, "%s", cert);
    snprintf (cfg->taxii_key, sizeof cfg->taxii_key, "%s", pkey);
    *key = NULL;
    return 0;
}

/* 64 hex digits into 32 bytes. */
static int
hex32 (const char *text, uint8_t out[32])
{
    size_t binlen = 0;
    return text && strlen (text) == 64
                   && sodium_hex2bin (out, 32, text, 64, NULL, &binlen, NULL) == 0
                   && binlen == 32
               ? 0
               : -1;
}

int
im_config_taxii_client_load (zconfig_t *item, im_config_t *cfg, const char **key,
                             char *why, size_t whysz)
{
    const char *name = zconfig_get (item, "name", NULL);
    const char *policy = zconfig_get (item, "policy", IM_POLICY_DEFAULT);
    *key = NULL;
    if (cfg->ntaxii_clients >= IM_TAXII_CLIENTS_MAX)
        return im_fail (ENOSPC, why, whysz, "more than %d TAXII clients",
                        IM_TAXII_CLIENTS_MAX);
    *key = name ? "name" : NULL;
    if (!name || !im_name_valid (name))
        return im_fail (EINVAL, why, whysz,
                        "taxii-client: name missing or not 1-64 letters, digits, '.', "
                        "'_' or '-'");
    if (im_config_taxii_client (cfg, name))
        return im_fail (EEXIST, why, whysz, "taxii-client %s is listed twice", name);
    im_taxii_client_t *c = &cfg->taxii_clients[cfg->ntaxii_clients];
    memset (c, 0, sizeof *c);
    snprintf (c->name, sizeof c->name, "%s", name);
    *key = "policy";
    if (!im_config_policy (cfg, policy))
        return im_fail (EINVAL, why, whysz, "taxii-client %s: no policy named '%.64s'",
                        name, policy);
    snprintf (c->policy, sizeof c->policy, "%s", policy);
    *key = "key-hash";
    if (hex32 (zconfig_get (item, "key-hash", NULL), c->key_hash))
        return im_fail (EINVAL, why, whysz,
                        "taxii-client %s: key-hash missing or not 64 hex digits (made "
                        "by 'intelmesh taxii add-client')",
                        name);
    *key = "id";
    if (hex32 (zconfig_get (item, "id", NULL), c->id))
        return im_fail (EINVAL, why, whysz,
                        "taxii-client %s: id missing or not 64 hex digits", name);
    *key = NULL;
    cfg->ntaxii_clients++;
    return 0;
}
