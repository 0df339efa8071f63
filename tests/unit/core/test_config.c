/*
 * Unit tests for core/config: defaults, the parsing and bounds of each
 * setting type, cross-setting rules, secrets kept out of messages, and
 * the env file reader.  Settings come from a stub getter over a table
 * each test sets, so the real environment cannot leak in.
 */
#include "testutil.h"

#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

static const char *const *stub_env;

static const char *stub_get(const char *name)
{
    return testutil_lookup(stub_env, name);
}

/* Loads with the given pairs, expecting success. */
static void load_ok(struct config *cfg, const char *const *pairs)
{
    char err[512] = "";

    stub_env = pairs;
    if (!config_load(cfg, stub_get, err, sizeof(err)))
        fail_msg("config_load failed: %s", err);
}

/* Loads with the given pairs, expecting a refusal; returns the message. */
static void load_fails(const char *const *pairs, char *err, size_t size)
{
    struct config cfg;

    err[0] = '\0';
    stub_env = pairs;
    assert_false(config_load(&cfg, stub_get, err, size));
    assert_true(strlen(err) > 0);
    config_free(&cfg);
}

static void assert_refused_naming(const char *const *pairs, const char *name)
{
    char err[512];

    load_fails(pairs, err, sizeof(err));
    if (strstr(err, name) == NULL)
        fail_msg("message \"%s\" does not name %s", err, name);
}

static void test_defaults(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    struct config cfg;

    load_ok(&cfg, none);
    assert_int_equal(cfg.engine, ENGINE_SQLITE);
    assert_int_equal(cfg.port, 8000);
    assert_string_equal(cfg.data_dir, "data");
    assert_string_equal(cfg.sqlite_path, "data/thoughts.db");
    assert_true(cfg.admin_auth);
    assert_true(cfg.access_log);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.postgres_port, 5432);
    assert_string_equal(cfg.postgres_host, "localhost");
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_true(cfg.workers >= 1);
    assert_string_equal(cfg.public_key, "");
    assert_string_equal(cfg.public_key_file, "");
    assert_string_equal(cfg.postgres_password, "");
    config_free(&cfg);
}

static void test_sqlite_path_follows_data_dir(void **state)
{
    (void)state;
    static const char *const dir[] = {"DATA_DIR", "/srv/thoughts", NULL};
    static const char *const both[] = {"DATA_DIR", "/srv/thoughts",
                                       "SQLITE_PATH", "/var/db/t.sqlite", NULL};
    struct config cfg;

    load_ok(&cfg, dir);
    assert_string_equal(cfg.data_dir, "/srv/thoughts");
    assert_string_equal(cfg.sqlite_path, "/srv/thoughts/thoughts.db");
    config_free(&cfg);

    load_ok(&cfg, both);
    assert_string_equal(cfg.sqlite_path, "/var/db/t.sqlite");
    config_free(&cfg);
}

static void test_empty_data_dir_refused(void **state)
{
    (void)state;
    static const char *const env[] = {"DATA_DIR", "", NULL};

    assert_refused_naming(env, "DATA_DIR");
}

static void test_port_bounds(void **state)
{
    (void)state;
    static const char *const low[] = {"PORT", "1", NULL};
    static const char *const high[] = {"PORT", "65535", NULL};
    struct config cfg;

    load_ok(&cfg, low);
    assert_int_equal(cfg.port, 1);
    config_free(&cfg);
    load_ok(&cfg, high);
    assert_int_equal(cfg.port, 65535);
    config_free(&cfg);
}

static void test_port_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "0", "65536", "abc", "80x", "", "-1", "8.5", "999999999999999999999"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *env[] = {"PORT", bad[i], NULL};
        char err[512];

        load_fails(env, err, sizeof(err));
        if (strstr(err, "PORT") == NULL)
            fail_msg("PORT=%s: message \"%s\" does not name PORT", bad[i], err);
    }
}

