/* SPDX-License-Identifier: MPL-2.0 */
/* test_warninglist.c -- unit tests for node/im_warninglist.c: argument checks,
 * matching every list type against the fixtures in tests/data/warninglists,
 * malformed list files, limits and reloads that fail. Prints TAP. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "im_ioc.h"
#include "im_warninglist.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

/* The fixture lists, in load order, and what loading them gives. */
#define L_DOCS "IPv6 documentation"
#define L_HOSTS "Well-known hosts"
#define L_UNTYPED "Untyped list"
#define L_PRIVATE "Private IPv4 ranges"
#define L_RESOLVERS "Public resolvers"
#define L_STRINGS "Known strings"
#define L_SUBS "Known substrings"
#define FIXTURE_LISTS 7
#define FIXTURE_BAD 9
#define FIXTURE_ENTRIES 25

static char fixtures[4096];

/* What a match reported: "list=entry; list=entry". */
typedef struct {
    char text[4096];
    int calls;
    int stop_after; /* return non-zero after this many calls (0: never) */
} seen_t;

static int
collect (const char *list, const char *entry, void *arg)
{
    seen_t *s = arg;
    size_t used = strlen (s->text);
    snprintf (s->text + used, sizeof s->text - used, "%s%s=%s", used ? "; " : "", list,
              entry);
    s->calls++;
    return s->stop_after && s->calls >= s->stop_after;
}

/* Writes TEXT (LEN bytes) to DIR/NAME. */
static void
write_file (const char *dir, const char *name, const char *text, size_t len)
{
    char path[4200];
    sub_path (path, sizeof path, dir, name);
    FILE *f = fopen (path, "wb");
    if (!f || fwrite (text, 1, len, f) != len || fclose (f) != 0)
        BAIL_OUT ("cannot write %s: %s", path, strerror (errno));
}

static void
write_text (const char *dir, const char *name, const char *text)
{
    write_file (dir, name, text, strlen (text));
}

static im_warninglists_t *
load_fixtures (void)
{
    im_warninglists_t *wl = im_warninglists_new ();
    char err[512];
    if (!wl || im_warninglists_load (wl, fixtures, NULL, NULL, 0, err, sizeof err))
        BAIL_OUT ("cannot load the fixtures in %s: %s", fixtures, err);
    return wl;
}

static void
test_bad_arguments (void)
{
    im_warninglists_t *wl = NULL;
    char err[256], skipped[64];
    size_t n = 99;
    static char longval[IM_VALUE_MAX + 2];

    im_warninglists_destroy (NULL);
    im_warninglists_destroy (&wl);
    ok (1, "destroy takes NULL and a pointer to NULL");
    wl = im_warninglists_new ();
    ok (wl != NULL, "new makes an empty set");
    cmp_ok (im_warninglists_size (wl), "==", 0, "a new set holds no lists");
    cmp_ok (im_warninglists_bad_entries (wl), "==", 0, "a new set counts no bad entries");
    cmp_ok (im_warninglists_entries (wl), "==", 0, "a new set holds no entries");
    cmp_ok (im_warninglists_size (NULL), "==", 0, "size of NULL is 0");
    cmp_ok (im_warninglists_bad_entries (NULL), "==", 0, "bad entries of NULL is 0");
    cmp_ok (im_warninglists_entries (NULL), "==", 0, "entries of NULL is 0");

    errno = 0;
    ok (im_warninglists_load (NULL, fixtures, &n, skipped, sizeof skipped, err,
                              sizeof err)
                == -1
            && errno == EINVAL,
        "load refuses a NULL set");
    ok (strstr (err, "none given") != NULL, "the error for a NULL set says so");
    errno = 0;
    ok (im_warninglists_load (wl, NULL, &n, skipped, sizeof skipped, err, sizeof err)
                == -1
            && errno == EINVAL,
        "load refuses a NULL directory");
    ok (strstr (err, "no directory") != NULL, "the error for a NULL directory says so");
    errno = 0;
    ok (im_warninglists_load (wl, "", &n, NULL, 0, NULL, 0) == -1 && errno == EINVAL,
        "load refuses an empty directory name, without an error buffer");
    cmp_ok (n, "==", 99, "a refused load leaves *nlists alone");

    errno = 0;
    ok (im_warninglists_match (NULL, IM_TYPE_IPV4, "10.0.0.1", NULL, NULL) == -1
            && errno == EINVAL,
        "match refuses a NULL set");
    errno = 0;
    ok (im_warninglists_match (wl, IM_TYPE_IPV4, NULL, NULL, NULL) == -1
            && errno == EINVAL,
        "match refuses a NULL value");
    static const int bad_types[] = { IM_TYPE_NONE, IM_TYPE_COUNT, -1, 99 };
    for (size_t i = 0; i < COUNT (bad_types); i++) {
        errno = 0;
        ok (im_warninglists_match (wl, bad_types[i], "10.0.0.1", NULL, NULL) == -1
                && errno == EINVAL,
            "match refuses type %d", bad_types[i]);
    }
    errno = 0;
    ok (im_warninglists_match (wl, IM_TYPE_DOMAIN, "", NULL, NULL) == -1
            && errno == EINVAL,
        "match refuses an empty value");
    memset (longval, 'a', IM_VALUE_MAX + 1);
    errno = 0;
    ok (im_warninglists_match (wl, IM_TYPE_FILENAME, longval, NULL, NULL) == -1
            && errno == EINVAL,
        "match refuses a value longer than IM_VALUE_MAX bytes");
    longval[IM_VALUE_MAX] = '\0';
    cmp_ok (im_warninglists_match (wl, IM_TYPE_FILENAME, longval, NULL, NULL), "==", 0,
            "match takes a value of IM_VALUE_MAX bytes");
    cmp_ok (im_warninglists_match (wl, IM_TYPE_IPV4, "10.0.0.1", NULL, NULL), "==", 0,
            "nothing matches in a set never loaded");

    errno = 4321;
    im_warninglists_destroy (&wl);
    ok (wl == NULL, "destroy sets the pointer to NULL");
    cmp_ok (errno, "==", 4321, "destroy keeps errno");
}

