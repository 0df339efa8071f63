/*
 * Unit tests for core/timestamp: the API and database text forms, times
 * before 1970, the parser's accepted shapes and fractions, and round
 * trips through both forms.
 */
#include "testutil.h"

#include <stdio.h>
#include <time.h>

#include "core/timestamp.h"

#define SECOND 1000000LL

/* 2019-06-02T19:44:34.384178 and 2019-05-07T13:47:34, the contract's. */
#define JUNE_2019 (1559504674LL * SECOND + 384178)
#define MAY_2019  (1557236854LL * SECOND)

static void assert_api(int64_t us, const char *expect)
{
    char out[TIMESTAMP_TEXT_SIZE];

    timestamp_format_api(us, out);
    assert_string_equal(out, expect);
}

static void assert_db(int64_t us, const char *expect)
{
    char out[TIMESTAMP_TEXT_SIZE];

    timestamp_format_db(us, out);
    assert_string_equal(out, expect);
}

static void assert_parses(const char *text, int64_t expect)
{
    int64_t us = -42;

    if (!timestamp_parse(text, &us))
        fail_msg("timestamp_parse refused \"%s\"", text);
    assert_int_equal(us, expect);
}

static void assert_refused(const char *text)
{
    int64_t us;

    if (timestamp_parse(text, &us))
        fail_msg("timestamp_parse accepted \"%s\"", text);
}

static void test_api_form_fraction_only_when_nonzero(void **state)
{
    (void)state;
    assert_api(JUNE_2019, "2019-06-02T19:44:34.384178");
    assert_api(MAY_2019, "2019-05-07T13:47:34");
    assert_api(0, "1970-01-01T00:00:00");
    assert_api(5, "1970-01-01T00:00:00.000005");
    assert_api(MAY_2019 + 100000, "2019-05-07T13:47:34.100000");
}

static void test_db_form_always_has_fraction(void **state)
{
    (void)state;
    assert_db(JUNE_2019, "2019-06-02 19:44:34.384178");
    assert_db(MAY_2019, "2019-05-07 13:47:34.000000");
    assert_db(0, "1970-01-01 00:00:00.000000");
}

/* Microseconds before the epoch still count forwards within a second. */
static void test_format_before_1970(void **state)
{
    (void)state;
    assert_api(-1, "1969-12-31T23:59:59.999999");
    assert_api(-SECOND, "1969-12-31T23:59:59");
    assert_api(-SECOND - 1, "1969-12-31T23:59:58.999999");
    assert_api(-14182940LL * SECOND + 500000, "1969-07-20T20:17:40.500000");
    assert_api(-2208988800LL * SECOND, "1900-01-01T00:00:00");
    assert_db(-1, "1969-12-31 23:59:59.999999");
}

static void test_parse_space_and_t(void **state)
{
    (void)state;
    assert_parses("2019-05-07 13:47:34", MAY_2019);
    assert_parses("2019-05-07T13:47:34", MAY_2019);
    assert_parses("2019-06-02 19:44:34.384178", JUNE_2019);
    assert_parses("2019-06-02T19:44:34.384178", JUNE_2019);
    assert_parses("1970-01-01 00:00:00", 0);
}

/* A fraction of n digits means n decimal places, not n microseconds. */
static void test_parse_fraction_digits(void **state)
{
    (void)state;
    assert_parses("2019-05-07 13:47:34.1", MAY_2019 + 100000);
    assert_parses("2019-05-07 13:47:34.12", MAY_2019 + 120000);
    assert_parses("2019-05-07 13:47:34.123", MAY_2019 + 123000);
    assert_parses("2019-05-07 13:47:34.1234", MAY_2019 + 123400);
    assert_parses("2019-05-07 13:47:34.12345", MAY_2019 + 123450);
    assert_parses("2019-05-07 13:47:34.123456", MAY_2019 + 123456);
    assert_parses("2019-05-07 13:47:34.000001", MAY_2019 + 1);
    assert_parses("2019-05-07 13:47:34.000000", MAY_2019);
}

static void test_parse_truncates_past_six_digits(void **state)
{
    (void)state;
    assert_parses("2019-05-07 13:47:34.1234567", MAY_2019 + 123456);
    assert_parses("2019-05-07 13:47:34.999999999", MAY_2019 + 999999);
    assert_parses("2019-05-07T13:47:34.0000009", MAY_2019);
}

static void test_parse_before_1970(void **state)
{
    (void)state;
    assert_parses("1969-12-31 23:59:59.999999", -1);
    assert_parses("1969-12-31T23:59:59", -SECOND);
    assert_parses("1900-01-01 00:00:00", -2208988800LL * SECOND);
}

/* The calendar arithmetic must agree with the C library's. */
static void test_parse_agrees_with_timegm(void **state)
{
    (void)state;
    static const char *const dates[] = {
        "2000-02-29 12:00:00", "2000-03-01 00:00:00", "1900-03-01 00:00:00",
        "2100-12-31 23:59:59", "1600-02-29 06:30:15", "2024-02-29 23:59:59",
        "1999-12-31 23:59:59", "0001-01-01 00:00:00", "9999-12-31 23:59:59",
    };

    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        struct tm tm;
        memset(&tm, 0, sizeof(tm));
        assert_non_null(strptime(dates[i], "%Y-%m-%d %H:%M:%S", &tm));
        int64_t expect = (int64_t)timegm(&tm) * SECOND;
        assert_parses(dates[i], expect);
    }
}