/* The message should tell the operator what would have been accepted. */
static void test_port_message_gives_range(void **state)
{
    (void)state;
    static const char *const env[] = {"PORT", "abc", NULL};
    char err[512];

    load_fails(env, err, sizeof(err));
    assert_non_null(strstr(err, "abc"));
    assert_non_null(strstr(err, "65535"));
}

static void test_other_int_bounds(void **state)
{
    (void)state;
    static const char *const pg[] = {"POSTGRES_PORT", "0", NULL};
    static const char *const workers[] = {"WORKERS", "0", NULL};
    static const char *const body[] = {"MAX_BODY_BYTES", "10", NULL};

    assert_refused_naming(pg, "POSTGRES_PORT");
    assert_refused_naming(workers, "WORKERS");
    assert_refused_naming(body, "MAX_BODY_BYTES");
}

static void test_admin_auth_switch(void **state)
{
    (void)state;
    static const char *const off[] = {"off", "false", "0",
                                      "no",  "OFF",   "False"};
    static const char *const on[] = {"on", "true", "1", "yes", "ON", "True"};
    struct config cfg;

    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
        const char *env[] = {"ADMIN_AUTH", off[i], NULL};
        load_ok(&cfg, env);
        if (cfg.admin_auth)
            fail_msg("ADMIN_AUTH=%s left admin auth on", off[i]);
        config_free(&cfg);
    }
    for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        const char *env[] = {"ADMIN_AUTH", on[i], NULL};
        load_ok(&cfg, env);
        if (!cfg.admin_auth)
            fail_msg("ADMIN_AUTH=%s turned admin auth off", on[i]);
        config_free(&cfg);
    }
}

static void test_admin_auth_refused(void **state)
{
    (void)state;
    static const char *const maybe[] = {"ADMIN_AUTH", "maybe", NULL};
    static const char *const empty[] = {"ADMIN_AUTH", "", NULL};

    assert_refused_naming(maybe, "ADMIN_AUTH");
    assert_refused_naming(empty, "ADMIN_AUTH");
}

static void test_engine_choice_any_case(void **state)
{
    (void)state;
    static const char *const names[] = {"postgresql", "POSTGRESQL",
                                        "PostgreSQL"};
    static const char *const sqlite[] = {"DATABASE_ENGINE", "sqlite", NULL};
    struct config cfg;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *env[] = {"DATABASE_ENGINE", names[i], NULL};
        load_ok(&cfg, env);
        assert_int_equal(cfg.engine, ENGINE_POSTGRESQL);
        config_free(&cfg);
    }
    load_ok(&cfg, sqlite);
    assert_int_equal(cfg.engine, ENGINE_SQLITE);
    config_free(&cfg);
}

static void test_engine_refused(void **state)
{
    (void)state;
    static const char *const env[] = {"DATABASE_ENGINE", "mysql", NULL};
    char err[512];

    load_fails(env, err, sizeof(err));
    assert_non_null(strstr(err, "DATABASE_ENGINE"));
    assert_non_null(strstr(err, "POSTGRESQL"));
}

static void test_log_level(void **state)
{
    (void)state;
    static const char *const debug[] = {"LOG_LEVEL", "DEBUG", NULL};
    static const char *const error[] = {"LOG_LEVEL", "error", NULL};
    static const char *const verbose[] = {"LOG_LEVEL", "verbose", NULL};
    struct config cfg;

    load_ok(&cfg, debug);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    config_free(&cfg);
    load_ok(&cfg, error);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    config_free(&cfg);
    assert_refused_naming(verbose, "LOG_LEVEL");
}

static void test_strings_are_copied(void **state)
{
    (void)state;
    char host[] = "db.example";
    const char *env[] = {"POSTGRES_HOST", host, "BIND_ADDRESS", "::1", NULL};
    struct config cfg;

    load_ok(&cfg, env);
    host[0] = 'X';
    assert_string_equal(cfg.postgres_host, "db.example");
    assert_string_equal(cfg.bind_address, "::1");
    config_free(&cfg);
}

