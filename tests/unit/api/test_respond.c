/*
 * Unit tests for api/respond: the JSON form of a thought, byte for byte
 * as the contract shows it (key order, separators, timestamp form), with
 * NULL columns and stored bytes that are not UTF-8.
 */
#include "testutil.h"

#include <jansson.h>

#include "api/respond.h"

#define JUNE_2019 (1559504674LL * 1000000 + 384178)
#define MAY_2019  (1557236854LL * 1000000)

static struct thought row(int64_t id, const char *username, const char *text,
                          bool has_timestamp, int64_t timestamp)
{
    struct thought t;

    memset(&t, 0, sizeof(t));
    t.id = id;
    t.username = username;
    t.username_len = username != NULL ? strlen(username) : 0;
    t.text = text;
    t.text_len = text != NULL ? strlen(text) : 0;
    t.has_timestamp = has_timestamp;
    t.timestamp = timestamp;
    return t;
}

static void assert_json(const struct thought *t, const char *expect)
{
    struct buf out = BUF_INIT;

    api_append_thought(&out, t);
    assert_string_equal(buf_str(&out), expect);
    assert_int_equal(out.len, strlen(expect));
    buf_free(&out);
}

/* The contract's own example, exactly. */
static void test_contract_example(void **state)
{
    (void)state;
    struct thought t =
        row(1, "peterparker", "With great power...", true, JUNE_2019);

    assert_json(&t, "{\"id\": 1, \"username\": \"peterparker\", "
                    "\"text\": \"With great power...\", "
                    "\"timestamp\": \"2019-06-02T19:44:34.384178\"}");
}

static void test_whole_second_has_no_fraction(void **state)
{
    (void)state;
    struct thought t = row(7, "bruce", "hello", true, MAY_2019);

    assert_json(&t, "{\"id\": 7, \"username\": \"bruce\", "
                    "\"text\": \"hello\", "
                    "\"timestamp\": \"2019-05-07T13:47:34\"}");
}

/* Parsing the output back must show the keys in the contract's order. */
static void test_key_order(void **state)
{
    (void)state;
    static const char *const keys[] = {"id", "username", "text", "timestamp"};
    struct thought t = row(3, "a", "b", true, MAY_2019);
    struct buf out = BUF_INIT;

    api_append_thought(&out, &t);
    json_t *obj = json_loads(buf_str(&out), 0, NULL);
    assert_non_null(obj);
    assert_int_equal(json_object_size(obj), 4);
    void *it = json_object_iter(obj);
    for (size_t i = 0; i < 4; i++) {
        assert_non_null(it);
        assert_string_equal(json_object_iter_key(it), keys[i]);
        it = json_object_iter_next(obj, it);
    }
    assert_null(it);
    json_decref(obj);
    buf_free(&out);
}

static void test_null_columns(void **state)
{
    (void)state;
    struct thought t = row(5, NULL, NULL, false, 0);

    assert_json(&t, "{\"id\": 5, \"username\": null, \"text\": null, "
                    "\"timestamp\": null}");
}

static void test_empty_strings_are_not_null(void **state)
{
    (void)state;
    struct thought t = row(6, "", "", true, 0);

    assert_json(&t, "{\"id\": 6, \"username\": \"\", \"text\": \"\", "
                    "\"timestamp\": \"1970-01-01T00:00:00\"}");
}

/* Bytes stored by hand that are not UTF-8 are repaired, not refused. */
static void test_invalid_utf8_repaired(void **state)
{
    (void)state;
    struct thought t = row(8, "jos\xe9", "caf\xe9 \xff ok", true, MAY_2019);
    struct buf out = BUF_INIT;

    api_append_thought(&out, &t);
    json_t *obj = json_loads(buf_str(&out), 0, NULL);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "username")),
                        "jos\xef\xbf\xbd");
    assert_string_equal(json_string_value(json_object_get(obj, "text")),
                        "caf\xef\xbf\xbd \xef\xbf\xbd ok");
    json_decref(obj);
    buf_free(&out);
}

static void test_escapes_and_unicode(void **state)
{
    (void)state;
    struct thought t =
        row(9, "élève", "say \"hi\"\\\n\ttab </script>", true, MAY_2019 + 1);
    struct buf out = BUF_INIT;

    api_append_thought(&out, &t);
    json_t *obj = json_loads(buf_str(&out), 0, NULL);
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "username")),
                        "élève");
    assert_string_equal(json_string_value(json_object_get(obj, "text")),
                        "say \"hi\"\\\n\ttab </script>");
    assert_string_equal(json_string_value(json_object_get(obj, "timestamp")),
                        "2019-05-07T13:47:34.000001");
    /* One line: a raw newline would break line-oriented clients. */
    assert_null(strchr(buf_str(&out), '\n'));
    json_decref(obj);
    buf_free(&out);
}

/* Columns are borrowed with a length; nothing past it may be read. */
static void test_lengths_not_terminators(void **state)
{
    (void)state;
    struct thought t =
        row(10, "peterparker-and-more", "text-and-more", true, MAY_2019);

    t.username_len = 11;
    t.text_len = 4;
    assert_json(&t, "{\"id\": 10, \"username\": \"peterparker\", "
                    "\"text\": \"text\", "
                    "\"timestamp\": \"2019-05-07T13:47:34\"}");
}

static void test_large_id_and_old_timestamp(void **state)
{
    (void)state;
    struct thought t = row(INT64_MAX, "u", "t", true, -1);

    assert_json(&t, "{\"id\": 9223372036854775807, \"username\": \"u\", "
                    "\"text\": \"t\", "
                    "\"timestamp\": \"1969-12-31T23:59:59.999999\"}");
}

/* Listings build an array by appending thoughts to one buffer. */
static void test_appends_to_existing_content(void **state)
{
    (void)state;
    struct thought a = row(1, "a", "x", true, MAY_2019);
    struct thought b = row(2, "b", "y", false, 0);
    struct buf out = BUF_INIT;

    buf_puts(&out, "[");
    api_append_thought(&out, &a);
    buf_puts(&out, ", ");
    api_append_thought(&out, &b);
    buf_puts(&out, "]");

    json_t *arr = json_loads(buf_str(&out), 0, NULL);
    assert_non_null(arr);
    assert_int_equal(json_array_size(arr), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(arr, 0), "id")), 1);
    assert_true(
        json_is_null(json_object_get(json_array_get(arr, 1), "timestamp")));
    json_decref(arr);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_example),
        cmocka_unit_test(test_whole_second_has_no_fraction),
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_null_columns),
        cmocka_unit_test(test_empty_strings_are_not_null),
        cmocka_unit_test(test_invalid_utf8_repaired),
        cmocka_unit_test(test_escapes_and_unicode),
        cmocka_unit_test(test_lengths_not_terminators),
        cmocka_unit_test(test_large_id_and_old_timestamp),
        cmocka_unit_test(test_appends_to_existing_content),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
