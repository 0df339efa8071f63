/*
 * Unit tests for api/respond: the JSON form of a thought, byte for byte
 * as the contract shows it (key order, separators, timestamp form), with
 * NULL columns and stored bytes that are not UTF-8.
 */
#include "testutil.h"

#include <jansson.h>

#include "api/respond.h"
#include "core/text.h"
#include "core/timestamp.h"

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

/*
 * What jansson writes for the same row with the flags the service used
 * before the direct writer (json_dumps, flags 0): the reference the
 * writer must match byte for byte.
 */
static json_t *jansson_column(const char *s, size_t len)
{
    if (s == NULL)
        return json_null();

    json_t *v = json_stringn(s, len);
    if (v == NULL) {
        char *clean = text_sanitize(s, len);
        v = json_string(clean);
        free(clean);
    }
    return v;
}

static char *jansson_thought(const struct thought *t)
{
    json_t *obj = json_object();

    json_object_set_new(obj, "id", json_integer(t->id));
    json_object_set_new(obj, "username",
                        jansson_column(t->username, t->username_len));
    json_object_set_new(obj, "text", jansson_column(t->text, t->text_len));
    if (t->has_timestamp) {
        char when[TIMESTAMP_TEXT_SIZE];
        timestamp_format_api(t->timestamp, when);
        json_object_set_new(obj, "timestamp", json_string(when));
    } else {
        json_object_set_new(obj, "timestamp", json_null());
    }
    char *text = json_dumps(obj, 0);
    json_decref(obj);
    assert_non_null(text);
    return text;
}

static void assert_same_as_jansson(const char *s, size_t len)
{
    struct thought t = row(42, "", "", true, JUNE_2019);
    struct buf out = BUF_INIT;

    /* s need not be NUL-terminated: set the columns by hand. */
    t.username = s;
    t.username_len = len;
    t.text = s;
    t.text_len = len;
    api_append_thought(&out, &t);
    char *expect = jansson_thought(&t);
    assert_int_equal(out.len, strlen(expect));
    assert_memory_equal(out.data, expect, out.len);
    free(expect);
    buf_free(&out);
}

/* Every single byte, alone and between ASCII letters. */
static void test_every_byte_as_jansson(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        char one[3] = {'a', (char)c, 'b'};
        assert_same_as_jansson(one + 1, 1);
        assert_same_as_jansson(one, 3);
    }
}

/* Quotes, escapes, slashes, non-ASCII, emoji and broken sequences. */
static void test_strings_as_jansson(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",
        "plain",
        "say \"hi\"",
        "back\\slash\\\\",
        "a/b </script>",
        "\b\f\n\r\t\x01\x1f\x7f",
        "élève ÉCOLE straße",
        "日本語のテキスト",
        "emoji 😀👍🏽 and 🇫🇷",
        "\xe2\x80\xa8 line and paragraph \xe2\x80\xa9 separators",
        "\xef\xbb\xbf bom, \xef\xbf\xbd replacement, \xef\xbf\xbf",
        "\xf4\x8f\xbf\xbf last code point",
        "\xc0\x80 overlong NUL",
        "\xe0\x80\xaf overlong slash",
        "\xed\xa0\x80 surrogate \xed\xbf\xbf",
        "\xf4\x90\x80\x80 past U+10FFFF",
        "\xf8\x88\x80\x80\x80 five bytes",
        "truncated \xe2\x82",
        "truncated at end \xf0\x9f\x98",
        "lone continuation \x80\xbf",
        "caf\xe9 latin-1",
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_same_as_jansson(cases[i], strlen(cases[i]));
    assert_same_as_jansson("nul \0 inside", 12);
}

/* Random strings over an alphabet rich in the bytes that matter. */
static void test_random_strings_as_jansson(void **state)
{
    (void)state;
    static const unsigned char alphabet[] = {
        'a',  ' ',  '"',  '\\', '/',  0,    '\n', 0x1f, 0x7f, 0x80,
        0xbf, 0xc2, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0,
        0x9f, 0x98, 0x80, 0xf4, 0x90, 0xc0, 0xff, 0xe0, 0xa0, 0xf5};
    unsigned seed = 12345;
    char s[40];

    for (int round = 0; round < 20000; round++) {
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 16) % sizeof(s);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = (char)alphabet[(seed >> 16) % sizeof(alphabet)];
        }
        assert_same_as_jansson(s, len);
    }
}

/* NULL columns, a missing timestamp and extreme ids, as jansson. */
static void test_nulls_and_ids_as_jansson(void **state)
{
    (void)state;
    static const int64_t ids[] = {0, 1, -1, INT64_MAX, INT64_MIN};

    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct thought t = row(ids[i], NULL, NULL, false, 0);
        struct buf out = BUF_INIT;
        api_append_thought(&out, &t);
        char *expect = jansson_thought(&t);
        assert_string_equal(buf_str(&out), expect);
        free(expect);
        buf_free(&out);
    }
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
        cmocka_unit_test(test_every_byte_as_jansson),
        cmocka_unit_test(test_strings_as_jansson),
        cmocka_unit_test(test_random_strings_as_jansson),
        cmocka_unit_test(test_nulls_and_ids_as_jansson),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