static void test_public_key_and_file_refused(void **state)
{
    (void)state;
    static const char *const env[] = {"PUBLIC_KEY",
                                      "-----BEGIN PUBLIC KEY-----",
                                      "PUBLIC_KEY_FILE", "/etc/key.pem", NULL};
    static const char *const one[] = {"PUBLIC_KEY_FILE", "/etc/key.pem", NULL};
    char err[512];
    struct config cfg;

    load_fails(env, err, sizeof(err));
    assert_non_null(strstr(err, "PUBLIC_KEY "));
    assert_non_null(strstr(err, "PUBLIC_KEY_FILE"));

    load_ok(&cfg, one);
    assert_string_equal(cfg.public_key_file, "/etc/key.pem");
    config_free(&cfg);
}

/* Whatever goes wrong, the password must not reach the message. */
static void test_password_never_in_message(void **state)
{
    (void)state;
    static const char *const bad_port[] = {
        "POSTGRES_PASSWORD", "hunter2-secret", "PORT", "abc", NULL};
    static const char *const bad_pg_port[] = {
        "POSTGRES_PASSWORD", "hunter2-secret", "POSTGRES_PORT", "x", NULL};
    static const char *const both_keys[] = {"POSTGRES_PASSWORD",
                                            "hunter2-secret",
                                            "PUBLIC_KEY",
                                            "a",
                                            "PUBLIC_KEY_FILE",
                                            "b",
                                            NULL};
    static const char *const *const cases[] = {bad_port, bad_pg_port,
                                               both_keys};
    struct config cfg;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[512];
        load_fails(cases[i], err, sizeof(err));
        if (strstr(err, "hunter2") != NULL)
            fail_msg("message echoes the password: %s", err);
    }

    static const char *const ok[] = {"POSTGRES_PASSWORD", "hunter2-secret",
                                     NULL};
    load_ok(&cfg, ok);
    assert_string_equal(cfg.postgres_password, "hunter2-secret");
    config_free(&cfg);
}

/* Runs config_log_summary with stderr sent to a file; returns the text. */
static char *capture_summary(const struct config *cfg)
{
    FILE *tmp = tmpfile();
    char *text = calloc(1, 65536);

    assert_non_null(tmp);
    assert_non_null(text);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    log_set_level(LOG_INFO);
    config_log_summary(cfg);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);

    rewind(tmp);
    size_t n = fread(text, 1, 65535, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

/* The start-up summary shows every setting but masks the password. */
static void test_summary_masks_password(void **state)
{
    (void)state;
    static const char *const env[] = {"POSTGRES_PASSWORD", "hunter2-secret",
                                      "PORT", "8123", NULL};
    struct config cfg;

    load_ok(&cfg, env);
    char *text = capture_summary(&cfg);
    assert_null(strstr(text, "hunter2"));
    assert_non_null(strstr(text, "POSTGRES_PASSWORD"));
    assert_non_null(strstr(text, "PORT=8123"));
    free(text);
    config_free(&cfg);
}

/* A tiny error buffer truncates the message rather than overflowing. */
static void test_small_error_buffer(void **state)
{
    (void)state;
    static const char *const env[] = {"PORT", "abc", NULL};
    char err[8];

    load_fails(env, err, sizeof(err));
    assert_int_equal(strlen(err), sizeof(err) - 1);
}

/* --help is where operators look: every contract variable must be there. */
static void test_help_lists_contract_variables(void **state)
{
    (void)state;
    static const char *const names[] = {
        "DATABASE_ENGINE", "POSTGRES_HOST",     "POSTGRES_PORT", "POSTGRES_DB",
        "POSTGRES_USER",   "POSTGRES_PASSWORD", "PORT",          "SQLITE_PATH",
        "PUBLIC_KEY",      "PUBLIC_KEY_FILE",   "ADMIN_AUTH",
    };
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);

    assert_non_null(out);
    config_print_help(out);
    assert_int_equal(fclose(out), 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strstr(text, names[i]) == NULL)
            fail_msg("--help does not list %s", names[i]);
    }
    assert_non_null(strstr(text, "8000"));
    free(text);
}

