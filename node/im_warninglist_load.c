/* SPDX-License-Identifier: MPL-2.0 */
/* im_warninglist_load.c -- loading MISP warninglists: a directory of list
 * files read into one hash table (string and hostname entries), a sorted array
 * of prefixes (cidr) and a short array scanned in order (substring). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "im_ioc.h"
#include "im_types.h"
#include "im_util.h"
#include "im_warninglist.h"
#include "im_warninglist_int.h"

/* Names read from one directory, list files or not. */
#define DIR_NAMES_MAX 100000

/* The names of regex lists skipped, in the caller's buffer. */
typedef struct {
    char *buf;
    size_t sz, used;
    int cut;
} report_t;

/* --- Memory ------------------------------------------------------------- */

/* Makes room for one more item of SIZE bytes in *ARRAY (CAP items). */
static int
grow (void **array, size_t *cap, size_t used, size_t size)
{
    if (used < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    if (ncap > SIZE_MAX / size) {
        errno = ENOMEM;
        return -1;
    }
    void *p = realloc (*array, ncap * size);
    if (!p)
        return -1;
    *array = p;
    *cap = ncap;
    return 0;
}

/* Copies S (LEN bytes) into the pool; its offset in *OFF. */
static int
pool_add (state_t *st, const char *s, size_t len, size_t *off)
{
    if (st->pool_used + len + 1 > st->pool_cap) {
        size_t ncap = st->pool_cap ? st->pool_cap : 4096;
        while (ncap < st->pool_used + len + 1) {
            if (ncap > SIZE_MAX / 2) {
                errno = ENOMEM;
                return -1;
            }
            ncap *= 2;
        }
        char *p = realloc (st->pool, ncap);
        if (!p)
            return -1;
        st->pool = p;
        st->pool_cap = ncap;
    }
    memcpy (st->pool + st->pool_used, s, len);
    st->pool[st->pool_used + len] = '\0';
    *off = st->pool_used;
    st->pool_used += len + 1;
    return 0;
}

/* --- Strings ------------------------------------------------------------ */

static int
is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Replaces control characters in S with '?', so that a reason stays one line. */
static void
one_line (char *s, size_t sz)
{
    if (!s || !sz)
        return;
    for (size_t i = 0; i < sz && s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = '?';
}

/* Appends NAME to the report, ", " between names; what does not fit is cut
 * and ends with "...", and nothing more is added. */
static void
report_add (report_t *r, const char *name)
{
    if (!r->buf || r->sz == 0 || r->cut)
        return;
    const char *sep = r->used ? ", " : "";
    char item[IM_WARNINGLIST_NAME_MAX + 3];
    size_t len = (size_t)snprintf (item, sizeof item, "%s%s", sep, name);
    size_t avail = r->sz - 1 - r->used; /* bytes left before the NUL */
    if (len <= avail) {
        memcpy (r->buf + r->used, item, len);
        r->used += len;
        r->buf[r->used] = '\0';
        return;
    }
    r->cut = 1;
    size_t keep = avail >= 3 ? avail - 3 : 0;
    memcpy (r->buf + r->used, item, keep);
    r->used += keep;
    snprintf (r->buf + r->used, r->sz - r->used, "...");
}

/* --- The hash table ----------------------------------------------------- */

static void
slot_put (uint32_t *slots, size_t nslots, uint64_t hash, uint32_t value)
{
    size_t mask = nslots - 1;
    size_t i = (size_t)hash & mask;
    while (slots[i])
        i = (i + 1) & mask;
    slots[i] = value;
}

static int
table_grow (state_t *st)
{
    if ((st->nrecs + 1) * 2 <= st->nslots)
        return 0;
    size_t n = st->nslots ? st->nslots * 2 : 1024;
    uint32_t *slots = calloc (n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < st->nrecs; i++)
        slot_put (slots, n, st->recs[i].hash, (uint32_t)(i + 1));
    free (st->slots);
    st->slots = slots;
    st->nslots = n;
    return 0;
}

/* Adds KEY (lower case) of KIND for LIST, pointing at ENTRY (a pool offset);
 * the same key twice in one list is kept once. */
static int
table_add (state_t *st, int kind, uint32_t list, const char *key, size_t entry)
{
    uint64_t h = im_wl_hash_of (key);
    if (st->nslots) {
        size_t mask = st->nslots - 1;
        for (size_t i = (size_t)h & mask; st->slots[i]; i = (i + 1) & mask) {
            const rec_t *r = &st->recs[st->slots[i] - 1];
            if (r->hash == h && r->kind == kind && r->list == list
                && strcmp (st->pool + r->key, key) == 0)
                return 0;
        }
    }
    if (table_grow (st)
        || grow ((void **)&st->recs, &st->recs_cap, st->nrecs, sizeof *st->recs))
        return -1;
    size_t keyoff = entry;
    if (strcmp (st->pool + entry, key) != 0 && pool_add (st, key, strlen (key), &keyoff))
        return -1;
    rec_t *r = &st->recs[st->nrecs++];
    r->hash = h;
    r->key = keyoff;
    r->entry = entry;
    r->list = list;
    r->kind = (uint8_t)kind;
    slot_put (st->slots, st->nslots, h, (uint32_t)st->nrecs);
    return 0;
}

/* --- Entries ------------------------------------------------------------ */

/* Each returns 0 when the entry was taken, 1 when it is not of its list's
 * type (counted as bad), -1 on a failure (errno). S is trimmed, LEN bytes,
 * 1..IM_VALUE_MAX, and already in the pool at ENTRY. */

static int
add_string (state_t *st, uint32_t list, const char *s, size_t len, size_t entry)
{
    char key[IM_VALUE_MAX + 1], canon[IM_VALUE_MAX + 1];
    im_wl_lower_copy (key, s, len);
    if (table_add (st, KIND_STRING, list, key, entry))
        return -1;
    /* an address or a name written another way than its canonical form */
    int type = im_ioc_guess (key);
    const im_type_info_t *t = im_type_info (type);
    if (t && t->wl != IM_WL_PLAIN
        && im_ioc_normalise (type, s, canon, sizeof canon, NULL, 0) == 0) {
        im_wl_lower_copy (canon, canon, strlen (canon));
        if (strcmp (canon, key) != 0 && table_add (st, KIND_STRING, list, canon, entry))
            return -1;
    }
    return 0;
}

static int
add_substring (state_t *st, uint32_t list, const char *s, size_t len, size_t entry)
{
    char key[IM_VALUE_MAX + 1];
    size_t keyoff = entry;
    im_wl_lower_copy (key, s, len);
    if (strcmp (key, s) != 0 && pool_add (st, key, len, &keyoff))
        return -1;
    if (grow ((void **)&st->subs, &st->subs_cap, st->nsubs, sizeof *st->subs))
        return -1;
    st->subs[st->nsubs].key = keyoff;
    st->subs[st->nsubs].entry = entry;
    st->subs[st->nsubs].list = list;
    st->nsubs++;
    return 0;
}

/* A host name as MISP hostname lists write them: "example.com", also
 * ".example.com", "*.example.com" or "example.com." for the same. Labels of
 * letters, digits, '-' and '_', 1-63 bytes each, 253 in all. */
static int
add_hostname (state_t *st, uint32_t list, const char *s, size_t len, size_t entry)
{
    char key[IM_VALUE_MAX + 1];
    const char *p = s, *end = s + len;
    if (end - p >= 2 && p[0] == '*' && p[1] == '.')
        p += 2;
    else if (p < end && *p == '.')
        p++;
    if (end > p && end[-1] == '.')
        end--;
    size_t n = (size_t)(end - p);
    if (n == 0 || n > 253)
        return 1;
    im_wl_lower_copy (key, p, n);
    size_t label = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = key[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || key[i - 1] == '-' || key[i - label] == '-')
                return 1;
            label = 0;
        }
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
            label++;
        else
            return 1;
    }
    return table_add (st, KIND_HOSTNAME, list, key, entry) ? -1 : 0;
}

