/* SPDX-License-Identifier: MPL-2.0 */
/* test_ioc.c -- unit tests for proto/im_ioc.c: argument checks, type and TLP
 * names, the canonical form and the refusals of every indicator type, type
 * guessing and network prefixes. Prints TAP. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "im_ioc.h"
#include "tap.h"
#include "testlib.h"

#define COUNT(a) (sizeof (a) / sizeof ((a)[0]))

/* Test names show at most this many bytes of a value, then "...". */
#define NAME_BYTES 48

typedef struct {
    int type;
    const char *in;
    const char *want; /* canonical form */
} good_t;

typedef struct {
    int type;
    const char *in;
    const char *why; /* a substring the error must contain */
} bad_t;

typedef struct {
    const char *in;
    int want;
} guess_t;

/* True when S holds a C0 control character or DEL. */
static int
has_control (const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

/* A string of LEN copies of C after PREFIX and before SUFFIX, in BUF. */
static char *
build (char *buf, const char *prefix, char c, size_t len, const char *suffix)
{
    size_t p = strlen (prefix);
    memcpy (buf, prefix, p);
    memset (buf + p, c, len);
    strcpy (buf + p + len, suffix);
    return buf;
}

static const good_t good[] = {
    /* ipv4 */
    { IM_TYPE_IPV4, "192.0.2.1", "192.0.2.1" },
    { IM_TYPE_IPV4, "0.0.0.0", "0.0.0.0" },
    { IM_TYPE_IPV4, "255.255.255.255", "255.255.255.255" },
    { IM_TYPE_IPV4, "10.0.0.0/8", "10.0.0.0/8" },
    { IM_TYPE_IPV4, "192.0.2.7/32", "192.0.2.7" },
    { IM_TYPE_IPV4, "0.0.0.0/0", "0.0.0.0/0" },
    { IM_TYPE_IPV4, "198.51.100.0/24", "198.51.100.0/24" },
    { IM_TYPE_IPV4, "203.0.113.128/25", "203.0.113.128/25" },
    { IM_TYPE_IPV4, "172.16.0.0/12", "172.16.0.0/12" },
    { IM_TYPE_IPV4, "1.2.3.4/31", "1.2.3.4/31" },
    { IM_TYPE_IPV4, "100.64.0.10", "100.64.0.10" },
    /* ipv6 */
    { IM_TYPE_IPV6, "2001:DB8::1", "2001:db8::1" },
    { IM_TYPE_IPV6, "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
    { IM_TYPE_IPV6, "::1", "::1" },
    { IM_TYPE_IPV6, "::", "::" },
    { IM_TYPE_IPV6, "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
    { IM_TYPE_IPV6, "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
    { IM_TYPE_IPV6, "2001:db8::/32", "2001:db8::/32" },
    { IM_TYPE_IPV6, "2001:DB8:0:0::/64", "2001:db8::/64" },
    { IM_TYPE_IPV6, "fe80::1/128", "fe80::1" },
    { IM_TYPE_IPV6, "::/0", "::/0" },
    { IM_TYPE_IPV6, "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
    { IM_TYPE_IPV6, "FF02::0001", "ff02::1" },
    { IM_TYPE_IPV6, "2001:db8:0:0:0:0:2:1", "2001:db8::2:1" },
    /* domain */
    { IM_TYPE_DOMAIN, "Example.COM", "example.com" },
    { IM_TYPE_DOMAIN, "example.com.", "example.com" },
    { IM_TYPE_DOMAIN, "xn--bcher-kva.example", "xn--bcher-kva.example" },
    { IM_TYPE_DOMAIN, "XN--BCHER-KVA.DE", "xn--bcher-kva.de" },
    { IM_TYPE_DOMAIN, "a.b.c.d.example.org", "a.b.c.d.example.org" },
    { IM_TYPE_DOMAIN, "_dmarc.example.com", "_dmarc.example.com" },
    { IM_TYPE_DOMAIN, "my-host.example.net", "my-host.example.net" },
    { IM_TYPE_DOMAIN, "123.example.com", "123.example.com" },
    { IM_TYPE_DOMAIN, "example.xn--p1ai", "example.xn--p1ai" },
    { IM_TYPE_DOMAIN, "a.co", "a.co" },
    { IM_TYPE_DOMAIN, "EVIL.example.", "evil.example" },
    /* url */
    { IM_TYPE_URL, "HTTP://Example.COM/Path/To?Q=A#Frag",
      "http://example.com/Path/To?Q=A#Frag" },
    { IM_TYPE_URL, "https://example.com", "https://example.com" },
    { IM_TYPE_URL, "https://User:Pass@WWW.Example.com:8443/A",
      "https://User:Pass@www.example.com:8443/A" },
    { IM_TYPE_URL, "http://[2001:DB8::1]:8080/Index.HTML",
      "http://[2001:db8::1]:8080/Index.HTML" },
    { IM_TYPE_URL, "FTP://FTP.Example.org/PUB/", "ftp://ftp.example.org/PUB/" },
    { IM_TYPE_URL, "svn+SSH://Host.Example/Repo", "svn+ssh://host.example/Repo" },
    { IM_TYPE_URL, "http://192.0.2.1/a%20B", "http://192.0.2.1/a%20B" },
    { IM_TYPE_URL, "http://EXAMPLE.com?X=Y", "http://example.com?X=Y" },
    { IM_TYPE_URL, "http://EXAMPLE.com#Top", "http://example.com#Top" },
    { IM_TYPE_URL, "http://Example.com:/", "http://example.com:/" },
    /* a fully qualified host is the same host: its trailing dot goes, the
     * rest stays byte for byte */
    { IM_TYPE_URL, "http://Evil.Example.COM./x.?A.=b.#F.",
      "http://evil.example.com/x.?A.=b.#F." },
    { IM_TYPE_URL, "https://U.@evil.example.:8443/", "https://U.@evil.example:8443/" },
    { IM_TYPE_URL, "http://evil.example.com.", "http://evil.example.com" },
    /* email */
    { IM_TYPE_EMAIL, "User@Example.COM", "User@example.com" },
    { IM_TYPE_EMAIL, "first.last+tag@example.org", "first.last+tag@example.org" },
    { IM_TYPE_EMAIL, "x@XN--BCHER-KVA.de", "x@xn--bcher-kva.de" },
    { IM_TYPE_EMAIL, "a@b.co", "a@b.co" },
    { IM_TYPE_EMAIL, "o'brien@example.ie", "o'brien@example.ie" },
    { IM_TYPE_EMAIL, "USER_1@MAIL.EXAMPLE.NET.", "USER_1@mail.example.net" },
    { IM_TYPE_EMAIL, "#!$%&'*+-/=?^_`{|}~@example.com",
      "#!$%&'*+-/=?^_`{|}~@example.com" },
    { IM_TYPE_EMAIL, "Phish@Sub.Example.Co.UK", "Phish@sub.example.co.uk" },
    /* hashes */
    { IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427e",
      "d41d8cd98f00b204e9800998ecf8427e" },
    { IM_TYPE_MD5, "D41D8CD98F00B204E9800998ECF8427E",
      "d41d8cd98f00b204e9800998ecf8427e" },
    { IM_TYPE_SHA1, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
      "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
    { IM_TYPE_SHA1, "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
      "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
    { IM_TYPE_SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { IM_TYPE_SHA256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { IM_TYPE_SHA512,
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
    { IM_TYPE_SHA512,
      "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
      "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
    /* filename */
    { IM_TYPE_FILENAME, "invoice.pdf.exe", "invoice.pdf.exe" },
    { IM_TYPE_FILENAME,
      "Rechnung \xc3\x9c"
      "ber.PDF",
      "Rechnung \xc3\x9c"
      "ber.PDF" },
    { IM_TYPE_FILENAME, "C:\\Users\\Public\\evil.exe", "C:\\Users\\Public\\evil.exe" },
    { IM_TYPE_FILENAME, "\xe6\x97\xa5\xe6\x9c\xac.txt", "\xe6\x97\xa5\xe6\x9c\xac.txt" },
    { IM_TYPE_FILENAME, "\xf0\x9f\x98\x80.scr", "\xf0\x9f\x98\x80.scr" },
    { IM_TYPE_FILENAME, "a", "a" },
    { IM_TYPE_FILENAME, "/tmp/x y/z", "/tmp/x y/z" },
    { IM_TYPE_FILENAME, "\xef\xbf\xbd", "\xef\xbf\xbd" },
    /* asn */
    { IM_TYPE_ASN, "AS123", "AS123" },
    { IM_TYPE_ASN, "as123", "AS123" },
    { IM_TYPE_ASN, "123", "AS123" },
    { IM_TYPE_ASN, "As64512", "AS64512" },
    { IM_TYPE_ASN, "aS65535", "AS65535" },
    { IM_TYPE_ASN, "AS4294967295", "AS4294967295" },
    { IM_TYPE_ASN, "4294967295", "AS4294967295" },
    { IM_TYPE_ASN, "1", "AS1" },
    /* cve, attack-pattern, regkey, yara, sigma, snort: more in test_types */
    { IM_TYPE_CVE, "cve-2021-44228", "CVE-2021-44228" },
    { IM_TYPE_ATTACK_PATTERN, "t1059.001", "T1059.001" },
    { IM_TYPE_REGKEY, "HKLM\\Software\\Run", "HKEY_LOCAL_MACHINE\\Software\\Run" },
    { IM_TYPE_YARA, "rule a { condition: true }", "rule a { condition: true }" },
    { IM_TYPE_SIGMA, "title: t\nlogsource:\n  p: w\ndetection:\n  condition: s",
      "title: t\nlogsource:\n  p: w\ndetection:\n  condition: s" },
    { IM_TYPE_SNORT, "alert ip any any -> any any (msg:\"m\"; sid:9;)",
      "alert ip any any -> any any (msg:\"m\"; sid:9;)" },
};

static const bad_t bad[] = {
    /* ipv4 */
    { IM_TYPE_IPV4, "999.1.1.1", "'999.1.1.1' is not an IPv4 address" },
    { IM_TYPE_IPV4, "010.1.1.1", "leading zero" },
    { IM_TYPE_IPV4, "1.2.3.04", "leading zero" },
    { IM_TYPE_IPV4, "1.2.3", "is not an IPv4 address" },
    { IM_TYPE_IPV4, "1.2.3.4.5", "is not an IPv4 address" },
    { IM_TYPE_IPV4, "1..2.3", "is not an IPv4 address" },
    { IM_TYPE_IPV4, "a.b.c.d", "is not an IPv4 address" },
    { IM_TYPE_IPV4, "0x7f.0.0.1", "is not an IPv4 address" },
    { IM_TYPE_IPV4, "::1", "is not an IPv4 address" },
    { IM_TYPE_IPV4, "/8", "is not an IPv4 address" },
    { IM_TYPE_IPV4, "1.2.3.4/33", "invalid prefix length" },
    { IM_TYPE_IPV4, "1.2.3.4/", "invalid prefix length" },
    { IM_TYPE_IPV4, "10.0.0.0/08", "invalid prefix length" },
    { IM_TYPE_IPV4, "10.0.0.0/+8", "invalid prefix length" },
    { IM_TYPE_IPV4, "10.0.0.0/-1", "invalid prefix length" },
    { IM_TYPE_IPV4, "10.0.0.0/8/8", "invalid prefix length" },
    { IM_TYPE_IPV4, "10.1.2.3/8",
      "'10.1.2.3/8' has host bits set (did you mean 10.0.0.0/8?)" },
    { IM_TYPE_IPV4, "192.168.1.1/24", "(did you mean 192.168.1.0/24?)" },
    { IM_TYPE_IPV4, "1.0.0.0/0", "(did you mean 0.0.0.0/0?)" },
    /* ipv6 */
    { IM_TYPE_IPV6, "fe80::1%eth0", "zone id" },
    { IM_TYPE_IPV6, "fe80::1%eth0/64", "zone id" },
    { IM_TYPE_IPV6, "2001:db8::1::2", "'2001:db8::1::2' is not an IPv6 address" },
    { IM_TYPE_IPV6, "2001:db8:::1", "is not an IPv6 address" },
    { IM_TYPE_IPV6, "12345::1", "is not an IPv6 address" },
    { IM_TYPE_IPV6, "2001:db8::g", "is not an IPv6 address" },
    { IM_TYPE_IPV6, "1.2.3.4", "is not an IPv6 address" },
    { IM_TYPE_IPV6, "[::1]", "is not an IPv6 address" },
    { IM_TYPE_IPV6, "1:2:3:4:5:6:7:8:9", "is not an IPv6 address" },
    { IM_TYPE_IPV6, "2001:db8::1/129", "invalid prefix length" },
    { IM_TYPE_IPV6, "2001:db8::/032", "invalid prefix length" },
    { IM_TYPE_IPV6, "2001:db8::/", "invalid prefix length" },
    { IM_TYPE_IPV6, "2001:db8::1/64",
      "'2001:db8::1/64' has host bits set (did you mean 2001:db8::/64?)" },
    { IM_TYPE_IPV6, "::1/0", "(did you mean ::/0?)" },
    /* domain */
    { IM_TYPE_DOMAIN,
      "b\xc3\xbc"
      "cher.de",
      "contains non-ASCII characters: give the IDNA A-label form (xn--...)" },
    { IM_TYPE_DOMAIN, "example..com", "empty label" },
    { IM_TYPE_DOMAIN, ".example.com", "empty label" },
    { IM_TYPE_DOMAIN, "example.com..", "empty label" },
    { IM_TYPE_DOMAIN, ".", "empty label" },
    { IM_TYPE_DOMAIN, "localhost", "at least two labels" },
    { IM_TYPE_DOMAIN, "-example.com", "starts or ends with '-'" },
    { IM_TYPE_DOMAIN, "example-.com", "starts or ends with '-'" },
    { IM_TYPE_DOMAIN, "exa mple.com", "a space, which is not allowed" },
    { IM_TYPE_DOMAIN, "exa!mple.com", "'!', which is not allowed" },
    { IM_TYPE_DOMAIN, "http://example.com", "not allowed in a domain name" },
    { IM_TYPE_DOMAIN, "1.2.3.4", "all-numeric top-level domain" },
    { IM_TYPE_DOMAIN, "example.123", "all-numeric top-level domain" },
    { IM_TYPE_DOMAIN, "evil[.]example.com",
      "looks defanged: did you mean evil.example.com?" },
    { IM_TYPE_DOMAIN, "evil[dot]example", "did you mean evil.example?" },
    { IM_TYPE_EMAIL, "bad[@]evil(.)example", "did you mean bad@evil.example?" },
    { IM_TYPE_IPV4, "192.0.2[.]1", "did you mean 192.0.2.1?" },
    /* url */
    { IM_TYPE_URL, "example.com/path", "is not a URL" },
    { IM_TYPE_URL, "mailto:user@example.com", "is not a URL" },
    { IM_TYPE_URL, "://example.com", "invalid scheme" },
    { IM_TYPE_URL, "1http://example.com", "invalid scheme" },
    { IM_TYPE_URL, "ht_tp://example.com", "invalid scheme" },
    { IM_TYPE_URL, "http:///path", "has no host" },
    { IM_TYPE_URL, "http://user@/x", "has no host" },
    { IM_TYPE_URL, "http://:80/", "has no host" },
    { IM_TYPE_URL, "file:///etc/passwd", "has no host" },
    { IM_TYPE_URL, "http://exa mple.com/", "contains whitespace" },
    { IM_TYPE_URL, "http://example.com/\x7f", "control characters" },
    { IM_TYPE_URL,
      "http://b\xc3\xbc"
      "cher.de/",
      "non-ASCII" },
    { IM_TYPE_URL, "http://[::1/", "unterminated '['" },
    { IM_TYPE_URL, "http://[zz::1]/", "invalid IPv6 host" },
    { IM_TYPE_URL, "http://evil.example.com../", "has an empty label" },
    { IM_TYPE_URL, "http://./", "has an empty label" },
    { IM_TYPE_URL, "http://[::1]x/", "invalid host" },
    { IM_TYPE_URL, "http://example.com:80a/", "invalid port" },
    { IM_TYPE_URL, "http://example.com:99999/", "invalid port" },
    { IM_TYPE_URL, "foo://bar", "no valid host: 'bar' needs at least two labels" },
    { IM_TYPE_URL, "http://localhost:8080/", "'localhost' needs at least two labels" },
    { IM_TYPE_URL, "http://999.1.1.1/", "'999.1.1.1' is not an IPv4 address" },
    { IM_TYPE_URL, "http://ex!ample.com/", "'!', which is not allowed" },
    { IM_TYPE_URL, "https://u@exa_mple.c-/", "starts or ends with '-'" },
    { IM_TYPE_URL, "hxxp://EVIL.example/X",
      "looks defanged: did you mean http://EVIL.example/X?" },
    { IM_TYPE_URL, "hxxp://evil[.]example.com/a",
      "'hxxp://evil[.]example.com/a' looks defanged: did you mean "
      "http://evil.example.com/a?" },
    { IM_TYPE_URL, "http[:]//evil.example/", "did you mean http://evil.example/?" },
    { IM_TYPE_URL, "hXXps[://]a(.)example/", "did you mean https://a.example/?" },
    { IM_TYPE_URL, "fxp://files{.}example/", "did you mean ftp://files.example/?" },
    /* email */
    { IM_TYPE_EMAIL, "user.example.com", "has no '@'" },
    { IM_TYPE_EMAIL, "a@b@example.com", "more than one '@'" },
    { IM_TYPE_EMAIL, "@example.com", "empty local part" },
    { IM_TYPE_EMAIL, "user@", "empty domain" },
    { IM_TYPE_EMAIL, "user@localhost", "at least two labels" },
    { IM_TYPE_EMAIL, "user@example..com", "invalid domain" },
    { IM_TYPE_EMAIL,
      "user@b\xc3\xbc"
      "cher.de",
      "(xn--...)" },
    { IM_TYPE_EMAIL, "\xc3\xbcser@example.com", "non-ASCII" },
    { IM_TYPE_EMAIL, "us er@example.com", "in its local part" },
    { IM_TYPE_EMAIL, "<user@example.com>", "'<' in its local part" },
    { IM_TYPE_EMAIL, "user,x@example.com", "',' in its local part" },
    { IM_TYPE_EMAIL, "\"q\"@example.com", "in its local part" },
    { IM_TYPE_EMAIL, "a:b@example.com", "':' in its local part" },
    { IM_TYPE_EMAIL, "a;b@example.com", "';' in its local part" },
    { IM_TYPE_EMAIL, "a[b]@example.com", "'[' in its local part" },
    { IM_TYPE_EMAIL, "a\\b@example.com", "in its local part" },
    { IM_TYPE_EMAIL, "a(b)@example.com", "'(' in its local part" },
    /* hashes (lengths off by one are built in a loop below) */
    { IM_TYPE_MD5, "abc", "'abc' is not an MD5 hash (32 hex digits, got 3 characters)" },
    { IM_TYPE_MD5, "d41d8cd98f00b204e9800998ecf8427g",
      "'g' at position 32 is not a hex digit" },
    { IM_TYPE_MD5, "0xd41d8cd98f00b204e9800998ecf842",
      "'x' at position 2 is not a hex digit" },
    { IM_TYPE_SHA1, "d41d8cd98f00b204e9800998ecf8427e",
      "is not a SHA-1 hash (40 hex digits, got 32 characters)" },
    { IM_TYPE_SHA256, "da39a3ee5e6b4b0d3255bfef95601890afd80709",
      "is not a SHA-256 hash (64 hex digits, got 40 characters)" },
    { IM_TYPE_SHA512, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "is not a SHA-512 hash (128 hex digits, got 64 characters)" },
    { IM_TYPE_SHA1, "da39a3ee5e6b4b0d 255bfef95601890afd80709",
      "a space at position 17" },
    /* filename */
    { IM_TYPE_FILENAME, "bad\xc3", "not valid UTF-8" },
    { IM_TYPE_FILENAME,
      "\xc0\xaf"
      "etc",
      "not valid UTF-8" },
    { IM_TYPE_FILENAME, "\xe0\x80\xaf", "not valid UTF-8" },
    { IM_TYPE_FILENAME, "\xed\xa0\x80.txt", "not valid UTF-8" },
    { IM_TYPE_FILENAME, "\xf4\x90\x80\x80", "not valid UTF-8" },
    { IM_TYPE_FILENAME, "\xf8\x88\x80\x80\x80", "not valid UTF-8" },
    { IM_TYPE_FILENAME, "\xff.exe", "not valid UTF-8" },
    { IM_TYPE_FILENAME,
      "a\x80"
      "b",
      "not valid UTF-8" },
    { IM_TYPE_FILENAME,
      "a\x01"
      "b",
      "control characters" },
    { IM_TYPE_FILENAME,
      "a\x7f"
      "b",
      "control characters" },
    { IM_TYPE_FILENAME, "evil\nname.exe", "control characters" },
    /* asn */
    { IM_TYPE_ASN, "AS0123", "leading zero" },
    { IM_TYPE_ASN, "0123", "leading zero" },
    { IM_TYPE_ASN, "AS0", "out of range" },
    { IM_TYPE_ASN, "0", "out of range" },
    { IM_TYPE_ASN, "AS4294967296", "out of range" },
    { IM_TYPE_ASN, "99999999999", "out of range" },
    { IM_TYPE_ASN, "+123", "is not an AS number" },
    { IM_TYPE_ASN, "-1", "is not an AS number" },
    { IM_TYPE_ASN, "AS", "is not an AS number" },
    { IM_TYPE_ASN, "AS-1", "is not an AS number" },
    { IM_TYPE_ASN, "AS 123", "is not an AS number" },
    { IM_TYPE_ASN, "AS1.5", "is not an AS number" },
    { IM_TYPE_ASN, "ASN123", "is not an AS number" },
    { IM_TYPE_ASN, "12a", "is not an AS number" },
};

/* Values with control characters or terminal escapes: the error must quote
 * them with '?' in place of each control character. */
static const bad_t hostile[] = {
    { IM_TYPE_DOMAIN,
      "ex\x01"
      "ample.com",
      "'ex?ample.com'" },
    { IM_TYPE_URL, "http://example.com/\x1b[31mred", "'http://example.com/?[31mred'" },
    { IM_TYPE_IPV4, "1.2.3.4\r\n5", "'1.2.3.4??5'" },
    { IM_TYPE_MD5, "\x1b]0;pwned\x07", "'?]0;pwned?'" },
    { IM_TYPE_FILENAME, "x\x1b[2Jy", "'x?[2Jy'" },
    { IM_TYPE_EMAIL, "a\tb@example.com", "'a?b@example.com'" },
    { IM_TYPE_ASN, "AS\x7f", "'AS?'" },
    { IM_TYPE_DOMAIN,
      "a\xe2\x80\xae"
      "moc.example",
      "'a?moc.example'" },
    { IM_TYPE_DOMAIN,
      "a\xc2\x9b"
      "31m.example",
      "'a?31m.example'" },
    { IM_TYPE_IPV6, "\xff\xfe::1", "'??::1'" },
};

static const guess_t guesses[] = {
    { "192.0.2.1", IM_TYPE_IPV4 },
    { "10.0.0.0/8", IM_TYPE_IPV4 },
    { "2001:DB8::1", IM_TYPE_IPV6 },
    { "::1", IM_TYPE_IPV6 },
    { "2001:db8::/32", IM_TYPE_IPV6 },
    { "AS64512", IM_TYPE_ASN },
    { "as123", IM_TYPE_ASN },
    { "64512", IM_TYPE_FILENAME },
    { "d41d8cd98f00b204e9800998ecf8427e", IM_TYPE_MD5 },
    { "D41D8CD98F00B204E9800998ECF8427E", IM_TYPE_MD5 },
    { "da39a3ee5e6b4b0d3255bfef95601890afd80709", IM_TYPE_SHA1 },
    { "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      IM_TYPE_SHA256 },
    { "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
      "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
      IM_TYPE_SHA512 },
    { "d41d8cd98f00b204e9800998ecf8427e0", IM_TYPE_FILENAME },
    { "http://example.com/x", IM_TYPE_URL },
    { "HXXP://Evil.Example", IM_TYPE_URL },
    { "user@example.com", IM_TYPE_EMAIL },
    { "User@EXAMPLE.COM", IM_TYPE_EMAIL },
    { "user@localhost", IM_TYPE_FILENAME },
    { "Example.COM", IM_TYPE_DOMAIN },
    { "xn--bcher-kva.de.", IM_TYPE_DOMAIN },
    { "invoice 2024.pdf", IM_TYPE_FILENAME },
    { "C:\\Users\\x\\y.exe", IM_TYPE_FILENAME },
    { "999.1.1.1", IM_TYPE_FILENAME },
    { "10.1.2.3/8", IM_TYPE_FILENAME },
    { "deadbeef", IM_TYPE_FILENAME },
    { "b\xc3\xbc"
      "cher.de",
      IM_TYPE_FILENAME },
};

static void
test_bad_arguments (void)
{
    char out[64], err[128];
    int rc;

    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_IPV4, NULL, out, sizeof out, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "normalise refuses a NULL value");
    ok (strstr (err, "no value") != NULL, "the error for a NULL value says so");

    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_IPV4, "192.0.2.1", NULL, 16, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "normalise refuses a NULL output buffer");

    errno = 0;
    strcpy (out, "XXXX");
    rc = im_ioc_normalise (IM_TYPE_IPV4, "192.0.2.1", out, 0, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "normalise refuses an output size of 0");
    is (out, "XXXX", "normalise does not touch an output buffer of size 0");

    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_IPV4, NULL, out, sizeof out, NULL, 0);
    ok (rc == -1 && errno == EINVAL,
        "normalise refuses a NULL value with no error buffer");

    errno = 0;
    strcpy (err, "untouched");
    rc = im_ioc_normalise (IM_TYPE_IPV4, "999.1.1.1", out, sizeof out, err, 0);
    ok (rc == -1 && errno == EINVAL,
        "normalise refuses 999.1.1.1 with an error size of 0");
    is (err, "untouched", "an error buffer of size 0 is not written");

    int bad_types[] = { IM_TYPE_NONE, IM_TYPE_COUNT, -1, 999 };
    for (size_t i = 0; i < COUNT (bad_types); i++) {
        char want[64];
        snprintf (want, sizeof want, "unknown indicator type %d", bad_types[i]);
        errno = 0;
        strcpy (out, "XXXX");
        rc = im_ioc_normalise (bad_types[i], "192.0.2.1", out, sizeof out, err,
                               sizeof err);
        ok (rc == -1 && errno == EINVAL, "normalise refuses type %d", bad_types[i]);
        is (err, want, "the error names unknown type %d", bad_types[i]);
        is (out, "", "the output is empty after refusing type %d", bad_types[i]);
    }

    /* A short error buffer gets a truncated, terminated message. */
    char small[12];
    memset (small, 'Z', sizeof small);
    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_IPV4, "999.1.1.1", out, sizeof out, small, 8);
    ok (rc == -1 && errno == EINVAL,
        "normalise refuses 999.1.1.1 with a short error buffer");
    is (small, "'999.1.", "a short error buffer holds the start of the message");
    ok (small[8] == 'Z' && small[11] == 'Z',
        "nothing is written past a short error buffer");

    /* Output buffers: too small is ENOSPC, an exact fit works. */
    char tiny[16];
    memset (tiny, 'Z', sizeof tiny);
    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_DOMAIN, "Example.COM", tiny, 11, err, sizeof err);
    ok (rc == -1 && errno == ENOSPC,
        "normalise reports ENOSPC when the output is one byte short");
    ok (strstr (err, "value too long for buffer") != NULL,
        "the ENOSPC error says the value is too long for the buffer");
    ok (tiny[0] == '\0' && tiny[11] == 'Z',
        "nothing is written past a too small output buffer");
    rc = im_ioc_normalise (IM_TYPE_DOMAIN, "Example.COM", tiny, 12, err, sizeof err);
    ok (rc == 0, "normalise fits example.com into exactly 12 bytes");
    is (tiny, "example.com", "the exact-fit output is the canonical domain");
    ok (tiny[12] == 'Z', "the exact-fit output does not write past its size");
    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_ASN, "123", tiny, 5, err, sizeof err);
    ok (rc == -1 && errno == ENOSPC,
        "normalise reports ENOSPC when the canonical form grows past the buffer");

    /* Success clears the error buffer and leaves errno alone. */
    strcpy (err, "stale");
    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_IPV4, "192.0.2.1", out, sizeof out, err, sizeof err);
    ok (rc == 0 && errno == 0, "normalise succeeds without touching errno");
    is (err, "", "a successful normalise leaves an empty error");
    rc = im_ioc_normalise (IM_TYPE_IPV4, "192.0.2.1", out, sizeof out, NULL, 0);
    ok (rc == 0, "normalise succeeds with no error buffer");

    /* Names. */
    errno = 0;
    ok (im_type_parse (NULL) == -1 && errno == EINVAL, "type parse refuses NULL");
    errno = 0;
    ok (im_tlp_parse (NULL) == -1 && errno == EINVAL, "TLP parse refuses NULL");
    ok (im_type_name (IM_TYPE_NONE) == NULL, "type NONE has no name");
    ok (im_type_name (IM_TYPE_COUNT) == NULL, "type COUNT has no name");
    ok (im_type_name (-1) == NULL, "type -1 has no name");
    ok (im_tlp_name (IM_TLP_NONE) == NULL, "TLP NONE has no name");
    ok (im_tlp_name (IM_TLP_COUNT) == NULL, "TLP COUNT has no name");
    ok (im_tlp_name (-1) == NULL, "TLP -1 has no name");
    cmp_ok (im_ioc_guess (NULL), "==", IM_TYPE_NONE, "guess returns NONE for NULL");
    cmp_ok (im_ioc_guess (""), "==", IM_TYPE_NONE,
            "guess returns NONE for an empty value");
}

static void
test_names (void)
{
    static const char *types[]
        = { "ipv4",           "ipv6",   "domain", "url",      "email", "md5",
            "sha1",           "sha256", "sha512", "filename", "asn",   "cve",
            "attack-pattern", "regkey", "yara",   "sigma",    "snort" };
    static const char *tlps[] = { "clear", "green", "amber", "amber+strict", "red" };
    char upper[32];
    int t;

    int nioc = 0;
    for (t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++)
        nioc += im_type_is_ioc (t);
    cmp_ok (COUNT (types), "==", nioc,
            "every indicator type has a name in the test list");
    for (t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++) {
        if ((size_t)t > COUNT (types))
            break; /* reports and members: test_record */
        is (im_type_name (t), types[t - 1], "type %d is named %s", t, types[t - 1]);
        cmp_ok (im_type_parse (im_type_name (t)), "==", t,
                "parsing the name of type %d gives it back", t);
        is (im_type_name (im_type_parse (types[t - 1])), types[t - 1],
            "%s round-trips through parse and name", types[t - 1]);
        size_t i;
        for (i = 0; types[t - 1][i] && i + 1 < sizeof upper; i++)
            upper[i] = (char)(types[t - 1][i] >= 'a' && types[t - 1][i] <= 'z'
                                  ? types[t - 1][i] - 32
                                  : types[t - 1][i]);
        upper[i] = '\0';
        cmp_ok (im_type_parse (upper), "==", t, "type parse reads %s", upper);
    }
    static const char *bad_types[]
        = { "", "none", "ip", "ipv4 ", "hash", "sha-256", "AS" };
    for (size_t i = 0; i < COUNT (bad_types); i++) {
        errno = 0;
        ok (im_type_parse (bad_types[i]) == -1 && errno == EINVAL,
            "type parse refuses '%s'", bad_types[i]);
    }

    cmp_ok (COUNT (tlps), "==", IM_TLP_COUNT - 1,
            "every TLP label has a name in the test list");
    for (t = IM_TLP_NONE + 1; t < IM_TLP_COUNT; t++) {
        char prefixed[32];
        is (im_tlp_name (t), tlps[t - 1], "TLP %d is named %s", t, tlps[t - 1]);
        cmp_ok (im_tlp_parse (im_tlp_name (t)), "==", t,
                "parsing the name of TLP %d gives it back", t);
        is (im_tlp_name (im_tlp_parse (tlps[t - 1])), tlps[t - 1],
            "%s round-trips through parse and name", tlps[t - 1]);
        snprintf (prefixed, sizeof prefixed, "TLP:%s", tlps[t - 1]);
        cmp_ok (im_tlp_parse (prefixed), "==", t, "TLP parse reads %s", prefixed);
    }
    static const struct {
        const char *in;
        int want;
    } tlp_more[] = {
        { "TLP:CLEAR", IM_TLP_CLEAR },
        { "white", IM_TLP_CLEAR },
        { "TLP:WHITE", IM_TLP_CLEAR },
        { "tlp:white", IM_TLP_CLEAR },
        { "Green", IM_TLP_GREEN },
        { "AMBER", IM_TLP_AMBER },
        { "Amber+Strict", IM_TLP_AMBER_STRICT },
        { "amber-strict", IM_TLP_AMBER_STRICT },
        { "TLP:AMBER-STRICT", IM_TLP_AMBER_STRICT },
        { "tlp:RED", IM_TLP_RED },
    };
    for (size_t i = 0; i < COUNT (tlp_more); i++)
        cmp_ok (im_tlp_parse (tlp_more[i].in), "==", tlp_more[i].want,
                "TLP parse reads %s as %s", tlp_more[i].in,
                im_tlp_name (tlp_more[i].want));
    static const char *bad_tlps[]
        = { "",     "tlp:", "TLP",  "amber_strict", "amber strict", "amberstrict",
            "pink", " red", "red ", "tlp:tlp:red",  "tlp red",      "none" };
    for (size_t i = 0; i < COUNT (bad_tlps); i++) {
        errno = 0;
        ok (im_tlp_parse (bad_tlps[i]) == -1 && errno == EINVAL, "TLP parse refuses '%s'",
            bad_tlps[i]);
    }
}

static void
test_good (void)
{
    char out[IM_VALUE_MAX + 1], again[IM_VALUE_MAX + 1], err[256];
    char n1[128], n2[128];

    for (size_t i = 0; i < COUNT (good); i++) {
        const good_t *g = &good[i];
        const char *tn = im_type_name (g->type);
        err[0] = '\0';
        int rc = im_ioc_normalise (g->type, g->in, out, sizeof out, err, sizeof err);
        if (!ok (rc == 0, "normalise accepts '%s' as %s",
                 printable_cut (g->in, NAME_BYTES, n1, sizeof n1), tn))
            diag ("error: %s", err);
        is (out, g->want, "%s '%s' normalises to '%s'", tn,
            printable_cut (g->in, NAME_BYTES, n1, sizeof n1),
            printable_cut (g->want, NAME_BYTES, n2, sizeof n2));
        rc = im_ioc_normalise (g->type, out, again, sizeof again, err, sizeof err);
        ok (rc == 0 && strcmp (out, again) == 0,
            "normalising %s '%s' again changes nothing", tn,
            printable_cut (g->want, NAME_BYTES, n2, sizeof n2));
    }
}

static void
check_bad (int type, const char *in, const char *why)
{
    char out[IM_VALUE_MAX + 1], err[256];
    char n1[128], errbuf[1100];
    const char *tn = im_type_name (type);

    strcpy (out, "XXXX");
    err[0] = '\0';
    errno = 0;
    int rc = im_ioc_normalise (type, in, out, sizeof out, err, sizeof err);
    ok (rc == -1 && errno == EINVAL, "normalise refuses '%s' as %s",
        printable_cut (in, NAME_BYTES, n1, sizeof n1), tn);
    if (!ok (strstr (err, why) != NULL, "the error for %s '%s' says \"%s\"", tn,
             printable_cut (in, NAME_BYTES, n1, sizeof n1), why))
        diag ("error: %s", printable_cut (err, sizeof err, errbuf, sizeof errbuf));
    ok (!has_control (err), "the error for %s '%s' has no control characters", tn,
        printable_cut (in, NAME_BYTES, n1, sizeof n1));
    is (out, "", "the output is empty after refusing %s '%s'", tn,
        printable_cut (in, NAME_BYTES, n1, sizeof n1));
}

static void
test_bad (void)
{
    for (size_t i = 0; i < COUNT (bad); i++)
        check_bad (bad[i].type, bad[i].in, bad[i].why);
    for (size_t i = 0; i < COUNT (hostile); i++)
        check_bad (hostile[i].type, hostile[i].in, hostile[i].why);
}

/* Hash lengths off by one either way, for every hash type. */
static void
test_hash_lengths (void)
{
    static const struct {
        int type;
        size_t len;
        const char *what;
    } hashes[] = {
        { IM_TYPE_MD5, 32, "an MD5" },
        { IM_TYPE_SHA1, 40, "a SHA-1" },
        { IM_TYPE_SHA256, 64, "a SHA-256" },
        { IM_TYPE_SHA512, 128, "a SHA-512" },
    };
    char in[200], why[100];

    for (size_t i = 0; i < COUNT (hashes); i++) {
        size_t lens[] = { hashes[i].len - 1, hashes[i].len + 1 };
        for (size_t j = 0; j < COUNT (lens); j++) {
            build (in, "", 'a', lens[j], "");
            snprintf (why, sizeof why,
                      "is not %s hash (%zu hex digits, got %zu characters)",
                      hashes[i].what, hashes[i].len, lens[j]);
            check_bad (hashes[i].type, in, why);
        }
    }
}

/* Limits: lengths at and past each maximum, over-long values, whitespace and
 * empty values for every type. */
static void
test_limits (void)
{
    static char in[IM_VALUE_MAX + 64];
    static char want[IM_VALUE_MAX + 64];
    char out[IM_VALUE_MAX + 1], err[256];
    int rc;

    /* a 63-character label is fine, 64 is not */
    build (in, "", 'a', 63, ".example.com");
    rc = im_ioc_normalise (IM_TYPE_DOMAIN, in, out, sizeof out, err, sizeof err);
    ok (rc == 0 && strcmp (out, in) == 0,
        "normalise accepts a domain with a 63-character label");
    build (in, "", 'a', 64, ".example.com");
    check_bad (IM_TYPE_DOMAIN, in, "has a label longer than 63 characters");

    /* 253 characters in all is fine (and 254 with a trailing dot), 254 is not */
    char label[80];
    in[0] = '\0';
    for (int k = 0; k < 3; k++)
        strcat (in, build (label, "", (char)('a' + k), 63, "."));
    strcat (in, build (label, "", 'D', 61, ""));
    cmp_ok (strlen (in), "==", 253, "the long test domain has 253 characters");
    strcpy (want, in);
    for (size_t k = 192; k < 253; k++)
        want[k] = 'd';
    rc = im_ioc_normalise (IM_TYPE_DOMAIN, in, out, sizeof out, err, sizeof err);
    ok (rc == 0 && strcmp (out, want) == 0,
        "normalise accepts a 253-character domain and lower-cases it");
    strcat (in, ".");
    rc = im_ioc_normalise (IM_TYPE_DOMAIN, in, out, sizeof out, err, sizeof err);
    ok (rc == 0 && strcmp (out, want) == 0,
        "normalise accepts a 253-character domain with a trailing dot");
    in[253] = 'x';
    in[254] = '\0';
    check_bad (IM_TYPE_DOMAIN, in, "is longer than 253 characters");

    /* e-mail local parts: 64 fine, 65 not */
    build (in, "", 'L', 64, "@Example.com");
    build (want, "", 'L', 64, "@example.com");
    rc = im_ioc_normalise (IM_TYPE_EMAIL, in, out, sizeof out, err, sizeof err);
    ok (rc == 0 && strcmp (out, want) == 0,
        "normalise accepts a 64-character local part and keeps its case");
    build (in, "", 'L', 65, "@example.com");
    check_bad (IM_TYPE_EMAIL, in, "local part longer than 64 characters");

    /* file names: 1024 bytes fine, 1025 not */
    build (in, "", 'f', 1024, "");
    rc = im_ioc_normalise (IM_TYPE_FILENAME, in, out, sizeof out, err, sizeof err);
    ok (rc == 0 && strcmp (out, in) == 0, "normalise accepts a 1024-byte filename");
    build (in, "", 'f', 1025, "");
    check_bad (IM_TYPE_FILENAME, in, "filename is longer than 1024 bytes");

    /* URLs up to IM_VALUE_MAX */
    build (in, "http://EXAMPLE.com/", 'P', IM_VALUE_MAX - 19, "");
    build (want, "http://example.com/", 'P', IM_VALUE_MAX - 19, "");
    cmp_ok (strlen (in), "==", IM_VALUE_MAX, "the long test URL has IM_VALUE_MAX bytes");
    rc = im_ioc_normalise (IM_TYPE_URL, in, out, sizeof out, err, sizeof err);
    ok (rc == 0 && strcmp (out, want) == 0,
        "normalise accepts a URL of IM_VALUE_MAX bytes");
    errno = 0;
    rc = im_ioc_normalise (IM_TYPE_URL, in, out, IM_VALUE_MAX, err, sizeof err);
    ok (rc == -1 && errno == ENOSPC,
        "normalise reports ENOSPC for a URL of IM_VALUE_MAX bytes into IM_VALUE_MAX");

    /* Every type: over-long, empty, leading or trailing whitespace. */
    for (int t = IM_TYPE_NONE + 1; t < IM_TYPE_COUNT; t++) {
        const char *sample = NULL;
        if (!im_type_is_ioc (t))
            continue; /* reports and members: test_record */
        char padded[IM_VALUE_MAX + 8];
        for (size_t i = 0; i < COUNT (good) && !sample; i++)
            if (good[i].type == t)
                sample = good[i].in;
        ok (sample != NULL, "the good table has a %s example", im_type_name (t));
        if (!sample)
            continue;

        build (in, "http://example.com/", '1', IM_VALUE_MAX + 1 - 19, "");
        check_bad (t, in, "value is longer than 2048 bytes");
        check_bad (t, "", "empty value");

        snprintf (padded, sizeof padded, "%s ", sample);
        check_bad (t, padded,
                   strlen (padded) <= 64 ? " ' has leading or trailing whitespace"
                                         : "...' has leading or trailing whitespace");
        snprintf (padded, sizeof padded, " %s", sample);
        check_bad (t, padded, "has leading or trailing whitespace");
        snprintf (padded, sizeof padded, "\t%s", sample);
        check_bad (t, padded, "has leading or trailing whitespace");
        snprintf (padded, sizeof padded, "%s\n", sample);
        check_bad (t, padded, "has leading or trailing whitespace");
    }
    check_bad (IM_TYPE_DOMAIN, "x ", "'x ' has leading or trailing whitespace");

    /* Long input is cut in the error message. */
    char err2[256];
    build (in, "", 'z', 100, "");
    rc = im_ioc_normalise (IM_TYPE_IPV4, in, out, sizeof out, err2, sizeof err2);
    build (want, "'", 'z', 64, "...'");
    ok (rc == -1 && strstr (err2, want) != NULL,
        "the error quotes only the first 64 characters of a long value, then '...'");
    build (want, "", 'z', 65, "");
    ok (strstr (err2, want) == NULL,
        "the error does not quote 65 characters of a long value");
    build (in, "", 'z', 63, "\xc3\xa9z");
    rc = im_ioc_normalise (IM_TYPE_DOMAIN, in, out, sizeof out, err2, sizeof err2);
    build (want, "'", 'z', 63, "...'");
    ok (rc == -1 && strstr (err2, want) != NULL,
        "the error does not split a UTF-8 character when cutting a long value");
}

static void
test_guess (void)
{
    char n1[128];
    for (size_t i = 0; i < COUNT (guesses); i++) {
        int got = im_ioc_guess (guesses[i].in);
        if (!cmp_ok (got, "==", guesses[i].want, "guess reads '%s' as %s",
                     printable_cut (guesses[i].in, NAME_BYTES, n1, sizeof n1),
                     im_type_name (guesses[i].want)))
            diag ("guessed %s", got > 0 ? im_type_name (got) : "none");
    }
    errno = 1234;
    im_ioc_guess ("not an address");
    cmp_ok (errno, "==", 1234, "guess leaves errno as it was");
}

static void
test_prefix (void)
{
    static const struct {
        int type;
        const char *in;
        uint8_t addr[16];
        int plen;
    } prefixes[] = {
        { IM_TYPE_IPV4, "10.0.0.0/8", { 10, 0, 0, 0 }, 8 },
        { IM_TYPE_IPV4, "192.0.2.1", { 192, 0, 2, 1 }, 32 },
        { IM_TYPE_IPV4, "198.51.100.0/24", { 198, 51, 100, 0 }, 24 },
        { IM_TYPE_IPV4, "0.0.0.0/0", { 0 }, 0 },
        { IM_TYPE_IPV4, "203.0.113.9/32", { 203, 0, 113, 9 }, 32 },
        { IM_TYPE_IPV6, "2001:db8::/32", { 0x20, 0x01, 0x0d, 0xb8 }, 32 },
        { IM_TYPE_IPV6, "::1", { [15] = 1 }, 128 },
        { IM_TYPE_IPV6, "::/0", { 0 }, 0 },
        { IM_TYPE_IPV6, "fe80::/10", { 0xfe, 0x80 }, 10 },
        { IM_TYPE_IPV6,
          "2001:DB8::AB:1",
          { 0x20, 0x01, 0x0d, 0xb8, [12] = 0, 0xab, 0, 1 },
          128 },
    };
    static const struct {
        int type;
        const char *in;
    } refused[] = {
        { IM_TYPE_IPV4, "10.1.2.3/8" },
        { IM_TYPE_IPV4, "10.0.0.0/33" },
        { IM_TYPE_IPV4, "999.1.1.1" },
        { IM_TYPE_IPV4, "2001:db8::" },
        { IM_TYPE_IPV4, "" },
        { IM_TYPE_IPV6, "10.0.0.0/8" },
        { IM_TYPE_IPV6, "2001:db8::1/32" },
        { IM_TYPE_IPV6, "::1/129" },
        { IM_TYPE_IPV6, "fe80::1%eth0" },
        { IM_TYPE_DOMAIN, "example.com" },
        { IM_TYPE_URL, "http://10.0.0.1/" },
        { IM_TYPE_NONE, "10.0.0.0/8" },
        { 99, "10.0.0.0/8" },
    };
    uint8_t addr[16];
    int plen;

    for (size_t i = 0; i < COUNT (prefixes); i++) {
        memset (addr, 0xee, sizeof addr);
        plen = -1;
        int rc = im_ioc_prefix (prefixes[i].type, prefixes[i].in, addr, &plen);
        ok (rc == 0, "prefix parses %s '%s'", im_type_name (prefixes[i].type),
            prefixes[i].in);
        size_t n = prefixes[i].type == IM_TYPE_IPV4 ? 4 : 16;
        ok (memcmp (addr, prefixes[i].addr, n) == 0,
            "prefix gives the network bytes of '%s'", prefixes[i].in);
        cmp_ok (plen, "==", prefixes[i].plen, "prefix gives the length of '%s'",
                prefixes[i].in);
    }
    for (size_t i = 0; i < COUNT (refused); i++) {
        errno = 0;
        plen = -7;
        int rc = im_ioc_prefix (refused[i].type, refused[i].in, addr, &plen);
        ok (rc == -1 && errno == EINVAL && plen == -7, "prefix refuses '%s' as type %d",
            refused[i].in, refused[i].type);
    }
    errno = 0;
    ok (im_ioc_prefix (IM_TYPE_IPV4, NULL, addr, &plen) == -1 && errno == EINVAL,
        "prefix refuses a NULL value");
    errno = 0;
    ok (im_ioc_prefix (IM_TYPE_IPV4, "10.0.0.0/8", NULL, &plen) == -1 && errno == EINVAL,
        "prefix refuses a NULL address buffer");
    errno = 0;
    ok (im_ioc_prefix (IM_TYPE_IPV4, "10.0.0.0/8", addr, NULL) == -1 && errno == EINVAL,
        "prefix refuses a NULL length pointer");
}

/* The IPv4 parser against libc's inet_pton, the oracle: a value of digits
 * and dots is an address exactly when inet_pton reads it and no octet has a
 * leading zero, and its canonical form is inet_ntop's. Random strings (a
 * fixed seed) over digits, dots and a few others, with the edge cases. */
static int
ipv4_oracle (const char *v, char *canon)
{
    uint8_t bytes[4];
    if (strspn (v, "0123456789.") != strlen (v) || inet_pton (AF_INET, v, bytes) != 1)
        return -1;
    for (const char *c = v; *c; c++)
        if (*c == '0' && (c == v || c[-1] == '.') && c[1] >= '0' && c[1] <= '9')
            return -1;
    return inet_ntop (AF_INET, bytes, canon, INET_ADDRSTRLEN) ? 0 : -1;
}

static void
test_ipv4_oracle (void)
{
    static const char *edges[] = { "0.0.0.0",    "255.255.255.255",
                                   "256.1.1.1",  "1.2.3",
                                   "1.2.3.4.",   ".1.2.3.4",
                                   "1..2.3",     "1.2.3.4.5",
                                   "01.2.3.4",   "1.2.3.04",
                                   "1.2.3.0",    "1000.1.1.1",
                                   "1.2.3.2555", "9999.1.1.1",
                                   "1.2.3.-4",   "1.2.3.4 ",
                                   "",           ".",
                                   "...",        "1.2.3.",
                                   "1.2.3.4a",   "00.0.0.0",
                                   "0.0.0.00",   "192.168.001.1",
                                   "4294967295" };
    char alphabet[] = "0123456789..........-x ";
    uint32_t seed = 20261205;
    int agree = 1, same_canon = 1, same_read = 1;
    char first[2200] = "";
    for (size_t i = 0; i < 200000 + sizeof edges / sizeof *edges; i++) {
        char v[24];
        if (i < sizeof edges / sizeof *edges)
            snprintf (v, sizeof v, "%s", edges[i]);
        else {
            seed = seed * 1103515245u + 12345u;
            size_t len = 1 + (seed >> 16) % 17;
            for (size_t k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                v[k] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
            }
            v[len] = 0;
        }
        char want[INET_ADDRSTRLEN], got[IM_VALUE_MAX + 1];
        int w = ipv4_oracle (v, want);
        int g = *v ? im_ioc_normalise (IM_TYPE_IPV4, v, got, sizeof got, NULL, 0) : -1;
        if ((w == 0) != (g == 0) && agree) {
            agree = 0;
            snprintf (first, sizeof first, "'%s': oracle %d, ours %d", v, w, g);
        }
        /* Read in place as a canonical value: as inet_pton reads it. */
        uint8_t pa[16], pb[16] = { 0 };
        int plen = 0;
        int pc = im_ioc_prefix_canonical (IM_TYPE_IPV4, v, pa, &plen);
        int pt = inet_pton (AF_INET, v, pb) == 1 ? 0 : -1;
        if ((pc != pt || (pc == 0 && (memcmp (pa, pb, 16) != 0 || plen != 32)))
            && same_read) {
            same_read = 0;
            snprintf (first, sizeof first, "'%s': inet_pton %d, prefix %d", v, pt, pc);
        }
        if (w == 0 && g == 0 && strcmp (want, got) != 0 && same_canon) {
            same_canon = 0;
            snprintf (first, sizeof first, "'%s': oracle %s, ours %s", v, want, got);
        }
    }
    if (first[0])
        diag ("first difference: %s", first);
    ok (agree, "an IPv4 value is accepted exactly when inet_pton reads it without "
               "leading zeros (200,025 strings)");
    ok (same_canon, "an accepted IPv4 value is written as inet_ntop writes it");
    ok (same_read, "a canonical IPv4 value's prefix is read as inet_pton reads it");
}

static const tap_test_t tests[] = {
    TAP_DIAG (
        "SPEC.md: Indicator types and TLP labels (Canonical values, Guessing a type)"),
    TAP_TEST (test_bad_arguments),
    TAP_TEST (test_names),
    TAP_TEST (test_good),
    TAP_TEST (test_bad),
    TAP_TEST (test_hash_lengths),
    TAP_TEST (test_limits),
    TAP_TEST (test_guess),
    TAP_TEST (test_prefix),
    TAP_TEST (test_ipv4_oracle),
    TAP_END
};

int
main (int argc, char **argv)
{
    return tap_main (argc, argv, tests);
}