/* Parses a copy of line; returns the result and copies key and value. */
static int parse_line(const char *line, char *key, char *value)
{
    char copy[256];
    char *k = NULL, *v = NULL;

    snprintf(copy, sizeof(copy), "%s", line);
    int r = config_parse_env_line(copy, &k, &v);
    key[0] = value[0] = '\0';
    if (r == 1) {
        assert_non_null(k);
        assert_non_null(v);
        strcpy(key, k);
        strcpy(value, v);
    }
    return r;
}

static void assert_pair(const char *line, const char *key, const char *value)
{
    char k[256], v[256];

    if (parse_line(line, k, v) != 1)
        fail_msg("line \"%s\" was not read as a pair", line);
    assert_string_equal(k, key);
    assert_string_equal(v, value);
}

static void test_env_line_pairs(void **state)
{
    (void)state;
    assert_pair("PORT=8000", "PORT", "8000");
    assert_pair("PORT=8000\n", "PORT", "8000");
    assert_pair("PORT=8000\r\n", "PORT", "8000");
    assert_pair("  PORT = 8000  ", "PORT", "8000");
    assert_pair("export PORT=8000", "PORT", "8000");
    assert_pair("export   LOG_LEVEL=debug", "LOG_LEVEL", "debug");
    assert_pair("_under_score9=x", "_under_score9", "x");
    assert_pair("EMPTY=", "EMPTY", "");
}

static void test_env_line_quotes(void **state)
{
    (void)state;
    assert_pair("A=\"quoted value\"", "A", "quoted value");
    assert_pair("A='single quoted'", "A", "single quoted");
    assert_pair("A=\"\"", "A", "");
    assert_pair("A=\"#not a comment\"", "A", "#not a comment");
    /* Only a matching outer pair is removed. */
    assert_pair("A=\"mismatched'", "A", "\"mismatched'");
    assert_pair("A=\"", "A", "\"");
    assert_pair("A=it's", "A", "it's");
    assert_pair("A=\"say \"hi\"\"", "A", "say \"hi\"");
}

static void test_env_line_equals_in_value(void **state)
{
    (void)state;
    assert_pair("URL=postgres://u:p@h/db?a=b", "URL",
                "postgres://u:p@h/db?a=b");
    assert_pair("B64=abc==", "B64", "abc==");
    assert_pair("A==", "A", "=");
}

static void test_env_line_comments_and_blanks(void **state)
{
    (void)state;
    static const char *const skipped[] = {
        "",        "\n", "   ", "\t\r\n", "# comment", "   # indented comment",
        "#PORT=1",
    };
    char k[256], v[256];

    for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++) {
        if (parse_line(skipped[i], k, v) != 0)
            fail_msg("line \"%s\" was not skipped", skipped[i]);
    }
}

static void test_env_line_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "JUSTTEXT", "=value", "1PORT=1", "PO-RT=1",   "PO RT=1",
        "export",   "PÖRT=1", "A.B=1",   "export =1",
    };
    char k[256], v[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_line(bad[i], k, v) != -1)
            fail_msg("line \"%s\" was not refused", bad[i]);
    }
}

/* Variables private to this test, so nothing else sees them. */
#define VAR_SET  "THOUGHTS_UNIT_SET"
#define VAR_NEW  "THOUGHTS_UNIT_NEW"
#define VAR_QUOT "THOUGHTS_UNIT_QUOTED"

struct env_file_state {
    char *dir;
    char path[4200];
};

static int env_file_setup(void **state)
{
    struct env_file_state *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return -1;
    s->dir = testutil_mkdtemp();
    testutil_join(s->path, sizeof(s->path), s->dir, "test.env");
    unsetenv(VAR_SET);
    unsetenv(VAR_NEW);
    unsetenv(VAR_QUOT);
    *state = s;
    return 0;
}

static int env_file_teardown(void **state)
{
    struct env_file_state *s = *state;

    unsetenv(VAR_SET);
    unsetenv(VAR_NEW);
    unsetenv(VAR_QUOT);
    testutil_rmtree(s->dir);
    free(s->dir);
    free(s);
    return 0;
}