/* An address, or an address and a prefix length; host bits are cleared. */
static int
add_cidr (state_t *st, uint32_t list, const char *s, size_t len, size_t entry)
{
    char text[64];
    const char *slash = memchr (s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    int family = memchr (s, ':', alen) ? 6 : 4;
    int maxlen = family == 4 ? 32 : 128, plen = maxlen, ignored;
    cidr_t c;

    if (alen == 0 || alen >= sizeof text)
        return 1;
    memcpy (text, s, alen);
    text[alen] = '\0';
    if (slash) {
        const char *d = slash + 1, *dend = s + len;
        if (dend - d < 1 || dend - d > 3 || (d[0] == '0' && dend - d > 1))
            return 1;
        plen = 0;
        for (; d < dend; d++) {
            if (*d < '0' || *d > '9')
                return 1;
            plen = plen * 10 + (*d - '0');
        }
        if (plen > maxlen)
            return 1;
    }
    memset (&c, 0, sizeof c);
    if (im_ioc_prefix (family == 4 ? IM_TYPE_IPV4 : IM_TYPE_IPV6, text, c.addr, &ignored))
        return 1;
    if (family == 4)
        memset (c.addr + 4, 0, 12);
    im_wl_mask_bits (c.addr, plen);
    c.plen = (uint8_t)plen;
    c.family = (uint8_t)family;
    c.list = list;
    c.entry = entry;
    /* the same prefix twice in a list costs a slot, not a second report */
    if (grow ((void **)&st->cidrs, &st->cidrs_cap, st->ncidrs, sizeof *st->cidrs))
        return -1;
    st->cidrs[st->ncidrs++] = c;
    st->plens[family == 4 ? 0 : 1][plen / 64] |= UINT64_C (1) << (plen % 64);
    return 0;
}

static int
cidr_cmp (const void *a, const void *b)
{
    const cidr_t *x = a, *y = b;
    if (x->family != y->family)
        return x->family < y->family ? -1 : 1;
    int c = memcmp (x->addr, y->addr, 16);
    if (c)
        return c;
    if (x->plen != y->plen)
        return x->plen < y->plen ? -1 : 1;
    if (x->list != y->list)
        return x->list < y->list ? -1 : 1;
    return 0;
}

/* --- Reading a list file ------------------------------------------------ */

static const struct {
    const char *name;
    int kind;
} kinds[] = {
    { "string", KIND_STRING },     { "substring", KIND_SUBSTRING },
    { "hostname", KIND_HOSTNAME }, { "cidr", KIND_CIDR },
    { "regex", KIND_REGEX },
};

/* Reads PATH whole (at most IM_WARNINGLIST_FILE_MAX bytes) into *BUF. */
static int
read_file (const char *path, char **buf, size_t *len, char *err, size_t errsz)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return im_fail (e, err, errsz, "warninglist %s: %s", path, strerror (e));
    }
    struct stat sb;
    if (fstat (fd, &sb) != 0) {
        int e = errno;
        close (fd);
        return im_fail (e, err, errsz, "warninglist %s: %s", path, strerror (e));
    }
    if (!S_ISREG (sb.st_mode)) {
        close (fd);
        return im_fail (EINVAL, err, errsz, "warninglist %s: not a regular file", path);
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > IM_WARNINGLIST_FILE_MAX) {
        close (fd);
        return im_fail (EFBIG, err, errsz,
                        "warninglist %s: larger than %u MiB (%lld bytes)", path,
                        IM_WARNINGLIST_FILE_MAX >> 20, (long long)sb.st_size);
    }
    /* the file may grow while we read it: never past the limit */
    size_t cap = (size_t)sb.st_size + 1, used = 0;
    char *p = malloc (cap);
    if (!p) {
        close (fd);
        return im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory", path);
    }
    for (;;) {
        if (used == cap) {
            if (cap > IM_WARNINGLIST_FILE_MAX) {
                free (p);
                close (fd);
                return im_fail (EFBIG, err, errsz, "warninglist %s: larger than %u MiB",
                                path, IM_WARNINGLIST_FILE_MAX >> 20);
            }
            size_t ncap = cap * 2 > IM_WARNINGLIST_FILE_MAX + 1
                              ? IM_WARNINGLIST_FILE_MAX + 1
                              : cap * 2;
            char *q = realloc (p, ncap);
            if (!q) {
                free (p);
                close (fd);
                return im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory",
                                path);
            }
            p = q;
            cap = ncap;
        }
        ssize_t n = read (fd, p + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free (p);
            close (fd);
            return im_fail (e, err, errsz, "warninglist %s: %s", path, strerror (e));
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close (fd);
    if (used > IM_WARNINGLIST_FILE_MAX) {
        free (p);
        return im_fail (EFBIG, err, errsz, "warninglist %s: larger than %u MiB", path,
                        IM_WARNINGLIST_FILE_MAX >> 20);
    }
    *buf = p;
    *len = used;
    return 0;
}

