/* SPDX-License-Identifier: MPL-2.0 */
/* tap.h -- a minimal Test Anything Protocol emitter for intelmesh's unit tests.
 * Header-only: each test program includes it once. Output goes to stdout and is
 * read by automake's tap-driver.sh; diagnostics are TAP comments ("# ...").
 * A program lists its test functions in a table and hands it to tap_main(),
 * which runs them all, or with -t NAME one of them (-l lists them). */
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
tap_is_ (const char *got, const char *want, const char *file, int line, const char *fmt,
         ...)
{
    int pass = (got == NULL && want == NULL) || (got && want && strcmp (got, want) == 0);
    va_list ap;
    va_start (ap, fmt);
    tap_vreport_ (pass, file, line, fmt, ap);
    va_end (ap);
    if (!pass)
        printf ("#          got: '%s'\n#     expected: '%s'\n", got ? got : "(null)",
                want ? want : "(null)");
    return pass;
}

static inline int
tap_cmp_ok_ (long long a, const char *op, long long b, const char *file, int line,
             const char *fmt, ...)
{
    int pass;
    if (strcmp (op, "==") == 0)
        pass = a == b;
    else if (strcmp (op, "!=") == 0)
        pass = a != b;
    else if (strcmp (op, "<") == 0)
        pass = a < b;
    else if (strcmp (op, "<=") == 0)
        pass = a <= b;
    else if (strcmp (op, ">") == 0)
        pass = a > b;
    else if (strcmp (op, ">=") == 0)
        pass = a >= b;
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

/* One test function of a program, for tap_main(): TAP_TEST (test_foo); or
 * TAP_DIAG ("text"), a comment printed there when every test runs. */
typedef struct {
    const char *name;
    void (*fn) (void);
} tap_test_t;
#define TAP_TEST(fn)                                                                     \
    {                                                                                    \
#fn, fn                                                                          \
    }
#define TAP_DIAG(text)                                                                   \
    {                                                                                    \
        text, NULL                                                                       \
    }
#define TAP_END                                                                          \
    {                                                                                    \
        NULL, NULL                                                                       \
    }

/* NAME or test_NAME names TEST. */
static inline int
tap_named_ (const tap_test_t *test, const char *name)
{
    return strcmp (test->name, name) == 0
           || (strncmp (test->name, "test_", 5) == 0
               && strcmp (test->name + 5, name) == 0);
}

/* Runs the tests of TABLE (ended by { NULL, NULL }) as the command line says:
 *   (nothing)   every test, in order
 *   -t NAME     test NAME only (test_NAME or NAME; may be given again)
 *   -l          lists the tests' names and runs nothing
 * Prints the plan and returns the exit status (done_testing); 2 for a bad
 * command line or an unknown name. */
static inline int
tap_main (int argc, char **argv, const tap_test_t *table)
{
    int selected = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "-l") == 0) {
            for (const tap_test_t *t = table; t->name; t++)
                if (t->fn)
                    printf ("%s\n", t->name);
            return 0;
        }
        if (strcmp (argv[i], "-t") == 0 && i + 1 < argc) {
            const tap_test_t *t = table;
            while (t->name && !(t->fn && tap_named_ (t, argv[i + 1])))
                t++;
            if (!t->name) {
                fprintf (stderr, "%s: no test named %s (-l lists them)\n", argv[0],
                         argv[i + 1]);
                return 2;
            }
            selected = 1;
            i++;
            continue;
        }
        fprintf (stderr, "usage: %s [-l] [-t NAME]...\n", argv[0]);
        return 2;
    }
    for (const tap_test_t *t = table; t->name; t++) {
        int run = !selected;
        for (int i = 1; !run && i + 1 < argc; i++)
            run = strcmp (argv[i], "-t") == 0 && tap_named_ (t, argv[++i]);
        if (run && t->fn)
            t->fn ();
        else if (run)
            diag ("%s", t->name);
    }
    return done_testing ();
}

#define ok(cond, ...) tap_ok_ (!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is(got, want, ...) tap_is_ ((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define cmp_ok(a, op, b, ...)                                                            \
    tap_cmp_ok_ ((long long)(a), (op), (long long)(b), __FILE__, __LINE__, __VA_ARGS__)
#define BAIL_OUT(...)                                                                    \
    do {                                                                                 \
        printf ("Bail out! ");                                                           \
        printf (__VA_ARGS__);                                                            \
        printf ("\n");                                                                   \
        exit (1);                                                                        \
    } while (0)

#endif
