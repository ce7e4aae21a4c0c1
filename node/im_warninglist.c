/* im_warninglist.c -- MISP warninglists: a directory of list files read into one
 * hash table (string and hostname entries), a sorted array of prefixes (cidr)
 * and a short array scanned in order (substring), and values matched against them. */
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
#include "im_util.h"
#include "im_warninglist.h"

/* Names read from one directory, list files or not. */
#define DIR_NAMES_MAX 100000

enum { KIND_STRING = 1, KIND_SUBSTRING, KIND_HOSTNAME, KIND_CIDR, KIND_REGEX };

typedef struct {
    char *name;
    int kind;
} list_t;

/* A string or hostname entry in the hash table. */
typedef struct {
    uint64_t hash;
    size_t key;   /* offset in the pool: the lower-case form looked up */
    size_t entry; /* offset in the pool: the entry as the list wrote it */
    uint32_t list;
    uint8_t kind;
} rec_t;

typedef struct {
    uint8_t addr[16]; /* network bytes, host bits clear */
    uint8_t plen;
    uint8_t family; /* 4 or 6 */
    uint32_t list;
    size_t entry;
} cidr_t;

typedef struct {
    size_t key;
    size_t entry;
    uint32_t list;
} sub_t;

/* Everything one load made; replaced as a whole when a load succeeds. */
typedef struct {
    list_t *lists;
    size_t nlists;
    rec_t *recs;
    size_t nrecs, recs_cap;
    uint32_t *slots; /* open addressing: index in recs + 1, 0 when empty */
    size_t nslots;   /* a power of two, or 0 */
    cidr_t *cidrs;
    size_t ncidrs, cidrs_cap;
    uint64_t plens[2][3]; /* [ipv4, ipv6]: one bit per prefix length listed */
    sub_t *subs;
    size_t nsubs, subs_cap;
    char *pool; /* every key and entry, NUL terminated */
    size_t pool_used, pool_cap;
    size_t nentries, nbad;
} state_t;

struct _im_warninglists_t {
    state_t st;
};

/* The names of regex lists skipped, in the caller's buffer. */
typedef struct {
    char *buf;
    size_t sz, used;
    int cut;
} report_t;

/* --- Memory ------------------------------------------------------------- */

static void
state_free (state_t *st)
{
    for (size_t i = 0; i < st->nlists; i++)
        free (st->lists[i].name);
    free (st->lists);
    free (st->recs);
    free (st->slots);
    free (st->cidrs);
    free (st->subs);
    free (st->pool);
    memset (st, 0, sizeof *st);
}

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

static char
lower (char c)
{
    return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
}

static void
lower_copy (char *out, const char *in, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = lower (in[i]);
    out[len] = '\0';
}

static int
is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* FNV-1a, 64 bits. */
static uint64_t
hash_of (const char *s)
{
    uint64_t h = UINT64_C (14695981039346656037);
    for (; *s; s++) {
        h ^= (unsigned char) *s;
        h *= UINT64_C (1099511628211);
    }
    return h;
}

