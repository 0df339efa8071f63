/* Unit tests for core/fsdir.c: mkdir -p for data directories. */
#include "testutil.h"

#include <sys/stat.h>

#include "core/fsdir.h"

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_make_creates_every_parent(void **state)
{
    (void)state;
    char *base = testutil_mkdtemp();
    char path[4200], err[256];

    snprintf(path, sizeof(path), "%s/a/b/c", base);
    assert_true(fsdir_make(path, err, sizeof(err)));
    assert_true(is_dir(path));
    /* Existing directories are fine. */
    assert_true(fsdir_make(path, err, sizeof(err)));
    testutil_rmtree(base);
    free(base);
}

static void test_make_parent_of_a_file(void **state)
{
    (void)state;
    char *base = testutil_mkdtemp();
    char file[4200], dir[4200], err[256];

    snprintf(file, sizeof(file), "%s/x/y/thoughts.db", base);
    snprintf(dir, sizeof(dir), "%s/x/y", base);
    assert_true(fsdir_make_parent(file, err, sizeof(err)));
    assert_true(is_dir(dir));
    snprintf(file, sizeof(file), "%s/x/y/thoughts.db", base);
    assert_false(is_dir(file));
    testutil_rmtree(base);
    free(base);
}

static void test_make_parent_of_a_bare_name(void **state)
{
    (void)state;
    char err[256] = "";

    assert_true(fsdir_make_parent("thoughts.db", err, sizeof(err)));
    assert_true(fsdir_make_parent("/thoughts.db", err, sizeof(err)));
    assert_string_equal(err, "");
}

static void test_make_under_a_file_fails_with_a_message(void **state)
{
    (void)state;
    char *base = testutil_mkdtemp();
    char blocker[4200], path[4300], err[256] = "";

    snprintf(blocker, sizeof(blocker), "%s/plain", base);
    testutil_write_file(blocker, "");
    snprintf(path, sizeof(path), "%s/sub", blocker);
    assert_false(fsdir_make(path, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot create directory"));
    assert_non_null(strstr(err, path));
    testutil_rmtree(base);
    free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_creates_every_parent),
        cmocka_unit_test(test_make_parent_of_a_file),
        cmocka_unit_test(test_make_parent_of_a_bare_name),
        cmocka_unit_test(test_make_under_a_file_fails_with_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