static void
test_load_fixtures (void)
{
    im_warninglists_t *wl = im_warninglists_new ();
    char err[512] = "", skipped[256] = "x";
    size_t n = 0;

    int rc = im_warninglists_load (wl, fixtures, &n, skipped, sizeof skipped, err,
                                   sizeof err);
    if (!ok (rc == 0, "load reads the fixture directory"))
        diag ("error: %s", err);
    cmp_ok (n, "==", FIXTURE_LISTS, "load reports %d lists loaded", FIXTURE_LISTS);
    cmp_ok (im_warninglists_size (wl), "==", FIXTURE_LISTS, "size gives %d lists",
            FIXTURE_LISTS);
    is (skipped, "Regex list", "load reports the regex list as skipped");
    is (err, "", "a good load leaves the error empty");
    cmp_ok (im_warninglists_bad_entries (wl), "==", FIXTURE_BAD,
            "bad entries counts the %d entries that are not of their list's type",
            FIXTURE_BAD);
    cmp_ok (im_warninglists_entries (wl), "==", FIXTURE_ENTRIES,
            "entries counts the %d entries loaded", FIXTURE_ENTRIES);

    n = 0;
    rc = im_warninglists_load (wl, fixtures, &n, NULL, 0, err, sizeof err);
    ok (rc == 0 && n == FIXTURE_LISTS && im_warninglists_size (wl) == FIXTURE_LISTS,
        "loading the same directory again replaces the lists with the same lists");

    char small[8];
    rc = im_warninglists_load (wl, fixtures, NULL, small, sizeof small, err, sizeof err);
    ok (rc == 0, "load takes a NULL nlists");
    is (small, "Rege...", "a skipped report that does not fit is cut with '...'");
    char tiny[3];
    rc = im_warninglists_load (wl, fixtures, NULL, tiny, sizeof tiny, err, sizeof err);
    ok (rc == 0 && strlen (tiny) < sizeof tiny,
        "a skipped report into 3 bytes stays within them");
    im_warninglists_destroy (&wl);
}

typedef struct {
    int type;
    const char *value;
    const char *want; /* "list=entry; ..." in list order, "" for none */
} match_case_t;