/* Replaces control characters in S with '?', so that a reason stays one line. */
static void
one_line (char *s, size_t sz)
{
    if (!s || !sz)
        return;
    for (size_t i = 0; i < sz && s[i]; i++)
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
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
    size_t len = (size_t) snprintf (item, sizeof item, "%s%s", sep, name);
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
    size_t i = (size_t) hash & mask;
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
        slot_put (slots, n, st->recs[i].hash, (uint32_t) (i + 1));
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
    uint64_t h = hash_of (key);
    if (st->nslots) {
        size_t mask = st->nslots - 1;
        for (size_t i = (size_t) h & mask; st->slots[i]; i = (i + 1) & mask) {
            const rec_t *r = &st->recs[st->slots[i] - 1];
            if (r->hash == h && r->kind == kind && r->list == list
                && strcmp (st->pool + r->key, key) == 0)
                return 0;
        }
    }
    if (table_grow (st)
        || grow ((void **) &st->recs, &st->recs_cap, st->nrecs, sizeof *st->recs))
        return -1;
    size_t keyoff = entry;
    if (strcmp (st->pool + entry, key) != 0 && pool_add (st, key, strlen (key), &keyoff))
        return -1;
    rec_t *r = &st->recs[st->nrecs++];
    r->hash = h;
    r->key = keyoff;
    r->entry = entry;
    r->list = list;
    r->kind = (uint8_t) kind;
    slot_put (st->slots, st->nslots, h, (uint32_t) st->nrecs);
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
    lower_copy (key, s, len);
    if (table_add (st, KIND_STRING, list, key, entry))
        return -1;
    /* an address or a name written another way than its canonical form */
    int type = im_ioc_guess (key);
    if ((type == IM_TYPE_IPV4 || type == IM_TYPE_IPV6 || type == IM_TYPE_DOMAIN
         || type == IM_TYPE_URL || type == IM_TYPE_EMAIL)
        && im_ioc_normalise (type, s, canon, sizeof canon, NULL, 0) == 0) {
        lower_copy (canon, canon, strlen (canon));
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
    lower_copy (key, s, len);
    if (strcmp (key, s) != 0 && pool_add (st, key, len, &keyoff))
        return -1;
    if (grow ((void **) &st->subs, &st->subs_cap, st->nsubs, sizeof *st->subs))
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
    size_t n = (size_t) (end - p);
    if (n == 0 || n > 253)
        return 1;
    lower_copy (key, p, n);
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

static void
mask_bits (uint8_t addr[16], int plen)
{
    for (int i = 0; i < 16; i++) {
        int keep = plen - i * 8;
        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (uint8_t) (0xff << (8 - keep));
    }
}

/* An address, or an address and a prefix length; host bits are cleared. */
static int
add_cidr (state_t *st, uint32_t list, const char *s, size_t len, size_t entry)
{
    char text[64];
    const char *slash = memchr (s, '/', len);
    size_t alen = slash ? (size_t) (slash - s) : len;
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
    mask_bits (c.addr, plen);
    c.plen = (uint8_t) plen;
    c.family = (uint8_t) family;
    c.list = list;
    c.entry = entry;
    /* the same prefix twice in a list costs a slot, not a second report */
    if (grow ((void **) &st->cidrs, &st->cidrs_cap, st->ncidrs, sizeof *st->cidrs))
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
    if (sb.st_size < 0 || (uint64_t) sb.st_size > IM_WARNINGLIST_FILE_MAX) {
        close (fd);
        return im_fail (EFBIG, err, errsz,
                        "warninglist %s: larger than %u MiB (%lld bytes)", path,
                        IM_WARNINGLIST_FILE_MAX >> 20, (long long) sb.st_size);
    }
    /* the file may grow while we read it: never past the limit */
    size_t cap = (size_t) sb.st_size + 1, used = 0;
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
        used += (size_t) n;
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

/* Reads the list at PATH into ST (a regex list is only reported). */
static int
load_file (state_t *st, const char *path, report_t *skipped, char *err, size_t errsz)
{
    char val[IM_VALUE_MAX + 1];
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
    if (!json_is_object (root)) {
        im_fail (EINVAL, err, errsz, "warninglist %s: not a JSON object", path);
        goto done;
    }
    json_t *jname = json_object_get (root, "name");
    json_t *jlist = json_object_get (root, "list");
    json_t *jtype = json_object_get (root, "type");
    json_t *jversion = json_object_get (root, "version");
    json_t *jdesc = json_object_get (root, "description");
    json_t *jattrs = json_object_get (root, "matching_attributes");
    if (!jname) {
        im_fail (EINVAL, err, errsz, "warninglist %s: no \"name\"", path);
        goto done;
    }
    if (!json_is_string (jname)) {
        im_fail (EINVAL, err, errsz, "warninglist %s: \"name\" is not a string", path);
        goto done;
    }
    const char *name = json_string_value (jname);
    size_t namelen = json_string_length (jname);
    if (namelen == 0 || namelen > IM_WARNINGLIST_NAME_MAX || strlen (name) != namelen) {
        im_fail (EINVAL, err, errsz, "warninglist %s: \"name\" is not 1-%d bytes", path,
                 IM_WARNINGLIST_NAME_MAX);
        goto done;
    }
    for (size_t i = 0; i < namelen; i++)
        if ((unsigned char) name[i] < 0x20 || name[i] == 0x7f) {
            im_fail (EINVAL, err, errsz,
                     "warninglist %s: \"name\" holds a control character", path);
            goto done;
        }
    int kind = KIND_STRING; /* MISP's default for lists without a type */
    if (jtype) {
        kind = 0;
        if (!json_is_string (jtype)) {
            im_fail (EINVAL, err, errsz, "warninglist %s: \"type\" is not a string",
                     path);
            goto done;
        }
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0] && !kind; i++)
            if (strcmp (json_string_value (jtype), kinds[i].name) == 0)
                kind = kinds[i].kind;
        if (!kind) {
            im_fail (EINVAL, err, errsz,
                     "warninglist %s: type '%.32s' is not string, substring, hostname, "
                     "cidr or regex",
                     path, json_string_value (jtype));
            goto done;
        }
    }
    if (jversion && !json_is_integer (jversion)) {
        im_fail (EINVAL, err, errsz, "warninglist %s: \"version\" is not an integer",
                 path);
        goto done;
    }
    if (jdesc && !json_is_string (jdesc)) {
        im_fail (EINVAL, err, errsz, "warninglist %s: \"description\" is not a string",
                 path);
        goto done;
    }
    if (jattrs && !json_is_array (jattrs)) {
        im_fail (EINVAL, err, errsz,
                 "warninglist %s: \"matching_attributes\" is not an array", path);
        goto done;
    }
    if (!jlist) {
        im_fail (EINVAL, err, errsz, "warninglist %s: no \"list\"", path);
        goto done;
    }
    if (!json_is_array (jlist)) {
        im_fail (EINVAL, err, errsz, "warninglist %s: \"list\" is not an array", path);
        goto done;
    }
    size_t n = json_array_size (jlist);
    for (size_t i = 0; i < n; i++)
        if (!json_is_string (json_array_get (jlist, i))) {
            im_fail (EINVAL, err, errsz,
                     "warninglist %s: entry %zu of \"list\" is not a string", path,
                     i + 1);
            goto done;
        }
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
    uint32_t list = (uint32_t) st->nlists;
    st->lists[list].name = strdup (name);
    if (!st->lists[list].name) {
        im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory", path);
        goto done;
    }
    st->lists[list].kind = kind;
    st->nlists++;
    st->nentries += n;
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
        if (pool_add (st, s, slen, &entry)) {
            im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory", path);
            goto done;
        }
        memcpy (val, s, slen); /* NUL terminated, and safe from the pool moving */
        val[slen] = '\0';
        int r;
        switch (kind) {
        case KIND_STRING: r = add_string (st, list, val, slen, entry); break;
        case KIND_SUBSTRING: r = add_substring (st, list, val, slen, entry); break;
        case KIND_HOSTNAME: r = add_hostname (st, list, val, slen, entry); break;
        default: r = add_cidr (st, list, val, slen, entry); break;
        }
        if (r < 0) {
            im_fail (ENOMEM, err, errsz, "warninglist %s: out of memory", path);
            goto done;
        }
        if (r > 0)
            st->nbad++;
    }
    rc = 0;
done:
    json_decref (root);
    return rc;
}

