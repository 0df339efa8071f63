/*
 * Unit tests for core/text: the checks on user text (length in code
 * points, the ways UTF-8 can be invalid, NUL), case folding for search,
 * and the repair of stored bytes that are not UTF-8.
 */
#include "testutil.h"

#include "core/text.h"

#define E_ACUTE         "\xc3\xa9"         /* é, two bytes */
#define EURO            "\xe2\x82\xac"     /* €, three bytes */
#define EMOJI           "\xf0\x9f\x98\x80" /* U+1F600, four bytes */
#define FFFD            "\xef\xbf\xbd"     /* the replacement character */
#define COMBINING_ACUTE "\xcc\x81"         /* U+0301 */

/* `count` copies of `unit` in a malloc'd string. */
static char *repeat(const char *unit, size_t count)
{
    size_t n = strlen(unit);
    char *s = malloc(n * count + 1);

    assert_non_null(s);
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * n, unit, n);
    s[n * count] = '\0';
    return s;
}

static enum text_check check(const char *s, size_t len)
{
    return text_check(s, len, 250);
}

static void test_check_empty(void **state)
{
    (void)state;
    assert_int_equal(check("", 0), TEXT_EMPTY);
    assert_int_equal(check("a", 0), TEXT_EMPTY);
}

static void test_check_plain_text(void **state)
{
    (void)state;
    const char *s = "With great power comes great responsibility";

    assert_int_equal(check(s, strlen(s)), TEXT_OK);
    assert_int_equal(check("x", 1), TEXT_OK);
}

/* The limit counts code points, so multi-byte text may use more bytes. */
static void test_check_limit_counts_code_points(void **state)
{
    (void)state;
    char *two_byte_250 = repeat(E_ACUTE, 250);
    char *two_byte_251 = repeat(E_ACUTE, 251);
    char *four_byte_250 = repeat(EMOJI, 250);
    char *four_byte_251 = repeat(EMOJI, 251);
    char *mixed_250 = repeat("a" E_ACUTE EURO EMOJI "b", 50);
    char *mixed_251 = malloc(strlen(mixed_250) + 2);

    assert_non_null(mixed_251);
    strcpy(mixed_251, mixed_250);
    strcat(mixed_251, "z");

    assert_int_equal(check(two_byte_250, 500), TEXT_OK);
    assert_int_equal(check(two_byte_251, 502), TEXT_TOO_LONG);
    assert_int_equal(check(four_byte_250, 1000), TEXT_OK);
    assert_int_equal(check(four_byte_251, 1004), TEXT_TOO_LONG);
    assert_int_equal(check(mixed_250, strlen(mixed_250)), TEXT_OK);
    assert_int_equal(check(mixed_251, strlen(mixed_251)), TEXT_TOO_LONG);

    free(two_byte_250);
    free(two_byte_251);
    free(four_byte_250);
    free(four_byte_251);
    free(mixed_250);
    free(mixed_251);
}

static void test_check_uses_given_maximum(void **state)
{
    (void)state;
    assert_int_equal(text_check("abc", 3, 3), TEXT_OK);
    assert_int_equal(text_check("abcd", 4, 3), TEXT_TOO_LONG);
    assert_int_equal(text_check(E_ACUTE E_ACUTE, 4, 2), TEXT_OK);
}

static void assert_invalid(const char *s, size_t len)
{
    assert_int_equal(check(s, len), TEXT_INVALID_UTF8);
    assert_int_equal(text_length(s, len), -1);
}

static void test_check_invalid_sequences(void **state)
{
    (void)state;
    assert_invalid("\xff", 1);
    assert_invalid("\xfe", 1);
    assert_invalid("abc\x80", 4);              /* lone continuation byte */
    assert_invalid("\xc3", 1);                 /* truncated two-byte */
    assert_invalid("\xe2\x82", 2);             /* truncated three-byte */
    assert_invalid("\xf0\x9f\x98", 3);         /* truncated four-byte */
    assert_invalid("\xc3!", 2);                /* lead then ASCII */
    assert_invalid("caf\xe9", 4);              /* Latin-1, not UTF-8 */
    assert_invalid("\xf4\x90\x80\x80", 4);     /* past U+10FFFF */
    assert_invalid("\xf8\x88\x80\x80\x80", 5); /* five-byte form */
}