/* Checks the fields of the list file ROOT (read from PATH): its name into
 * *NAME, its kind into *KIND and its entries into *JLIST. Returns 0, or -1
 * with errno EINVAL and a reason in ERR. */
static int
check_list (json_t *root, const char *path, const char **name_p, int *kind_p,
            json_t **jlist_p, char *err, size_t errsz)
{
    if (!json_is_object (root))
        return im_fail (EINVAL, err, errsz, "warninglist %s: not a JSON object", path);
    json_t *jname = json_object_get (root, "name");
    json_t *jlist = json_object_get (root, "list");
    json_t *jtype = json_object_get (root, "type");
    json_t *jversion = json_object_get (root, "version");
    json_t *jdesc = json_object_get (root, "description");
    json_t *jattrs = json_object_get (root, "matching_attributes");
    if (!jname)
        return im_fail (EINVAL, err, errsz, "warninglist %s: no \"name\"", path);
    if (!json_is_string (jname))
        return im_fail (EINVAL, err, errsz, "warninglist %s: \"name\" is not a string",
                        path);
    const char *name = json_string_value (jname);
    size_t namelen = json_string_length (jname);
    if (namelen == 0 || namelen > IM_WARNINGLIST_NAME_MAX || strlen (name) != namelen)
        return im_fail (EINVAL, err, errsz, "warninglist %s: \"name\" is not 1-%d bytes",
                        path, IM_WARNINGLIST_NAME_MAX);
    for (size_t i = 0; i < namelen; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return im_fail (EINVAL, err, errsz,
                            "warninglist %s: \"name\" holds a control character", path);
    int kind = KIND_STRING; /* MISP's default for lists without a type */
    if (jtype) {
        kind = 0;
        if (!json_is_string (jtype))
            return im_fail (EINVAL, err, errsz,
                            "warninglist %s: \"type\" is not a string", path);
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !kind; i++)
            if (strcmp (json_string_value (jtype), kinds[i].name) == 0)
                kind = kinds[i].kind;
        if (!kind)
            return im_fail (EINVAL, err, errsz,
                            "warninglist %s: type '%.32s' is not string, substring, "
                            "hostname, cidr or regex",
                            path, json_string_value (jtype));
    }
    if (jversion && !json_is_integer (jversion))
        return im_fail (EINVAL, err, errsz,
                        "warninglist %s: \"version\" is not an integer", path);
    if (jdesc && !json_is_string (jdesc))
        return im_fail (EINVAL, err, errsz,
                        "warninglist %s: \"description\" is not a string", path);
    if (jattrs && !json_is_array (jattrs))
        return im_fail (EINVAL, err, errsz,
                        "warninglist %s: \"matching_attributes\" is not an array", path);
    if (!jlist)
        return im_fail (EINVAL, err, errsz, "warninglist %s: no \"list\"", path);
    if (!json_is_array (jlist))
        return im_fail (EINVAL, err, errsz, "warninglist %s: \"list\" is not an array",
                        path);
    size_t n = json_array_size (jlist);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string (json_array_get (jlist, i)))
            return im_fail (EINVAL, err, errsz,
                            "warninglist %s: entry %zu of \"list\" is not a string", path,
                            i + 1);
    *name_p = name;
    *kind_p = kind;
    *jlist_p = jlist;
    return 0;
}