static const match_case_t matches[] = {
    /* cidr, IPv4: addresses, prefixes containing and inside listed ones */
    { IM_TYPE_IPV4, "10.1.2.3", L_PRIVATE "=10.0.0.0/8" },
    { IM_TYPE_IPV4, "10.0.0.0", L_PRIVATE "=10.0.0.0/8" },
    { IM_TYPE_IPV4, "10.255.255.255", L_PRIVATE "=10.0.0.0/8" },
    { IM_TYPE_IPV4, "11.0.0.0", "" },
    { IM_TYPE_IPV4, "9.255.255.255", "" },
    { IM_TYPE_IPV4, "172.31.255.255", L_PRIVATE "=172.16.0.0/12" },
    { IM_TYPE_IPV4, "172.32.0.1", "" },
    { IM_TYPE_IPV4, "172.15.255.255", "" },
    { IM_TYPE_IPV4, "192.168.7.7", L_PRIVATE "=192.168.0.0/16" },
    { IM_TYPE_IPV4, "100.64.0.1", L_PRIVATE "=100.64.1.1/10" },
    { IM_TYPE_IPV4, "100.127.255.255", L_PRIVATE "=100.64.1.1/10" },
    { IM_TYPE_IPV4, "100.128.0.0", "" },
    { IM_TYPE_IPV4, "10.0.0.0/8", L_PRIVATE "=10.0.0.0/8" },
    { IM_TYPE_IPV4, "10.20.0.0/16", L_PRIVATE "=10.0.0.0/8" },
    { IM_TYPE_IPV4, "10.0.0.0/7", L_PRIVATE "=10.0.0.0/8" },
    { IM_TYPE_IPV4, "172.0.0.0/8", L_PRIVATE "=172.16.0.0/12" },
    { IM_TYPE_IPV4, "172.0.0.0/12", "" },
    { IM_TYPE_IPV4, "0.0.0.0/0", L_PRIVATE "=10.0.0.0/8; " L_RESOLVERS "=192.0.2.53" },
    { IM_TYPE_IPV4, "192.0.2.53", L_RESOLVERS "=192.0.2.53" },
    { IM_TYPE_IPV4, "192.0.2.0/24", L_RESOLVERS "=192.0.2.53" },
    { IM_TYPE_IPV4, "192.0.2.54", "" },
    { IM_TYPE_IPV4, "198.51.100.53", L_RESOLVERS "=198.51.100.53/32" },
    { IM_TYPE_IPV4, "198.51.100.54/31", "" },
    { IM_TYPE_IPV4, "198.51.100.52/31", L_RESOLVERS "=198.51.100.53/32" },
    { IM_TYPE_IPV4, "198.51.100.7", L_UNTYPED "=198.51.100.7" },
    /* cidr, IPv6 */
    { IM_TYPE_IPV6, "2001:db8::1", L_DOCS "=2001:DB8::/32" },
    { IM_TYPE_IPV6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", L_DOCS "=2001:DB8::/32" },
    { IM_TYPE_IPV6, "2001:db9::1", "" },
    { IM_TYPE_IPV6, "2001:db7:ffff::1", "" },
    { IM_TYPE_IPV6, "2001:db8:53::53",
      L_DOCS "=2001:DB8::/32; " L_RESOLVERS "=2001:0DB8:0053:0000:0000:0000:0000:0053" },
    { IM_TYPE_IPV6, "2001:db8::/48", L_DOCS "=2001:DB8::/32" },
    { IM_TYPE_IPV6, "2001:d00::/24",
      L_DOCS "=2001:DB8::/32; " L_RESOLVERS "=2001:0DB8:0053:0000:0000:0000:0000:0053" },
    { IM_TYPE_IPV6, "2001:db8:53::/48",
      L_DOCS "=2001:DB8::/32; " L_RESOLVERS "=2001:0DB8:0053:0000:0000:0000:0000:0053" },
    { IM_TYPE_IPV6, "2001:db8:54::/48", L_DOCS "=2001:DB8::/32" },
    { IM_TYPE_IPV6, "fe80::abcd", L_DOCS "=fe80::/10" },
    { IM_TYPE_IPV6, "febf:ffff::1", L_DOCS "=fe80::/10" },
    { IM_TYPE_IPV6, "fec0::1", "" },
    { IM_TYPE_IPV6, "fe00::/7", L_DOCS "=fe80::/10" },
    { IM_TYPE_IPV6, "::/0",
      L_DOCS "=2001:DB8::/32; " L_RESOLVERS "=2001:0DB8:0053:0000:0000:0000:0000:0053" },
    { IM_TYPE_IPV6, "::ffff:10.0.0.1", "" },
    { IM_TYPE_IPV6, "2001:db8::99",
      L_DOCS "=2001:DB8::/32; " L_STRINGS "=2001:DB8:0:0:0:0:0:99" },
    /* hostname: the name and its subdomains */
    { IM_TYPE_DOMAIN, "example.com", L_HOSTS "=example.com" },
    { IM_TYPE_DOMAIN, "www.example.com", L_HOSTS "=example.com" },
    { IM_TYPE_DOMAIN, "a.b.c.example.com", L_HOSTS "=example.com" },
    { IM_TYPE_DOMAIN, "notexample.com", "" },
    { IM_TYPE_DOMAIN, "example.com.au", "" },
    { IM_TYPE_DOMAIN, "example.net", L_HOSTS "=.example.net" },
    { IM_TYPE_DOMAIN, "sub.example.net", L_HOSTS "=.example.net" },
    { IM_TYPE_DOMAIN, "mail.example.org", L_HOSTS "=Mail.Example.ORG." },
    { IM_TYPE_DOMAIN, "in.mail.example.org", L_HOSTS "=Mail.Example.ORG." },
    { IM_TYPE_DOMAIN, "example.org", "" },
    { IM_TYPE_DOMAIN, "x.cdn.example", L_HOSTS "=*.cdn.example" },
    { IM_TYPE_DOMAIN, "cdn.example", L_HOSTS "=*.cdn.example" },
    { IM_TYPE_DOMAIN, "xcdn.example", "" },
    { IM_TYPE_DOMAIN, "bad-.example", "" },
    /* string: exact, case-insensitive */
    { IM_TYPE_DOMAIN, "example.info", L_STRINGS "=Example.INFO" },
    { IM_TYPE_DOMAIN, "www.example.info", "" },
    { IM_TYPE_DOMAIN, "padded.example", L_STRINGS "=padded.example" },
    { IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427e",
      L_STRINGS "=D41D8CD98F00B204E9800998ECF8427E" },
    { IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427f", "" },
    { IM_TYPE_FILENAME, "notepad.exe", L_STRINGS "=notepad.exe" },
    { IM_TYPE_FILENAME, "NotePad.EXE", L_STRINGS "=notepad.exe" },
    { IM_TYPE_FILENAME, "notepad.exe.bak", "" },
    { IM_TYPE_ASN, "AS64500", L_STRINGS "=AS64500" },
    { IM_TYPE_ASN, "AS64501", "" },
    { IM_TYPE_EMAIL, "Postmaster@example.edu", L_STRINGS "=Postmaster@Example.EDU" },
    { IM_TYPE_EMAIL, "postmaster@example.edu", L_STRINGS "=Postmaster@Example.EDU" },
    { IM_TYPE_URL, "http://shop.example.biz/Login",
      L_STRINGS "=http://shop.example.biz/Login" },
    { IM_TYPE_URL, "http://shop.example.biz/login",
      L_STRINGS "=http://shop.example.biz/Login" },
    { IM_TYPE_URL, "http://shop.example.biz/Login2", "" },
    /* urls and e-mails whose host is listed */
    { IM_TYPE_URL, "http://www.example.com/path?q=1", L_HOSTS "=example.com" },
    { IM_TYPE_URL, "https://User:Pw@sub.example.net:8443/X", L_HOSTS "=.example.net" },
    { IM_TYPE_URL, "hxxp://example.com", L_HOSTS "=example.com" },
    { IM_TYPE_URL, "http://example.com.evil.example/", "" },
    { IM_TYPE_URL, "http://evil.example/example.com", "" },
    { IM_TYPE_URL, "http://evil.example/?u=a@example.com", "" },
    { IM_TYPE_URL, "http://example.info/x", L_STRINGS "=Example.INFO" },
    { IM_TYPE_URL, "http://[2001:db8::99]:8080/", L_STRINGS "=2001:DB8:0:0:0:0:0:99" },
    { IM_TYPE_URL, "http://10.0.0.1/", "" },
    { IM_TYPE_EMAIL, "User@mail.example.org", L_HOSTS "=Mail.Example.ORG." },
    { IM_TYPE_EMAIL, "x@www.example.com", L_HOSTS "=example.com" },
    { IM_TYPE_EMAIL, "x@example.info", L_STRINGS "=Example.INFO" },
    { IM_TYPE_EMAIL, "example.com@other.example", "" },
    /* substring: anywhere, any type, case-insensitive */
    { IM_TYPE_DOMAIN, "analytics.example.org", L_SUBS "=Analytics" },
    { IM_TYPE_DOMAIN, "my-tracker.example", L_SUBS "=tracker" },
    { IM_TYPE_FILENAME, "GoogleAnalytics.DLL", L_SUBS "=Analytics" },
    { IM_TYPE_URL, "http://evil.example/?ref=TRACKER", L_SUBS "=tracker" },
    { IM_TYPE_URL, "http://www.example.com/analytics.js",
      L_HOSTS "=example.com; " L_SUBS "=Analytics" },
    { IM_TYPE_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "" },
};

static void
test_match (void)
{
    im_warninglists_t *wl = load_fixtures ();
    for (size_t i = 0; i < COUNT (matches); i++) {
        const match_case_t *c = &matches[i];
        seen_t s;
        memset (&s, 0, sizeof s);
        int n = im_warninglists_match (wl, c->type, c->value, collect, &s);
        if (*c->want)
            is (s.text, c->want, "%s %s matches %s", im_type_name (c->type), c->value,
                c->want);
        else
            is (s.text, c->want, "%s %s matches no list", im_type_name (c->type),
                c->value);
        cmp_ok (n, "==", s.calls,
                "match of %s %s returns the number of lists it reported",
                im_type_name (c->type), c->value);
    }

    seen_t s;
    memset (&s, 0, sizeof s);
    s.stop_after = 1;
    int n = im_warninglists_match (wl, IM_TYPE_IPV6, "2001:db8:53::53", collect, &s);
    ok (n == 1 && s.calls == 1 && strcmp (s.text, L_DOCS "=2001:DB8::/32") == 0,
        "a callback returning non-zero stops the match after the first list");
    cmp_ok (im_warninglists_match (wl, IM_TYPE_IPV6, "2001:db8:53::53", NULL, NULL),
            "==", 2, "match without a callback counts the lists");
    cmp_ok (im_warninglists_match (wl, IM_TYPE_IPV4, "not an address", NULL, NULL),
            "==", 0, "an ipv4 value that does not parse matches no prefix");
    im_warninglists_destroy (&wl);
}

typedef struct {
    const char *name; /* a test name: "a list that ..." */
    const char *text; /* the file */
    const char *why;  /* a substring the error must contain */
} bad_file_t;

static const bad_file_t bad_files[] = {
    { "broken JSON", "{\"name\": \"x\", \"list\": [", "bad.json: line 1:" },
    { "an empty file", "", "bad.json: line" },
    { "a JSON array", "[\"10.0.0.0/8\"]", "bad.json: not a JSON object" },
    { "a list that is a string", "{\"name\": \"x\", \"list\": \"10.0.0.0/8\"}",
      "bad.json: \"list\" is not an array" },
    { "a list that is an object", "{\"name\": \"x\", \"list\": {}}",
      "\"list\" is not an array" },
    { "no list", "{\"name\": \"x\", \"type\": \"cidr\"}", "bad.json: no \"list\"" },
    { "no name", "{\"type\": \"cidr\", \"list\": []}", "bad.json: no \"name\"" },
    { "a numeric name", "{\"name\": 42, \"list\": []}", "\"name\" is not a string" },
    { "an empty name", "{\"name\": \"\", \"list\": []}", "\"name\" is not 1-256 bytes" },
    { "a name with a newline", "{\"name\": \"a\\nb\", \"list\": []}",
      "\"name\" holds a control character" },
    { "an unknown type", "{\"name\": \"x\", \"type\": \"ip-range\", \"list\": []}",
      "bad.json: type 'ip-range' is not string, substring, hostname, cidr or regex" },
    { "a type in capitals", "{\"name\": \"x\", \"type\": \"CIDR\", \"list\": []}",
      "type 'CIDR' is not" },
    { "a numeric type", "{\"name\": \"x\", \"type\": 1, \"list\": []}",
      "\"type\" is not a string" },
    { "a numeric entry", "{\"name\": \"x\", \"list\": [1]}",
      "entry 1 of \"list\" is not a string" },
    { "a null entry", "{\"name\": \"x\", \"list\": [\"a\", null]}",
      "entry 2 of \"list\" is not a string" },
    { "a nested array entry",
      "{\"name\": \"x\", \"type\": \"regex\", \"list\": [[\"a\"]]}",
      "entry 1 of \"list\" is not a string" },
    { "a key given twice", "{\"name\": \"a\", \"name\": \"b\", \"list\": []}",
      "bad.json: line 1:" },
    { "a version that is a string", "{\"name\": \"x\", \"version\": \"3\", \"list\": []}",
      "\"version\" is not an integer" },
    { "a description that is a number",
      "{\"name\": \"x\", \"description\": 1, \"list\": []}",
      "\"description\" is not a string" },
    { "matching_attributes that is a string",
      "{\"name\": \"x\", \"matching_attributes\": \"ip-src\", \"list\": []}",
      "\"matching_attributes\" is not an array" },
    { "an escaped NUL", "{\"name\": \"x\", \"list\": [\"a\\u0000b\"]}",
      "bad.json: line 1:" },
    { "invalid UTF-8", "{\"name\": \"x\", \"list\": [\"\xff\"]}", "bad.json: line 1:" },
    { "trailing garbage", "{\"name\": \"x\", \"list\": []} x", "bad.json: line 1:" },
};

static int
no_control (const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* Each malformed file fails the load of its directory, and the set keeps the
 * lists it had. */
static void
test_bad_files (void)
{
    char dir[256], err[512], skipped[64];
    im_warninglists_t *wl = load_fixtures ();

    for (size_t i = 0; i < COUNT (bad_files); i++) {
        make_dir (dir, sizeof dir, "wl-bad");
        write_text (
            dir, "a-good.json",
            "{\"name\": \"good\", \"type\": \"cidr\", \"list\": [\"10.0.0.0/8\"]}");
        write_text (dir, "bad.json", bad_files[i].text);
        write_text (dir, "c-regex.json",
                    "{\"name\": \"R\", \"type\": \"regex\", \"list\": [\"x\"]}");
        size_t n = 77;
        err[0] = '\0';
        strcpy (skipped, "untouched");
        errno = 0;
        int rc = im_warninglists_load (wl, dir, &n, skipped, sizeof skipped, err,
                                       sizeof err);
        ok (rc == -1 && errno == EINVAL, "load fails on a file holding %s",
            bad_files[i].name);
        if (!ok (strstr (err, bad_files[i].why) != NULL, "the error for %s says \"%s\"",
                 bad_files[i].name, bad_files[i].why))
            diag ("error: %s", err);
        ok (strstr (err, dir) != NULL && no_control (err),
            "the error for %s names the file, on one line", bad_files[i].name);
        ok (n == 77 && strcmp (skipped, "") == 0,
            "a failed load leaves nlists alone and reports nothing skipped");
        ok (im_warninglists_size (wl) == FIXTURE_LISTS
                && im_warninglists_bad_entries (wl) == FIXTURE_BAD
                && im_warninglists_match (wl, IM_TYPE_DOMAIN, "www.example.com", NULL,
                                          NULL)
                       == 1
                && im_warninglists_match (wl, IM_TYPE_IPV4, "10.1.1.1", NULL, NULL) == 1,
            "after failing on %s the set still holds and matches the lists it had",
            bad_files[i].name);
        remove_dir (dir);
    }

    /* a long name: 256 bytes is fine, 257 is not */
    char text[600], name[300];
    make_dir (dir, sizeof dir, "wl-name");
    memset (name, 'n', 256);
    name[256] = '\0';
    snprintf (text, sizeof text, "{\"name\": \"%s\", \"list\": [\"v\"]}", name);
    write_text (dir, "long.json", text);
    size_t n = 0;
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == 0 && n == 1,
        "load takes a list name of 256 bytes");
    name[256] = 'n';
    name[257] = '\0';
    snprintf (text, sizeof text, "{\"name\": \"%s\", \"list\": [\"v\"]}", name);
    write_text (dir, "long.json", text);
    errno = 0;
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "long.json: \"name\" is not 1-256 bytes"),
        "load refuses a list name of 257 bytes");
    cmp_ok (im_warninglists_size (wl), "==", 1, "the set keeps the one list it had");
    remove_dir (dir);

    /* a malformed list.json in a subdirectory is named with its directory */
    make_dir (dir, sizeof dir, "wl-sub");
    char sub[300];
    sub_path (sub, sizeof sub, dir, "broken");
    mkdir (sub, 0700);
    write_text (sub, "list.json", "{\"name\": \"x\", \"list\": 5}");
    errno = 0;
    ok (im_warninglists_load (wl, dir, NULL, NULL, 0, err, sizeof err) == -1
            && errno == EINVAL
            && strstr (err, "/broken/list.json: \"list\" is not an array"),
        "load names DIR/NAME/list.json when a list in a subdirectory is malformed");
    remove_dir (dir);

    /* a list.json that is a directory; a file name with a control character */
    make_dir (dir, sizeof dir, "wl-odd");
    sub_path (sub, sizeof sub, dir, "odd");
    mkdir (sub, 0700);
    sub_path (sub, sizeof sub, dir, "odd/list.json");
    mkdir (sub, 0700);
    errno = 0;
    ok (im_warninglists_load (wl, dir, NULL, NULL, 0, err, sizeof err) == -1
            && errno == EINVAL && strstr (err, "odd/list.json: not a regular file"),
        "load refuses a list.json that is not a regular file");
    remove_dir (dir);
    make_dir (dir, sizeof dir, "wl-ctl");
    write_text (dir, "evil\n\x1b[31m.json", "{");
    errno = 0;
    ok (im_warninglists_load (wl, dir, NULL, NULL, 0, err, sizeof err) == -1
            && errno == EINVAL && no_control (err) && strstr (err, "evil??[31m.json"),
        "the error for a file name with control characters stays on one line");
    ok (im_warninglists_load (wl, dir, NULL, NULL, 0, NULL, 0) == -1 && errno == EINVAL,
        "a failed load works without an error buffer");
    remove_dir (dir);
    im_warninglists_destroy (&wl);
}