/* The same code point in more bytes than needed hides characters. */
static void test_check_overlong_encodings(void **state)
{
    (void)state;
    assert_invalid("\xc0\xaf", 2); /* '/' in two bytes */
    assert_invalid("\xc1\xbf", 2);
    assert_invalid("\xe0\x80\xaf", 3);     /* '/' in three bytes */
    assert_invalid("\xf0\x80\x80\xaf", 4); /* '/' in four bytes */
    assert_invalid("\xc0\x80", 2);         /* NUL in two bytes */
}

static void test_check_surrogates(void **state)
{
    (void)state;
    assert_invalid("\xed\xa0\x80", 3);                   /* U+D800 */
    assert_invalid("\xed\xbf\xbf", 3);                   /* U+DFFF */
    assert_invalid("\xed\xa0\xbd\xed\xb8\x80", 6);       /* CESU-8 pair */
    assert_int_equal(check("\xed\x9f\xbf", 3), TEXT_OK); /* U+D7FF */
    assert_int_equal(check("\xee\x80\x80", 3), TEXT_OK); /* U+E000 */
}

/* Checking does not stop at the limit: a bad byte later still counts. */
static void test_check_reports_invalid_past_the_limit(void **state)
{
    (void)state;
    char s[400];

    memset(s, 'a', sizeof(s));
    s[sizeof(s) - 1] = '\xff';
    assert_int_equal(check(s, sizeof(s)), TEXT_INVALID_UTF8);
}

static void test_check_embedded_nul(void **state)
{
    (void)state;
    assert_int_equal(check("ab\0cd", 5), TEXT_HAS_NUL);
    assert_int_equal(check("\0", 1), TEXT_HAS_NUL);
    assert_int_equal(check("ab\0", 3), TEXT_HAS_NUL);
}

static void test_check_describe(void **state)
{
    (void)state;
    char out[128];

    text_check_describe(TEXT_TOO_LONG, 250, out, sizeof(out));
    assert_non_null(strstr(out, "250"));
    text_check_describe(TEXT_EMPTY, 250, out, sizeof(out));
    assert_true(strlen(out) > 0);
    text_check_describe(TEXT_INVALID_UTF8, 250, out, sizeof(out));
    assert_non_null(strstr(out, "UTF-8"));
    text_check_describe(TEXT_HAS_NUL, 250, out, sizeof(out));
    assert_non_null(strstr(out, "NUL"));

    char tiny[8];
    text_check_describe(TEXT_TOO_LONG, 250, tiny, sizeof(tiny));
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void test_length(void **state)
{
    (void)state;
    assert_int_equal(text_length("", 0), 0);
    assert_int_equal(text_length("hello", 5), 5);
    assert_int_equal(text_length("h" E_ACUTE "llo", 6), 5);
    assert_int_equal(text_length(EURO EMOJI, 7), 2);
    /* NUL is a code point; text_check is what refuses it. */
    assert_int_equal(text_length("a\0b", 3), 3);
    assert_int_equal(text_length("ok\xff", 3), -1);
}

/* Folds s and compares the result and its reported length. */
static void assert_folds_to(const char *s, const char *expect)
{
    size_t len = 12345;
    char *folded = text_casefold(s, strlen(s), &len);

    assert_non_null(folded);
    assert_string_equal(folded, expect);
    assert_int_equal(len, strlen(expect));
    free(folded);
}

static void test_casefold_ascii_and_accents(void **state)
{
    (void)state;
    assert_folds_to("HeLLo World", "hello world");
    assert_folds_to("ÉCOLE", "école");
    assert_folds_to("école", "école");
    assert_folds_to("100% _\\'\"", "100% _\\'\"");
}

/* Full folding: one character may fold to several. */
static void test_casefold_sharp_s(void **state)
{
    (void)state;
    assert_folds_to("Straße", "strasse");
    assert_folds_to("STRASSE", "strasse");
    assert_folds_to("ẞ", "ss"); /* U+1E9E, the capital sharp s */
}

/* A decomposed é must fold equal to the precomposed one. */
static void test_casefold_composes(void **state)
{
    (void)state;
    assert_folds_to("e" COMBINING_ACUTE, "é");
    assert_folds_to("E" COMBINING_ACUTE "COLE", "école");
}

static void test_casefold_other_scripts(void **state)
{
    (void)state;
    assert_folds_to("ΣΟΦΙΑ", "σοφια");
    assert_folds_to("МИР", "мир");
    assert_folds_to(EMOJI, EMOJI);
}

static void test_casefold_edge_cases(void **state)
{
    (void)state;
    size_t len = 99;
    char *folded = text_casefold("", 0, &len);

    assert_non_null(folded);
    assert_string_equal(folded, "");
    assert_int_equal(len, 0);
    free(folded);

    folded = text_casefold("ABC", 3, NULL);
    assert_non_null(folded);
    assert_string_equal(folded, "abc");
    free(folded);

    /* Only len bytes are read. */
    folded = text_casefold("ABCDEF", 2, &len);
    assert_non_null(folded);
    assert_string_equal(folded, "ab");
    free(folded);

    assert_null(text_casefold("caf\xe9", 4, &len));
    assert_null(text_casefold("\xed\xa0\x80", 3, NULL));
    assert_null(text_casefold("\xc0\xaf", 2, NULL));
}

static void assert_sanitizes_to(const char *s, size_t len, const char *expect)
{
    char *clean = text_sanitize(s, len);

    assert_non_null(clean);
    assert_string_equal(clean, expect);
    assert_int_equal(text_check(clean, strlen(clean), 10000), TEXT_OK);
    free(clean);
}

static void test_sanitize_keeps_valid_text(void **state)
{
    (void)state;
    const char *s = "caf" E_ACUTE " " EURO " " EMOJI;

    assert_sanitizes_to(s, strlen(s), s);
    /* Only len bytes are read. */
    assert_sanitizes_to("abcdef", 3, "abc");
}

static void test_sanitize_replaces_bad_bytes(void **state)
{
    (void)state;
    assert_sanitizes_to("caf\xe9", 4, "caf" FFFD);
    assert_sanitizes_to("a\xffz", 3, "a" FFFD "z");
    assert_sanitizes_to("\x80x", 2, FFFD "x");
    assert_sanitizes_to("a\0b", 3, "a" FFFD "b");
    /* No prefix of a surrogate is valid, so each byte is replaced. */
    assert_sanitizes_to("ok " E_ACUTE "\xed\xa0\x80", 8,
                        "ok " E_ACUTE FFFD FFFD FFFD);
}

/* However broken the input, the output is valid and keeps good parts. */
static void test_sanitize_output_always_valid(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "\xc0\xaf",         "\xe2\x82", "\xf0\x9f\x98",
        "\xf4\x90\x80\x80", "\xc3!",    "\xfe\xff",
    };

    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        size_t len = strlen(inputs[i]);
        char *clean = text_sanitize(inputs[i], len);

        assert_non_null(clean);
        assert_int_equal(text_check(clean, strlen(clean), 1000), TEXT_OK);
        assert_non_null(strstr(clean, FFFD));
        free(clean);
    }
}