/* Adds the entries of JLIST to LIST (of KIND) in ST; entries that are empty,
 * too long or not of the list's type are counted as bad. */
static int
add_entries (state_t *st, uint32_t list, int kind, const json_t *jlist, const char *path,
             char *err, size_t errsz)
{
    char val[IM_VALUE_MAX + 1];
    size_t n = json_array_size (jlist);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get (jlist, i);
        const char *s = json_string_value (e);
        size_t slen = json_string_length (e);
        while (slen && is_space (*s)) {
            s++;
            slen--;
        }
        while (slen && is_space (s[slen - 1]))
            slen--;
        if (slen == 0 || slen > IM_VALUE_MAX || memchr (s, '\0', slen)) {
            st->nbad++;
            continue;
        }
        size_t entry;
        if (pool_add (st, s, slen, &entry))
            return im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory", path);
        memcpy (val, s, slen); /* NUL terminated, and safe from the pool moving */
        val[slen] = '\0';
        int r;
        switch (kind) {
        case KIND_STRING: r = add_string (st, list, val, slen, entry); break;
        case KIND_SUBSTRING: r = add_substring (st, list, val, slen, entry); break;
        case KIND_HOSTNAME: r = add_hostname (st, list, val, slen, entry); break;
        default: r = add_cidr (st, list, val, slen, entry); break;
        }
        if (r < 0)
            return im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory", path);
        if (r > 0)
            st->nbad++;
    }
    return 0;
}