static void
test_directories (void)
{
    char dir[256], path[300], err[512], skipped[64];
    im_warninglists_t *wl = load_fixtures ();
    size_t n = 99;

    make_dir (dir, sizeof dir, "wl-empty");
    sub_path (path, sizeof path, dir, "missing");
    errno = 0;
    ok (im_warninglists_load (wl, path, &n, NULL, 0, err, sizeof err) == -1
            && errno == ENOENT,
        "load fails with ENOENT for a directory that does not exist");
    ok (strstr (err, path) != NULL, "the error names the missing directory");
    cmp_ok (im_warninglists_size (wl), "==", FIXTURE_LISTS,
            "the set keeps its lists when the directory is missing");

    write_text (dir, "file.json", "{\"name\": \"x\", \"list\": []}");
    sub_path (path, sizeof path, dir, "file.json");
    errno = 0;
    ok (im_warninglists_load (wl, path, &n, NULL, 0, err, sizeof err) == -1
            && errno == ENOTDIR,
        "load fails with ENOTDIR for a file given as the directory");
    unlink (path);

    strcpy (skipped, "x");
    ok (im_warninglists_load (wl, dir, &n, skipped, sizeof skipped, err, sizeof err) == 0,
        "load takes an empty directory");
    ok (n == 0 && im_warninglists_size (wl) == 0 && strcmp (skipped, "") == 0,
        "an empty directory gives no lists and skips none");
    cmp_ok (im_warninglists_match (wl, IM_TYPE_IPV4, "10.0.0.1", NULL, NULL), "==", 0,
            "after loading an empty directory nothing matches any more");

    /* only regex lists, other files, a dangling link: nothing loaded */
    write_text (dir, "r1.json",
                "{\"name\": \"First\", \"type\": \"regex\", \"list\": []}");
    write_text (dir, "r2.json",
                "{\"name\": \"Second\", \"type\": \"regex\", \"list\": []}");
    write_text (dir, "list.txt", "not json, not read");
    sub_path (path, sizeof path, dir, "gone.json");
    if (symlink ("/nonexistent/im-test/target.json", path) != 0)
        diag ("symlink: %s", strerror (errno));
    ok (im_warninglists_load (wl, dir, &n, skipped, sizeof skipped, err, sizeof err) == 0
            && n == 0,
        "load skips regex lists, files not ending in .json and dangling links");
    is (skipped, "First, Second", "the skipped report names both regex lists");

    /* an empty list and a list with only bad entries still count as lists */
    write_text (dir, "e.json", "{\"name\": \"Empty\", \"type\": \"cidr\", \"list\": []}");
    write_text (
        dir, "f.json",
        "{\"name\": \"All bad\", \"type\": \"hostname\", \"list\": [\"a b\", \"\"]}");
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == 0 && n == 2
            && im_warninglists_bad_entries (wl) == 2 && im_warninglists_entries (wl) == 0,
        "an empty list and a list of bad entries load as lists without entries");
    remove_dir (dir);
    im_warninglists_destroy (&wl);
}