static void test_sanitize_empty(void **state)
{
    (void)state;
    char *clean = text_sanitize("", 0);

    assert_non_null(clean);
    assert_string_equal(clean, "");
    free(clean);
}

/* Stored text folds like checked text, and bad bytes never stop it. */
static void test_casefold_stored(void **state)
{
    (void)state;
    size_t len;
    char *folded = text_casefold_stored("\xc3\x89"
                                        "COLE",
                                        6, &len);

    assert_string_equal(folded, "\xc3\xa9"
                                "cole");
    assert_int_equal(len, strlen(folded));
    free(folded);

    folded = text_casefold_stored("AB\xff"
                                  "CD",
                                  5, &len);
    assert_string_equal(folded, "ab\xef\xbf\xbd"
                                "cd");
    assert_int_equal(len, strlen(folded));
    free(folded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_empty),
        cmocka_unit_test(test_check_plain_text),
        cmocka_unit_test(test_check_limit_counts_code_points),
        cmocka_unit_test(test_check_uses_given_maximum),
        cmocka_unit_test(test_check_invalid_sequences),
        cmocka_unit_test(test_check_overlong_encodings),
        cmocka_unit_test(test_check_surrogates),
        cmocka_unit_test(test_check_reports_invalid_past_the_limit),
        cmocka_unit_test(test_check_embedded_nul),
        cmocka_unit_test(test_check_describe),
        cmocka_unit_test(test_length),
        cmocka_unit_test(test_casefold_ascii_and_accents),
        cmocka_unit_test(test_casefold_sharp_s),
        cmocka_unit_test(test_casefold_composes),
        cmocka_unit_test(test_casefold_other_scripts),
        cmocka_unit_test(test_casefold_edge_cases),
        cmocka_unit_test(test_sanitize_keeps_valid_text),
        cmocka_unit_test(test_sanitize_replaces_bad_bytes),
        cmocka_unit_test(test_sanitize_output_always_valid),
        cmocka_unit_test(test_sanitize_empty),
        cmocka_unit_test(test_casefold_stored),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