static void test_env_file_environment_wins(void **state)
{
    struct env_file_state *s = *state;
    char err[512] = "";

    testutil_write_file(s->path, "# settings for a test\n"
                                 "\n"
                                 "THOUGHTS_UNIT_SET=from-file\n"
                                 "export THOUGHTS_UNIT_NEW=new=value\n"
                                 "THOUGHTS_UNIT_QUOTED=\"a b\"\n");
    assert_int_equal(setenv(VAR_SET, "from-environment", 1), 0);

    if (!config_read_env_file(s->path, err, sizeof(err)))
        fail_msg("config_read_env_file failed: %s", err);
    assert_string_equal(getenv(VAR_SET), "from-environment");
    assert_string_equal(getenv(VAR_NEW), "new=value");
    assert_string_equal(getenv(VAR_QUOT), "a b");
}

static void test_env_file_last_line_without_newline(void **state)
{
    struct env_file_state *s = *state;
    char err[512] = "";

    testutil_write_file(s->path, "THOUGHTS_UNIT_NEW=tail");
    assert_true(config_read_env_file(s->path, err, sizeof(err)));
    assert_string_equal(getenv(VAR_NEW), "tail");
}

static void test_env_file_malformed_line_number(void **state)
{
    struct env_file_state *s = *state;
    char err[512] = "";

    testutil_write_file(s->path, "# comment\n"
                                 "THOUGHTS_UNIT_NEW=ok\n"
                                 "\n"
                                 "this line is wrong\n"
                                 "THOUGHTS_UNIT_QUOTED=after\n");
    assert_false(config_read_env_file(s->path, err, sizeof(err)));
    if (strstr(err, "line 4") == NULL)
        fail_msg("message \"%s\" does not give line 4", err);
    assert_non_null(strstr(err, s->path));
    /* Reading stops at the bad line. */
    assert_null(getenv(VAR_QUOT));
}

static void test_env_file_missing(void **state)
{
    struct env_file_state *s = *state;
    char missing[4300];
    char err[4400] = "";

    testutil_join(missing, sizeof(missing), s->dir, "absent.env");
    assert_false(config_read_env_file(missing, err, sizeof(err)));
    assert_non_null(strstr(err, missing));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_sqlite_path_follows_data_dir),
        cmocka_unit_test(test_empty_data_dir_refused),
        cmocka_unit_test(test_port_bounds),
        cmocka_unit_test(test_port_refused),
        cmocka_unit_test(test_port_message_gives_range),
        cmocka_unit_test(test_other_int_bounds),
        cmocka_unit_test(test_admin_auth_switch),
        cmocka_unit_test(test_admin_auth_refused),
        cmocka_unit_test(test_engine_choice_any_case),
        cmocka_unit_test(test_engine_refused),
        cmocka_unit_test(test_log_level),
        cmocka_unit_test(test_strings_are_copied),
        cmocka_unit_test(test_public_key_and_file_refused),
        cmocka_unit_test(test_password_never_in_message),
        cmocka_unit_test(test_summary_masks_password),
        cmocka_unit_test(test_small_error_buffer),
        cmocka_unit_test(test_help_lists_contract_variables),
        cmocka_unit_test(test_env_line_pairs),
        cmocka_unit_test(test_env_line_quotes),
        cmocka_unit_test(test_env_line_equals_in_value),
        cmocka_unit_test(test_env_line_comments_and_blanks),
        cmocka_unit_test(test_env_line_malformed),
        cmocka_unit_test_setup_teardown(test_env_file_environment_wins,
                                        env_file_setup, env_file_teardown),
        cmocka_unit_test_setup_teardown(test_env_file_last_line_without_newline,
                                        env_file_setup, env_file_teardown),
        cmocka_unit_test_setup_teardown(test_env_file_malformed_line_number,
                                        env_file_setup, env_file_teardown),
        cmocka_unit_test_setup_teardown(test_env_file_missing, env_file_setup,
                                        env_file_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
