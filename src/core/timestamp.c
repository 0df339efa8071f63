/* timestamp: UTC microsecond clock and its API and database text forms. */
#include "core/timestamp.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t timestamp_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Splits into whole seconds and microseconds, rounding towards -inf. */
static void split(int64_t us, time_t *secs, int *micros)
{
    int64_t s = us / 1000000;
    int64_t m = us % 1000000;

    if (m < 0) {
        m += 1000000;
        s -= 1;
    }
    *secs = (time_t)s;
    *micros = (int)m;
}

/* The proleptic Gregorian date of a day counted from 1970-01-01. */
static void civil_date(int64_t days, int64_t *year, int *month, int *day)
{
    /* Count from 0000-03-01, so that the leap day ends each year. */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (*month <= 2);
}

static char *put_digits(char *p, int64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/*
 * Formats by hand rather than with gmtime_r and snprintf: every row of
 * a listing needs one, and those were a fifth of a listing's time (and
 * gmtime takes a process-wide lock).  Years outside 0-9999 keep the
 * printf form, sign and all.
 */
static void format(int64_t us, char sep, bool always_fraction,
                   char out[TIMESTAMP_TEXT_SIZE])
{
    time_t secs;
    int micros, month, day;
    int64_t year;

    split(us, &secs, &micros);
    int64_t days = (int64_t)secs / 86400;
    int64_t rest = (int64_t)secs % 86400;
    if (rest < 0) {
        rest += 86400;
        days -= 1;
    }
    civil_date(days, &year, &month, &day);

    char *p = out;
    if (year >= 0 && year <= 9999) {
        p = put_digits(p, year, 4);
    } else {
        p += snprintf(p, TIMESTAMP_TEXT_SIZE, "%04" PRId64, year);
    }
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = sep;
    p = put_digits(p, rest / 3600, 2);
    *p++ = ':';
    p = put_digits(p, rest / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, rest % 60, 2);
    if (micros != 0 || always_fraction) {
        *p++ = '.';
        p = put_digits(p, micros, 6);
    }
    *p = '\0';
}

void timestamp_format_api(int64_t us, char out[TIMESTAMP_TEXT_SIZE])
{
    format(us, 'T', false, out);
}

void timestamp_format_db(int64_t us, char out[TIMESTAMP_TEXT_SIZE])
{
    format(us, ' ', true, out);
}

/* Reads exactly `width` digits; returns -1 if any is not a digit. */
static int digits(const char *p, int width)
{
    int v = 0;

    for (int i = 0; i < width; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool timestamp_parse(const char *t, int64_t *us)
{
    if (strlen(t) < 19 || t[4] != '-' || t[7] != '-' ||
        (t[10] != ' ' && t[10] != 'T') || t[13] != ':' || t[16] != ':')
        return false;

    int year = digits(t, 4), mon = digits(t + 5, 2), day = digits(t + 8, 2);
    int hour = digits(t + 11, 2), min = digits(t + 14, 2);
    int sec = digits(t + 17, 2);
    if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 ||
        hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60)
        return false;

    int micros = 0;
    const char *p = t + 19;
    if (*p == '.') {
        int scale = 100000;
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++) {
            micros += (*p - '0') * scale;
            scale /= 10;
        }
    }
    if (*p != '\0')
        return false;

    int64_t days = days_from_civil(year, mon, day);
    *us = ((days * 86400) + hour * 3600 + min * 60 + sec) * 1000000 + micros;
    return true;
}