/* --- Loading a directory ------------------------------------------------ */

static int
name_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
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
        if (grow ((void **) &names, &cap, n, sizeof *names)
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
        if (n < 0 || (size_t) n >= sizeof path) {
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
            if ((size_t) n + sizeof "/list.json" > sizeof path) {
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

im_warninglists_t *
im_warninglists_new (void)
{
    im_warninglists_t *self = calloc (1, sizeof *self);
    if (!self)
        errno = ENOMEM;
    return self;
}

void
im_warninglists_destroy (im_warninglists_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    int saved = errno;
    state_free (&(*self_p)->st);
    free (*self_p);
    *self_p = NULL;
    errno = saved;
}

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
        state_free (&st);
        if (skipped && skippedsz)
            skipped[0] = '\0';
        one_line (err, errsz);
        errno = e;
        return -1;
    }
    state_free (&self->st);
    self->st = st;
    if (nlists)
        *nlists = st.nlists;
    return 0;
}

size_t
im_warninglists_size (im_warninglists_t *self)
{
    return self ? self->st.nlists : 0;
}

size_t
im_warninglists_bad_entries (im_warninglists_t *self)
{
    return self ? self->st.nbad : 0;
}

size_t
im_warninglists_entries (im_warninglists_t *self)
{
    return self ? self->st.nentries - self->st.nbad : 0;
}

/* --- Matching ----------------------------------------------------------- */

typedef struct {
    uint32_t list;
    const char *entry;
} hit_t;

typedef struct {
    const state_t *st;
    uint64_t seen[IM_WARNINGLISTS_MAX / 64];
    hit_t hits[IM_WARNINGLISTS_MAX];
    size_t nhits;
} match_t;

static int
seen (const match_t *m, uint32_t list)
{
    return (m->seen[list / 64] >> (list % 64)) & 1;
}

static void
hit (match_t *m, uint32_t list, size_t entry)
{
    if (seen (m, list))
        return;
    m->seen[list / 64] |= UINT64_C (1) << (list % 64);
    m->hits[m->nhits].list = list;
    m->hits[m->nhits].entry = m->st->pool + entry;
    m->nhits++;
}

static void
find_key (match_t *m, int kind, const char *key)
{
    const state_t *st = m->st;
    if (!st->nslots)
        return;
    uint64_t h = hash_of (key);
    size_t mask = st->nslots - 1;
    for (size_t i = (size_t) h & mask; st->slots[i]; i = (i + 1) & mask) {
        const rec_t *r = &st->recs[st->slots[i] - 1];
        if (r->hash == h && r->kind == kind && !seen (m, r->list)
            && strcmp (st->pool + r->key, key) == 0)
            hit (m, r->list, r->entry);
    }
}

/* HOST and each of its parent domains, in hostname lists. */
static void
find_host (match_t *m, const char *host)
{
    const char *last = strrchr (host, '.');
    last = last ? last + 1 : host;
    if (strspn (last, "0123456789") == strlen (last))
        return; /* an IPv4 address, not a name */
    for (const char *s = host;;) {
        find_key (m, KIND_HOSTNAME, s);
        const char *dot = strchr (s, '.');
        if (!dot || !dot[1])
            break;
        s = dot + 1;
    }
}

/* The host of a canonical URL or e-mail address (LOW, lower case) into HOST;
 * 0 when it has none. Bracketed IPv6 hosts lose their brackets. */
static int
host_of (int type, const char *low, char *host, size_t hostsz)
{
    const char *a, *end;
    if (type == IM_TYPE_EMAIL) {
        a = strrchr (low, '@');
        if (!a)
            return 0;
        a++;
        end = a + strlen (a);
    }
    else {
        const char *p = strstr (low, "://");
        if (!p)
            return 0;
        a = p + 3;
        end = a + strcspn (a, "/?#");
        for (const char *q = a; q < end; q++)
            if (*q == '@')
                a = q + 1;
        if (a < end && *a == '[') {
            const char *close = memchr (a, ']', (size_t) (end - a));
            if (!close)
                return 0;
            a++;
            end = close;
        }
        else {
            const char *colon = memchr (a, ':', (size_t) (end - a));
            if (colon)
                end = colon;
        }
    }
    size_t n = (size_t) (end - a);
    if (n == 0 || n >= hostsz)
        return 0;
    memcpy (host, a, n);
    host[n] = '\0';
    return 1;
}

static size_t
cidr_lower_bound (const state_t *st, const cidr_t *key)
{
    size_t lo = 0, hi = st->ncidrs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const cidr_t *c = &st->cidrs[mid];
        int cmp = c->family != key->family ? (c->family < key->family ? -1 : 1)
                                           : memcmp (c->addr, key->addr, 16);
        if (cmp == 0)
            cmp = c->plen < key->plen ? -1 : c->plen > key->plen ? 1 : 0;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
same_bits (const uint8_t *a, const uint8_t *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;
    if (memcmp (a, b, (size_t) bytes) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t) (0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

/* Listed prefixes that contain the prefix ADDR/PLEN or lie inside it. */
static void
find_cidr (match_t *m, int family, const uint8_t addr[16], int plen)
{
    const state_t *st = m->st;
    const uint64_t *bits = st->plens[family == 4 ? 0 : 1];
    int maxlen = family == 4 ? 32 : 128;
    cidr_t key;
    memset (&key, 0, sizeof key);
    key.family = (uint8_t) family;

    /* those that contain it: one look-up per prefix length listed */
    for (int len = 0; len <= plen; len++) {
        if (!((bits[len / 64] >> (len % 64)) & 1))
            continue;
        memcpy (key.addr, addr, 16);
        mask_bits (key.addr, len);
        key.plen = (uint8_t) len;
        for (size_t i = cidr_lower_bound (st, &key);
             i < st->ncidrs && st->cidrs[i].family == family && st->cidrs[i].plen == len
             && memcmp (st->cidrs[i].addr, key.addr, 16) == 0;
             i++)
            hit (m, st->cidrs[i].list, st->cidrs[i].entry);
    }
    /* those inside it, longer: contiguous after ADDR/PLEN in sorted order */
    if (plen < maxlen) {
        memcpy (key.addr, addr, 16);
        mask_bits (key.addr, plen);
        key.plen = (uint8_t) (plen + 1);
        for (size_t i = cidr_lower_bound (st, &key);
             i < st->ncidrs && st->cidrs[i].family == family
             && same_bits (st->cidrs[i].addr, key.addr, plen);
             i++)
            hit (m, st->cidrs[i].list, st->cidrs[i].entry);
    }
}

static int
hit_cmp (const void *a, const void *b)
{
    const hit_t *x = a, *y = b;
    return x->list < y->list ? -1 : x->list > y->list;
}

int
im_warninglists_match (im_warninglists_t *self, int type, const char *value,
                       im_warninglist_fn *fn, void *arg)
{
    if (!self || !value || type <= IM_TYPE_NONE || type >= IM_TYPE_COUNT) {
        errno = EINVAL;
        return -1;
    }
    size_t len = strnlen (value, IM_VALUE_MAX + 1);
    if (len > IM_VALUE_MAX) {
        errno = EINVAL;
        return -1;
    }
    const state_t *st = &self->st;
    if (len == 0) {
        errno = EINVAL;
        return -1;
    }
    if (st->nlists == 0)
        return 0;

    match_t mbuf, *m = &mbuf;
    m->st = st;
    m->nhits = 0;
    memset (m->seen, 0, sizeof m->seen);

    char low[IM_VALUE_MAX + 1], host[IM_VALUE_MAX + 1];
    lower_copy (low, value, len);
    int has_host = (type == IM_TYPE_URL || type == IM_TYPE_EMAIL)
                   && host_of (type, low, host, sizeof host);

    find_key (m, KIND_STRING, low);
    if (has_host)
        find_key (m, KIND_STRING, host);
    if (type == IM_TYPE_DOMAIN)
        find_host (m, low);
    else if (has_host && !strchr (host, ':'))
        find_host (m, host);
    if ((type == IM_TYPE_IPV4 || type == IM_TYPE_IPV6) && st->ncidrs) {
        uint8_t addr[16];
        int plen;
        if (im_ioc_prefix (type, value, addr, &plen) == 0) {
            if (type == IM_TYPE_IPV4)
                memset (addr + 4, 0, 12);
            find_cidr (m, type == IM_TYPE_IPV4 ? 4 : 6, addr, plen);
        }
    }
    for (size_t i = 0; i < st->nsubs; i++)
        if (!seen (m, st->subs[i].list) && strstr (low, st->pool + st->subs[i].key))
            hit (m, st->subs[i].list, st->subs[i].entry);

    if (m->nhits > 1)
        qsort (m->hits, m->nhits, sizeof *m->hits, hit_cmp);
    int count = 0;
    for (size_t i = 0; i < m->nhits; i++) {
        count++;
        if (fn && fn (st->lists[m->hits[i].list].name, m->hits[i].entry, arg))
            break;
    }
    return count;
}