static void test_parse_refuses_garbage(void **state)
{
    (void)state;
    assert_refused("");
    assert_refused("yesterday");
    assert_refused("2019-05-07");
    assert_refused("2019-05-07 13:47");
    assert_refused("2019-05-07X13:47:34");
    assert_refused("2019/05/07 13:47:34");
    assert_refused("2019-05-07 13.47.34");
    assert_refused("20x9-05-07 13:47:34");
    assert_refused("2019-0a-07 13:47:34");
    assert_refused("2019-05-07 13:47:3x");
    assert_refused("2019-05-07 13:47:34 ");
    assert_refused(" 2019-05-07 13:47:34");
    assert_refused("2019-05-07 13:47:34Z");
    assert_refused("2019-05-07 13:47:34+00");
    assert_refused("2019-05-07 13:47:34.");
    assert_refused("2019-05-07 13:47:34.a");
    assert_refused("2019-05-07 13:47:34.12a");
    assert_refused("2019-05-07 13:47:34,123");
    assert_refused("-019-05-07 13:47:34");
}

static void test_parse_refuses_out_of_range_fields(void **state)
{
    (void)state;
    assert_refused("2019-00-07 13:47:34");
    assert_refused("2019-13-07 13:47:34");
    assert_refused("2019-05-00 13:47:34");
    assert_refused("2019-05-32 13:47:34");
    assert_refused("2019-05-07 24:00:00");
    assert_refused("2019-05-07 13:60:00");
    assert_refused("2019-05-07 13:47:61");
}

static void test_round_trip_both_forms(void **state)
{
    (void)state;
    static const int64_t values[] = {
        0,
        1,
        -1,
        999999,
        -999999,
        JUNE_2019,
        MAY_2019,
        -SECOND,
        -14182940LL * SECOND + 123,
        -2208988800LL * SECOND + 654321,
        4102444799LL * SECOND + 999999, /* 2099-12-31T23:59:59.999999 */
    };

    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char text[TIMESTAMP_TEXT_SIZE];
        int64_t back = 0;

        timestamp_format_api(values[i], text);
        assert_true(timestamp_parse(text, &back));
        assert_int_equal(back, values[i]);

        timestamp_format_db(values[i], text);
        back = 0;
        assert_true(timestamp_parse(text, &back));
        assert_int_equal(back, values[i]);
    }
}

static void test_now_is_the_wall_clock(void **state)
{
    (void)state;
    time_t before = time(NULL);
    int64_t now = timestamp_now();
    time_t after = time(NULL);

    assert_true(now >= (int64_t)before * SECOND);
    assert_true(now < ((int64_t)after + 1) * SECOND);
}

/* What gmtime_r and snprintf make of the same instant: the reference. */
static void reference_api_form(int64_t us, char *out, size_t size)
{
    time_t secs = (time_t)(us / 1000000);
    int micros = (int)(us % 1000000);
    struct tm tm;

    if (micros < 0) {
        micros += 1000000;
        secs -= 1;
    }
    gmtime_r(&secs, &tm);
    int n =
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (micros != 0)
        snprintf(out + n, size - (size_t)n, ".%06d", micros);
}

static void assert_like_gmtime(int64_t us)
{
    char got[TIMESTAMP_TEXT_SIZE], expect[64];

    timestamp_format_api(us, got);
    reference_api_form(us, expect, sizeof(expect));
    assert_string_equal(got, expect);
}

/* The hand-made calendar agrees with gmtime on every day of 1900-2200
 * and on random instants from year 1 to 9999, leap days included. */
static void test_format_agrees_with_gmtime(void **state)
{
    (void)state;
    const int64_t day = 86400LL * 1000000;
    const int64_t first = -2208988800LL * 1000000; /* 1900-01-01 */

    for (int64_t i = 0; i < 110000; i++)
        assert_like_gmtime(first + i * day + (i * 7919 % 86400) * 1000000 +
                           i % 3 * 123456);

    uint64_t seed = 42;
    const int64_t lo = -62135596800LL; /* 0001-01-01 */
    const int64_t span = 253402300800LL - lo;
    for (int i = 0; i < 100000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t secs = lo + (int64_t)((seed >> 11) % (uint64_t)span);
        assert_like_gmtime(secs * 1000000 + (int64_t)(seed % 1000000));
    }
    assert_like_gmtime(-1);
    assert_like_gmtime(951782400LL * 1000000); /* 2000-02-29 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_form_fraction_only_when_nonzero),
        cmocka_unit_test(test_db_form_always_has_fraction),
        cmocka_unit_test(test_format_before_1970),
        cmocka_unit_test(test_format_agrees_with_gmtime),
        cmocka_unit_test(test_parse_space_and_t),
        cmocka_unit_test(test_parse_fraction_digits),
        cmocka_unit_test(test_parse_truncates_past_six_digits),
        cmocka_unit_test(test_parse_before_1970),
        cmocka_unit_test(test_parse_agrees_with_timegm),
        cmocka_unit_test(test_parse_refuses_garbage),
        cmocka_unit_test(test_parse_refuses_out_of_range_fields),
        cmocka_unit_test(test_round_trip_both_forms),
        cmocka_unit_test(test_now_is_the_wall_clock),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