/* The size of a list file: 64 MiB is read, one byte more is EFBIG. */
static void
test_file_size (void)
{
    char dir[256], path[300], err[512];
    im_warninglists_t *wl = im_warninglists_new ();
    const char *head = "{\"name\": \"Padded\", \"type\": \"string\", \"list\": [\"v\"]}";
    size_t total = IM_WARNINGLIST_FILE_MAX;

    make_dir (dir, sizeof dir, "wl-size");
    sub_path (path, sizeof path, dir, "big.json");
    char *buf = malloc (total + 1);
    if (!buf)
        BAIL_OUT ("out of memory");
    memset (buf, ' ', total + 1);
    memcpy (buf, head, strlen (head));
    write_file (dir, "big.json", buf, total);
    size_t n = 0;
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == 0 && n == 1,
        "load reads a list file of exactly 64 MiB");
    write_file (dir, "big.json", buf, total + 1);
    errno = 0;
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == -1
            && errno == EFBIG,
        "load fails with EFBIG for a list file of 64 MiB and one byte");
    ok (strstr (err, "big.json: larger than 64 MiB") != NULL,
        "the error names the file that is too large");
    cmp_ok (im_warninglists_size (wl), "==", 1, "the set keeps the list it had");
    free (buf);
    remove_dir (dir);
    im_warninglists_destroy (&wl);
}

