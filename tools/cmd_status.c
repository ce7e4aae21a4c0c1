/* SPDX-License-Identifier: MPL-2.0 */
/* cmd_status.c -- `intelmesh status`: the running node's health at a glance
 * (identity, uptime, indicators, store use, peers, refusals), or its STATUS
 * reply as JSON. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "im_ctl.h"
#include "intelmesh.h"

static void
human_bytes (uint64_t n, char *out, size_t outsz)
{
    const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf (out, outsz, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void
human_duration (long long s, char *out, size_t outsz)
{
    if (s < 60)
        snprintf (out, outsz, "%llds", s);
    else if (s < 3600)
        snprintf (out, outsz, "%lldm %llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf (out, outsz, "%lldh %lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf (out, outsz, "%lldd %lldh", s / 86400, (s % 86400) / 3600);
}

#define GET_INT(obj, ...)                                                                \
    ((long long)json_integer_value (json_object_get (obj, __VA_ARGS__)))

/* The STATUS reply ST, for people. */
static void
print_status (json_t *st)
{
    json_t *ind = json_object_get (st, "indicators");
    json_t *store = json_object_get (st, "store");
    json_t *counters = json_object_get (st, "counters");
    char up[64], used[32], map[32];
    human_duration (GET_INT (st, "uptime"), up, sizeof up);
    human_bytes ((uint64_t)GET_INT (store, "used_bytes"), used, sizeof used);
    human_bytes ((uint64_t)GET_INT (store, "map_size"), map, sizeof map);
    printf ("node        %s  %s\n", json_string_value (json_object_get (st, "name")),
            json_string_value (json_object_get (st, "node")));
    printf ("running     pid %lld, up %s (since %s), intelmeshd %s\n",
            GET_INT (st, "pid"), up, json_string_value (json_object_get (st, "started")),
            json_string_value (json_object_get (st, "version")));
    printf ("local feed  %s\n", json_string_value (json_object_get (st, "pub")));
    json_t *keys = json_object_get (st, "keys");
    const char *prev_until = json_string_value (json_object_get (keys, "previous_until"));
    if (prev_until)
        printf ("keys        rotated: the previous CURVE key works until %s\n",
                prev_until);
    if (GET_INT (st, "warninglists"))
        printf ("warnings    %lld warninglists loaded\n", GET_INT (st, "warninglists"));
    printf ("indicators  %lld live, %lld revoked\n", GET_INT (ind, "live"),
            GET_INT (ind, "revoked"));
    printf ("reports     %lld live\n", GET_INT (st, "reports"));
    const char *key;
    json_t *v;
    printf ("  by type  ");
    int any = 0;
    json_object_foreach (json_object_get (ind, "by_type"), key, v)
    {
        printf ("%s %s %lld", any ? "," : "", key, (long long)json_integer_value (v));
        any = 1;
    }
    printf ("%s\n  by TLP   ", any ? "" : " none");
    any = 0;
    json_object_foreach (json_object_get (ind, "by_tlp"), key, v)
    {
        printf ("%s %s %lld", any ? "," : "", key, (long long)json_integer_value (v));
        any = 1;
    }
    printf ("\n  by origin");
    json_t *origins = json_object_get (ind, "by_origin");
    for (size_t i = 0; i < json_array_size (origins); i++) {
        json_t *o = json_array_get (origins, i);
        const char *name = json_string_value (json_object_get (o, "name"));
        printf ("%s %s%.*s %lld", i ? "," : "", name ? name : "", name ? 0 : 16,
                json_string_value (json_object_get (o, "origin")), GET_INT (o, "held"));
    }
    if (json_array_size (origins) == 0)
        printf (" none");
    printf (
        "\nstore       %lld records from %lld origins, %s used of a %s map (%.0f%%)\n",
        GET_INT (store, "records"), GET_INT (store, "origins"), used, map,
        GET_INT (store, "map_size") ? 100.0 * (double)GET_INT (store, "used_bytes")
                                          / (double)GET_INT (store, "map_size")
                                    : 0.0);
    if (GET_INT (store, "max_size")) {
        char cap[32];
        human_bytes ((uint64_t)GET_INT (store, "max_size"), cap, sizeof cap);
        printf ("  limit    %s (store/max-size)\n", cap);
    }
    json_t *full = json_object_get (store, "disk_full");
    if (json_is_object (full))
        printf ("  store: disk full since %s (%lld writes refused)\n",
                json_string_value (json_object_get (full, "since")),
                GET_INT (full, "writes_refused"));
    json_t *restart = json_object_get (st, "store_restarted");
    if (json_is_object (restart)) {
        const char *by = json_string_value (json_object_get (restart, "found_by"));
        printf ("            restarted at %s (lost or restored; found %s%s): its own "
                "indicators are pulled back from the peers\n",
                json_string_value (json_object_get (restart, "time")),
                by ? "by the pull of " : "at start", by ? by : "");
    }
    printf ("activity    %lld published, %lld revoked, %lld refused, %lld malformed "
            "requests, %lld store errors\n",
            GET_INT (counters, "published"), GET_INT (counters, "revoked"),
            GET_INT (counters, "refused"), GET_INT (counters, "bad_requests"),
            GET_INT (counters, "store_errors"));
    json_t *sig = json_object_get (st, "signatures");
    if (sig)
        printf ("signatures  signed %lld batches (up to 32 records each); from peers: "
                "%lld verified, %lld records checked against a batch verified before\n",
                GET_INT (sig, "signed"), GET_INT (sig, "verified"),
                GET_INT (sig, "cached"));
    json_t *peers = json_object_get (st, "peers");
    printf ("peers       %zu on the trust list\n", json_array_size (peers));
    for (size_t i = 0; i < json_array_size (peers); i++) {
        json_t *p = json_array_get (peers, i);
        const char *contact = json_string_value (json_object_get (p, "last_contact"));
        printf ("  %-12s %-9s last contact %s, lag %lld in / %lld out, %lld received, "
                "%lld sent\n",
                json_string_value (json_object_get (p, "name")),
                json_is_true (json_object_get (p, "connected")) ? "connected" : "down",
                contact ? contact : "never", GET_INT (p, "lag_in"),
                GET_INT (p, "lag_out"), GET_INT (p, "received"), GET_INT (p, "sent"));
        const char *restarted
            = json_string_value (json_object_get (p, "store_restarted"));
        if (restarted)
            printf ("  %-12s its store restarted at %s (lost or restored)\n", "",
                    restarted);
    }
    any = 0;
    printf ("refusals   ");
    json_object_foreach (json_object_get (st, "refusals"), key, v)
    {
        printf ("%s %s %lld", any ? "," : "", key, (long long)json_integer_value (v));
        any = 1;
    }
    printf ("%s\n", any ? "" : " none");
}

int
cmd_status (im_cli_t *cli, int argc, char **argv)
{
    int json = 0;
    int rc = cli_basic_options (
        cli, argc, argv,
        "Usage: intelmesh status [-d DIR] [--json]\n"
        "Shows the running node: identity, uptime, indicators by type and\n"
        "TLP, store size and map use, and refusals.\n",
        0, 0, &json);
    if (rc != CLI_GO_ON)
        return rc;
    json_t *st = cli_request (cli, IM_CTL_STATUS, NULL);
    if (!st)
        return EXIT_FAIL;
    if (json)
        cli_print_json (st);
    else
        print_status (st);
    json_decref (st);
    return 0;
}
