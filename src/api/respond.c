/* api/respond: JSON bodies for every answer the API gives. */
#include "api/respond.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/xalloc.h"

/* Like Python's json.dumps: ", " and ": " separators, one line. */
#define DUMP_FLAGS 0

void api_send_json(struct http_request *req, unsigned status, json_t *value)
{
    char *text = json_dumps(value, DUMP_FLAGS | JSON_ENCODE_ANY);

    json_decref(value);
    if (text == NULL)
        xalloc_die(0);
    struct buf body = BUF_INIT;
    buf_puts(&body, text);
    buf_puts(&body, "\n");
    free(text);
    http_respond(req, status, "application/json", body.data, body.len);
    buf_free(&body);
}

void api_send_error(struct http_request *req, unsigned status,
                    const char *message)
{
    api_send_json(req, status, json_pack("{s:s}", "message", message));
}

void api_send_field_error(struct http_request *req, const char *field,
                          const char *problem)
{
    json_t *body =
        json_pack("{s:s, s:{s:s}}", "message",
                  "Input payload validation failed", "errors", field, problem);
    api_send_json(req, 400, body);
}

void api_send_store_error(struct http_request *req, enum store_result r)
{
    if (r == STORE_UNAVAILABLE) {
        http_add_header(req, "Retry-After", "1");
        api_send_error(req, 503,
                       "The database is unavailable; try again shortly");
        return;
    }
    api_send_error(req, 500, "Internal server error");
}

/*
 * The JSON form of a thought is written directly, not through jansson: a
 * listing writes thousands of rows, and an object per row (with its
 * allocations and a json_dumps) was a quarter of the time of one.  The
 * bytes are those jansson writes with DUMP_FLAGS: UTF-8 passed through
 * as is, '"' and '\\' escaped, control characters as \b \f \n \r \t or
 * \u00XX (upper-case hex), everything else (DEL and '/' too) verbatim.
 * tests/unit/api/test_respond.c compares the two on many strings.
 */

/* Length of the valid UTF-8 sequence at s[0..left), or 0 when invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    size_t n;
    unsigned cp;

    if (s[0] < 0xC2 || s[0] > 0xF4)
        return 0;
    if (s[0] < 0xE0) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] < 0xF0) {
        n = 3;
        cp = s[0] & 0x0F;
    } else {
        n = 4;
        cp = s[0] & 0x07;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

static bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_sequence(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* Appends s[0..len), valid UTF-8, as a quoted JSON string. */
static void append_escaped(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t run = 0;

    buf_append(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc;
        char seq[6];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            memcpy(seq, "\\u00", 4);
            seq[4] = hex[c >> 4];
            seq[5] = hex[c & 0x0F];
            buf_append(out, seq, sizeof(seq));
            continue;
        }
        buf_append(out, esc, 2);
    }
    buf_append(out, s + run, len - run);
    buf_append(out, "\"", 1);
}

/* A column as a JSON string, repairing invalid UTF-8; null for NULL. */
static void append_column(struct buf *out, const char *s, size_t len)
{
    if (s == NULL) {
        buf_append(out, "null", 4);
        return;
    }
    if (utf8_valid(s, len)) {
        append_escaped(out, s, len);
        return;
    }

    char *clean = text_sanitize(s, len);
    append_escaped(out, clean, strlen(clean));
    free(clean);
}

void api_append_thought(struct buf *out, const struct thought *t)
{
    char digits[24];
    char *p = digits + sizeof(digits);
    /* Digits by hand, from the end; negated unsigned, so INT64_MIN too. */
    uint64_t v = t->id < 0 ? 0 - (uint64_t)t->id : (uint64_t)t->id;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (t->id < 0)
        *--p = '-';

    buf_append(out, "{\"id\": ", 7);
    buf_append(out, p, (size_t)(digits + sizeof(digits) - p));
    buf_append(out, ", \"username\": ", 14);
    append_column(out, t->username, t->username_len);
    buf_append(out, ", \"text\": ", 10);
    append_column(out, t->text, t->text_len);
    buf_append(out, ", \"timestamp\": ", 15);
    if (t->has_timestamp) {
        char when[TIMESTAMP_TEXT_SIZE];
        timestamp_format_api(t->timestamp, when);
        append_escaped(out, when, strlen(when));
    } else {
        buf_append(out, "null", 4);
    }
    buf_append(out, "}", 1);
}