/* 1024 lists load, 1025 do not. */
static void
test_list_count (void)
{
    char dir[256], name[64], text[200], err[512], value[32];
    im_warninglists_t *wl = im_warninglists_new ();

    make_dir (dir, sizeof dir, "wl-count");
    for (int i = 0; i < IM_WARNINGLISTS_MAX; i++) {
        snprintf (name, sizeof name, "l%04d.json", i);
        snprintf (text, sizeof text,
                  "{\"name\": \"n%04d\", \"type\": \"string\", \"list\": [\"v%04d\", "
                  "\"shared\"]}",
                  i, i);
        write_text (dir, name, text);
    }
    size_t n = 0;
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == 0
            && n == IM_WARNINGLISTS_MAX,
        "load takes %d lists", IM_WARNINGLISTS_MAX);
    seen_t s;
    memset (&s, 0, sizeof s);
    snprintf (value, sizeof value, "v%04d", IM_WARNINGLISTS_MAX - 1);
    ok (im_warninglists_match (wl, IM_TYPE_FILENAME, value, collect, &s) == 1
            && strcmp (s.text, "n1023=v1023") == 0,
        "the last of %d lists matches", IM_WARNINGLISTS_MAX);
    cmp_ok (im_warninglists_match (wl, IM_TYPE_FILENAME, "SHARED", NULL, NULL),
            "==", IM_WARNINGLISTS_MAX, "a value in every list matches %d lists",
            IM_WARNINGLISTS_MAX);
    write_text (dir, "l9999.json", "{\"name\": \"one too many\", \"list\": []}");
    errno = 0;
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == -1
            && errno == E2BIG && strstr (err, "more than 1024 lists"),
        "load fails with E2BIG for %d lists", IM_WARNINGLISTS_MAX + 1);
    cmp_ok (im_warninglists_size (wl), "==", IM_WARNINGLISTS_MAX,
            "the set keeps the lists it had");
    remove_dir (dir);
    im_warninglists_destroy (&wl);
}

