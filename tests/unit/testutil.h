/*
 * testutil: what several unit tests need besides cmocka itself.
 *
 * Temporary directories (created fresh, removed whole), small files, and
 * a lookup over NULL-terminated name/value lists for the config_getter
 * stubs.  Everything is static inline so that a test file pays only for
 * what it uses and no helper needs a prototype.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

/* cmocka needs these before its own header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A new empty directory under $TMPDIR (or /tmp); the caller frees it. */
static inline char *testutil_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char path[4096];

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(path, sizeof(path), "%s/thoughts-unit-XXXXXX", base);
    assert_non_null(mkdtemp(path));
    return strdup(path);
}

static inline int testutil_remove_entry(const char *path, const struct stat *st,
                                        int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

/* Removes path and everything below it, failing the test if it cannot. */
static inline void testutil_rmtree(const char *path)
{
    assert_int_equal(
        nftw(path, testutil_remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* Writes text to path, replacing the file. */
static inline void testutil_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* dir/name in out, failing the test if it does not fit. */
static inline void testutil_join(char *out, size_t size, const char *dir,
                                 const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);

    assert_true(n > 0 && (size_t)n < size);
}

/*
 * The value of `name` in pairs {"NAME", "value", ..., NULL}, or NULL, so
 * that a config_getter stub can answer from a table the test sets.
 */
static inline const char *testutil_lookup(const char *const *pairs,
                                          const char *name)
{
    if (pairs == NULL)
        return NULL;
    for (size_t i = 0; pairs[i] != NULL; i += 2) {
        if (strcmp(pairs[i], name) == 0)
            return pairs[i + 1];
    }
    return NULL;
}

#endif
