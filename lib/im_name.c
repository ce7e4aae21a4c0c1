/* SPDX-License-Identifier: MPL-2.0 */
/* im_name.c -- what makes a valid node name and a usable endpoint (both are
 * written into the ZPL configuration and the one-line node card). */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "im_name.h"

int
im_name_valid (const char *name)
{
    size_t len = name ? strlen (name) : 0;
    if (len == 0 || len > IM_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum ((unsigned char)name[i]) && !strchr ("._-", name[i]))
            return 0;
    return 1;
}

int
im_endpoint_valid (const char *endpoint)
{
    if (!endpoint || strlen (endpoint) >= IM_ENDPOINT_MAX)
        return 0;
    /* Endpoints are written into the ZPL config and the one-line card. */
    for (const char *p = endpoint; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\'' || *p == 0x7F)
            return 0;
    if (strncmp (endpoint, "ipc://", 6) == 0)
        return endpoint[6] != 0;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return 0;
    const char *colon = strrchr (endpoint + 6, ':');
    if (!colon || colon == endpoint + 6 || !colon[1])
        return 0;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return 0;
    return 1;
}