static double
now_seconds (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes DIR/FILE, a hostname list of h0.example ... h(N-1).example. */
static void
write_hosts (const char *dir, const char *file, const char *name, size_t n)
{
    char path[300];
    sub_path (path, sizeof path, dir, file);
    FILE *f = fopen (path, "w");
    if (!f)
        BAIL_OUT ("cannot write %s", path);
    fprintf (f, "{\"name\": \"%s\", \"type\": \"hostname\", \"list\": [", name);
    for (size_t i = 0; i < n; i++)
        fprintf (f, "%s\"h%zu.example\"", i ? "," : "", i);
    fprintf (f, "]}\n");
    if (fclose (f) != 0)
        BAIL_OUT ("cannot write %s", path);
}

/* A million entries load, and a million values are checked quickly; one
 * entry more is E2BIG. */
static void
test_entry_count (void)
{
    char dir[256], err[512], value[64];
    im_warninglists_t *wl = im_warninglists_new ();
    const size_t half = IM_WARNINGLIST_ENTRIES_MAX / 2;

    make_dir (dir, sizeof dir, "wl-entries");
    /* hosts h0.example ... and the addresses 10.0.0.0 + i, 2001:db8::/64s */
    write_hosts (dir, "a-hosts.json", "Many hosts", half);
    {
        char path[300];
        sub_path (path, sizeof path, dir, "b-addresses.json");
        FILE *f = fopen (path, "w");
        if (!f)
            BAIL_OUT ("cannot write %s", path);
        fprintf (f, "{\"name\": \"Many addresses\", \"type\": \"cidr\", \"list\": [");
        for (size_t i = 0; i < half; i++) {
            uint32_t a = 0x0b000000u + (uint32_t)i * 2; /* every other address */
            if (i % 2)
                fprintf (f, ",\"%u.%u.%u.%u\"", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                         a & 255);
            else
                fprintf (f, "%s\"2001:db8:%zx:%zx::/64\"", i ? "," : "", i >> 16,
                         i & 0xffff);
        }
        fprintf (f, "]}\n");
        if (fclose (f) != 0)
            BAIL_OUT ("cannot write %s", path);
    }
    double t0 = now_seconds ();
    size_t n = 0;
    int rc = im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err);
    double t1 = now_seconds ();
    if (!ok (rc == 0 && n == 2, "load takes %d entries in all",
             IM_WARNINGLIST_ENTRIES_MAX))
        diag ("error: %s", err);
    cmp_ok (im_warninglists_entries (wl), "==", IM_WARNINGLIST_ENTRIES_MAX,
            "entries counts all of them");
    diag ("loaded %d entries in %.2f s", IM_WARNINGLIST_ENTRIES_MAX, t1 - t0);

    /* a million values: half listed, half not */
    size_t found = 0, want = 0;
    t0 = now_seconds ();
    for (size_t i = 0; i < half; i++) {
        int type = IM_TYPE_DOMAIN;
        if (i % 4 == 0)
            snprintf (value, sizeof value, "www.h%zu.example", i);
        else if (i % 4 == 1)
            snprintf (value, sizeof value, "h%zu.example.org", i);
        else if (i % 4 == 2) {
            /* listed: 11.0.0.0 + 2 * (i - 1); one past it is not */
            uint32_t a = 0x0b000000u + (uint32_t)(i - 1) * 2 + (i % 8 == 2);
            type = IM_TYPE_IPV4;
            snprintf (value, sizeof value, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
                      (a >> 8) & 255, a & 255);
        }
        else {
            type = IM_TYPE_IPV6;
            snprintf (value, sizeof value, "2001:db8:%zx:%zx::1", (i - 1) >> 16,
                      (i - 1) & 0xffff);
        }
        want += i % 4 == 0 || i % 4 == 3 || i % 8 == 6;
        int m = im_warninglists_match (wl, type, value, NULL, NULL);
        if (m > 0)
            found++;
        if (m < 0)
            break;
        m = im_warninglists_match (wl, IM_TYPE_FILENAME, value, NULL, NULL);
        if (m != 0) {
            found = SIZE_MAX;
            break;
        }
    }
    t1 = now_seconds ();
    cmp_ok (found, "==", want, "a million values find exactly the listed ones");
    diag ("matched %zu values in %.2f s", half * 2, t1 - t0);

    write_text (dir, "c-one-more.json", "{\"name\": \"One more\", \"list\": [\"x\"]}");
    errno = 0;
    ok (im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == -1
            && errno == E2BIG
            && strstr (err, "c-one-more.json: more than 1000000 entries"),
        "load fails with E2BIG for one entry past %d", IM_WARNINGLIST_ENTRIES_MAX);
    cmp_ok (im_warninglists_size (wl), "==", 2, "the set keeps the lists it had");
    remove_dir (dir);
    im_warninglists_destroy (&wl);
}

