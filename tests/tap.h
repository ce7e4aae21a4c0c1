/* tap.h -- a minimal Test Anything Protocol emitter for intelmesh's unit tests.
 * Header-only: each test program includes it once. Output goes to stdout and is
 * read by automake's tap-driver.sh; diagnostics are TAP comments ("# ..."). */
#ifndef IM_TAP_H
#define IM_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count_ = 0;
static int tap_failed_ = 0;

static inline void
tap_vreport_ (int pass, const char *file, int line, const char *fmt, va_list ap)
{
    tap_count_++;
    if (!pass)
        tap_failed_++;
    printf ("%sok %d - ", pass ? "" : "not ", tap_count_);
    vprintf (fmt, ap);
    printf ("\n");
    if (!pass)
        printf ("#   failed at %s:%d\n", file, line);
    fflush (stdout);
}

static inline int
tap_ok_ (int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    tap_vreport_ (pass, file, line, fmt, ap);
    va_end (ap);
    return pass;
}

static inline int
tap_is_ (const char *got, const char *want, const char *file, int line,
         const char *fmt, ...)
{
    int pass = (got == NULL && want == NULL)
               || (got && want && strcmp (got, want) == 0);
    va_list ap;
    va_start (ap, fmt);
    tap_vreport_ (pass, file, line, fmt, ap);
    va_end (ap);
    if (!pass)
        printf ("#          got: '%s'\n#     expected: '%s'\n",
                got ? got : "(null)", want ? want : "(null)");
    return pass;
}

static inline int
tap_cmp_ok_ (long long a, const char *op, long long b, const char *file,
             int line, const char *fmt, ...)
{
    int pass;
    if (strcmp (op, "==") == 0) pass = a == b;
    else if (strcmp (op, "!=") == 0) pass = a != b;
    else if (strcmp (op, "<") == 0) pass = a < b;
    else if (strcmp (op, "<=") == 0) pass = a <= b;
    else if (strcmp (op, ">") == 0) pass = a > b;
    else if (strcmp (op, ">=") == 0) pass = a >= b;
    else {
        printf ("# cmp_ok: unknown operator '%s'\n", op);
        pass = 0;
    }
    va_list ap;
    va_start (ap, fmt);
    tap_vreport_ (pass, file, line, fmt, ap);
    va_end (ap);
    if (!pass)
        printf ("#     %lld\n#         %s\n#     %lld\n", a, op, b);
    return pass;
}

static inline void
diag (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    printf ("# ");
    vprintf (fmt, ap);
    printf ("\n");
    va_end (ap);
    fflush (stdout);
}

/* Prints the plan and returns the process exit status: 0 when all passed. */
static inline int
done_testing (void)
{
    printf ("1..%d\n", tap_count_);
    fflush (stdout);
    return tap_failed_ ? 1 : 0;
}

#define ok(cond, ...) tap_ok_ (!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(got, want, ...) tap_is_ ((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define cmp_ok(a, op, b, ...) \
    tap_cmp_ok_ ((long long) (a), (op), (long long) (b), __FILE__, __LINE__, __VA_ARGS__)
#define BAIL_OUT(...) \
    do { printf ("Bail out! "); printf (__VA_ARGS__); printf ("\n"); exit (1); } while (0)

#endif