/* Reads the list at PATH into ST (a regex list is only reported). */
static int
load_file (state_t *st, const char *path, report_t *skipped, char *err, size_t errsz)
{
    char *buf = NULL;
    size_t len = 0;
    json_error_t jerr;
    int rc = -1;

    if (read_file (path, &buf, &len, err, errsz))
        return -1;
    json_t *root = json_loadb (buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free (buf);
    if (!root)
        return im_fail (EINVAL, err, errsz, "warninglist %s: line %d: %s", path,
                        jerr.line, jerr.text);
    const char *name = NULL;
    int kind = 0;
    json_t *jlist = NULL;
    if (check_list (root, path, &name, &kind, &jlist, err, errsz))
        goto done;
    size_t n = json_array_size (jlist);
    if (kind == KIND_REGEX) {
        report_add (skipped, name);
        rc = 0;
        goto done;
    }
    if (n > IM_WARNINGLIST_ENTRIES_MAX - st->nentries) {
        im_fail (E2BIG, err, errsz,
                 "warninglist %s: more than %d entries in all lists together", path,
                 IM_WARNINGLIST_ENTRIES_MAX);
        goto done;
    }
    uint32_t list = (uint32_t)st->nlists;
    st->lists[list].name = strdup (name);
    if (!st->lists[list].name) {
        im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory", path);
        goto done;
    }
    st->lists[list].kind = kind;
    st->nlists++;
    st->nentries += n;
    rc = add_entries (st, list, kind, jlist, path, err, errsz);
done:
    json_decref (root);
    return rc;
}

/* --- Loading a directory ------------------------------------------------ */

static int
name_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

static int
ends_with_json (const char *name)
{
    size_t n = strlen (name);
    return n > 5 && strcmp (name + n - 5, ".json") == 0;
}

/* The names in DIR not starting with '.', sorted. */
static int
read_names (const char *dir, char ***names_p, size_t *count, char *err, size_t errsz)
{
    DIR *d = opendir (dir);
    if (!d) {
        int e = errno;
        return im_fail (e, err, errsz, "warninglists directory %s: %s", dir,
                        strerror (e));
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = 0;
    errno = 0;
    while ((de = readdir (d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n >= DIR_NAMES_MAX) {
            rc = im_fail (E2BIG, err, errsz,
                          "warninglists directory %s: more than %d names", dir,
                          DIR_NAMES_MAX);
            break;
        }
        if (grow ((void **)&names, &cap, n, sizeof *names)
            || !(names[n] = strdup (de->d_name))) {
            rc = im_fail (ENOMEM, err, errsz, "warninglists directory %s: out of memory",
                          dir);
            break;
        }
        n++;
        errno = 0;
    }
    if (rc == 0 && errno != 0) {
        int e = errno;
        rc = im_fail (e, err, errsz, "warninglists directory %s: %s", dir, strerror (e));
    }
    closedir (d);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free (names[i]);
        free (names);
        return -1;
    }
    if (n)
        qsort (names, n, sizeof *names, name_cmp);
    *names_p = names;
    *count = n;
    return 0;
}

/* Builds the lists under DIR into ST. */
static int
load_dir (state_t *st, const char *dir, report_t *skipped, char *err, size_t errsz)
{
    char **names = NULL;
    size_t count = 0, files = 0;
    int rc = 0;

    if (read_names (dir, &names, &count, err, errsz))
        return -1;
    st->lists = calloc (IM_WARNINGLISTS_MAX, sizeof *st->lists);
    if (!st->lists)
        rc = im_fail (ENOMEM, err, errsz, "warninglists: out of memory");
    for (size_t i = 0; i < count && rc == 0; i++) {
        char path[PATH_MAX];
        struct stat sb;
        int n = snprintf (path, sizeof path, "%s/%s", dir, names[i]);
        if (n < 0 || (size_t)n >= sizeof path) {
            rc = im_fail (ENAMETOOLONG, err, errsz, "warninglist %s/%s: path too long",
                          dir, names[i]);
            break;
        }
        if (stat (path, &sb) != 0) {
            if (errno == ENOENT) /* gone since, or a dangling link */
                continue;
            int e = errno;
            rc = im_fail (e, err, errsz, "warninglist %s: %s", path, strerror (e));
            break;
        }
        if (S_ISDIR (sb.st_mode)) {
            if ((size_t)n + sizeof "/list.json" > sizeof path) {
                rc = im_fail (ENAMETOOLONG, err, errsz, "warninglist %s: path too long",
                              path);
                break;
            }
            strcat (path, "/list.json");
            if (stat (path, &sb) != 0 && errno == ENOENT)
                continue; /* a directory that holds no list */
        }
        else if (!S_ISREG (sb.st_mode) || !ends_with_json (names[i]))
            continue;
        if (files >= IM_WARNINGLISTS_MAX) {
            rc = im_fail (E2BIG, err, errsz, "warninglist %s: more than %d lists in %s",
                          path, IM_WARNINGLISTS_MAX, dir);
            break;
        }
        files++;
        rc = load_file (st, path, skipped, err, errsz);
    }
    for (size_t i = 0; i < count; i++)
        free (names[i]);
    free (names);
    if (rc == 0 && st->ncidrs)
        qsort (st->cidrs, st->ncidrs, sizeof *st->cidrs, cidr_cmp);
    return rc;
}

/* --- Public ------------------------------------------------------------- */

int
im_warninglists_load (im_warninglists_t *self, const char *dir, size_t *nlists,
                      char *skipped, size_t skippedsz, char *err, size_t errsz)
{
    if (err && errsz)
        err[0] = '\0';
    if (skipped && skippedsz)
        skipped[0] = '\0';
    if (!self)
        return im_fail (EINVAL, err, errsz, "warninglists: none given");
    if (!dir || !*dir)
        return im_fail (EINVAL, err, errsz, "warninglists: no directory given");

    state_t st;
    report_t report = { skipped, skippedsz, 0, 0 };
    memset (&st, 0, sizeof st);
    if (load_dir (&st, dir, &report, err, errsz)) {
        int e = errno;
        im_wl_state_free (&st);
        if (skipped && skippedsz)
            skipped[0] = '\0';
        one_line (err, errsz);
        errno = e;
        return -1;
    }
    im_wl_state_free (&self->st);
    self->st = st;
    if (nlists)
        *nlists = st.nlists;
    return 0;
}