/* A caller that matches while it reloads loads into a fresh set and swaps. */
/* MISP's RFC 1918 list as published (tests/data/public, see its README),
 * copied into a directory of its own, loads and matches. */
static void
test_public_rfc1918 (void)
{
    char dir[256], path[4200], err[512], text[4096];
    snprintf (path, sizeof path, "%s/tests/data/public/misp-warninglist-rfc1918.json",
              top_srcdir ());
    FILE *f = fopen (path, "rb");
    size_t len = f ? fread (text, 1, sizeof text, f) : 0;
    if (f)
        fclose (f);
    ok (len > 0 && len < sizeof text, "the public RFC 1918 list is read (%zu bytes)",
        len);
    make_dir (dir, sizeof dir, "wl-public");
    write_file (dir, "rfc1918.json", text, len);
    im_warninglists_t *wl = im_warninglists_new ();
    size_t n = 0;
    ok (wl && im_warninglists_load (wl, dir, &n, NULL, 0, err, sizeof err) == 0 && n == 1,
        "it loads as one list");
    static const struct {
        const char *value, *want;
    } cases[] = {
        { "10.1.2.3", "List of RFC 1918 CIDR blocks=10.0.0.0/8" },
        { "172.31.255.255", "List of RFC 1918 CIDR blocks=172.16.0.0/12" },
        { "192.168.0.1", "List of RFC 1918 CIDR blocks=192.168.0.0/16" },
        { "172.32.0.1", "" },
        { "192.0.2.1", "" },
    };
    for (size_t i = 0; i < COUNT (cases); i++) {
        seen_t s;
        memset (&s, 0, sizeof s);
        im_warninglists_match (wl, IM_TYPE_IPV4, cases[i].value, collect, &s);
        is (s.text, cases[i].want, "ipv4 %s: '%s'", cases[i].value, cases[i].want);
    }
    im_warninglists_destroy (&wl);
    remove_dir (dir);
}

static void
test_swap (void)
{
    char dir[256], err[512];
    im_warninglists_t *live = load_fixtures ();
    im_warninglists_t *fresh = im_warninglists_new ();

    make_dir (dir, sizeof dir, "wl-swap");
    write_text (dir, "new.json",
                "{\"name\": \"New\", \"type\": \"cidr\", \"list\": "
                "[\"203.0.113.0/24\"]}");
    ok (im_warninglists_load (fresh, dir, NULL, NULL, 0, err, sizeof err) == 0,
        "a fresh set loads while the live one still matches");
    cmp_ok (im_warninglists_match (live, IM_TYPE_IPV4, "10.0.0.1", NULL, NULL), "==", 1,
            "the live set still matches its own lists");
    im_warninglists_t *old = live;
    live = fresh;
    im_warninglists_destroy (&old);
    cmp_ok (im_warninglists_match (live, IM_TYPE_IPV4, "203.0.113.9", NULL, NULL),
            "==", 1, "after the swap the new lists match");
    cmp_ok (im_warninglists_match (live, IM_TYPE_IPV4, "10.0.0.1", NULL, NULL), "==", 0,
            "after the swap the old lists are gone");
    remove_dir (dir);
    im_warninglists_destroy (&live);
}

static const tap_test_t tests[] = { TAP_TEST (test_bad_arguments),
                                    TAP_TEST (test_load_fixtures),
                                    TAP_TEST (test_match),
                                    TAP_TEST (test_bad_files),
                                    TAP_TEST (test_directories),
                                    TAP_TEST (test_file_size),
                                    TAP_TEST (test_list_count),
                                    TAP_TEST (test_entry_count),
                                    TAP_TEST (test_public_rfc1918),
                                    TAP_TEST (test_swap),
                                    TAP_END };

int
main (int argc, char **argv)
{
    snprintf (fixtures, sizeof fixtures, "%s/tests/data/warninglists", top_srcdir ());
    diag ("fixtures in %s", fixtures);
    return tap_main (argc, argv, tests);
}
