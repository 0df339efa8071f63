/* log: levelled messages to stderr and the access log to stdout. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <utf8proc.h>

static enum log_level current_level = LOG_INFO;
static bool access_enabled = true;
static enum log_format format = LOG_TEXT;
static _Thread_local const char *request_id;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_set_level(enum log_level level)
{
    current_level = level;
}

bool log_enabled(enum log_level level)
{
    return level <= current_level;
}

void log_set_access(bool enabled)
{
    access_enabled = enabled;
}

void log_set_format(enum log_format f)
{
    format = f;
}

void log_set_request_id(const char *id)
{
    request_id = id;
}

bool log_level_parse(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

const char *log_level_name(enum log_level level)
{
    return level_names[level];
}

/*
 * UTC wall-clock time with milliseconds, e.g. 2026-12-03T21:35:44.123Z.
 * Every access line needs one, so each thread keeps the formatted second
 * and only redoes gmtime and strftime when the second changes.
 */
static void format_now(char *out, size_t size)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[32];
    static _Thread_local size_t cached_len;
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached_len = strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
    if (size < cached_len + 6) {
        snprintf(out, size, "%s", cached);
        return;
    }
    memcpy(out, cached, cached_len);
    char *p = out + cached_len;
    p[0] = '.';
    p[1] = (char)('0' + ms / 100);
    p[2] = (char)('0' + ms / 10 % 10);
    p[3] = (char)('0' + ms % 10);
    p[4] = 'Z';
    p[5] = '\0';
}

/* Prints one JSON object as a line; jansson does the escaping. */
static void print_json(FILE *out, json_t *obj)
{
    char *line = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(6));

    json_decref(obj);
    if (line == NULL)
        return;
    fprintf(out, "%s\n", line);
    free(line);
}

/*
 * The length of the printable UTF-8 character at p, or 0 when the byte
 * at p must be escaped: ASCII controls, bytes that do not start a valid
 * sequence, and the C1 controls and line separators some viewers treat
 * as line breaks.
 */
static size_t printable(const unsigned char *p, size_t left)
{
    utf8proc_int32_t cp;

    if (*p < 0x80)
        return *p >= 0x20 && *p != 0x7f ? 1 : 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)left, &cp);
    if (n < 0 || cp < 0xa0 || cp == 0x2028 || cp == 0x2029)
        return 0;
    return (size_t)n;
}

/*
 * Copies text for the log, writing unprintable bytes as \xNN, and with
 * `quoted` also quotes and backslashes.  Paths and methods come from
 * clients: escaped, a request can never forge a log line, and a JSON
 * line always has valid UTF-8 to carry.
 */
static void escape_for_log(char *out, size_t size, const char *in, bool quoted)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t left = strlen(in);
    size_t n = 0;

    while (left > 0) {
        size_t len = printable(p, left);
        if (len == 1 && quoted && (*p == '"' || *p == '\\'))
            len = 0;
        if (len == 0) {
            if (n + 4 > size - 1)
                break;
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", *p);
            len = 1;
        } else {
            if (n + len > size - 1)
                break;
            memcpy(out + n, p, len);
            n += len;
        }
        p += len;
        left -= len;
    }
    out[n] = '\0';
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char when[40];
    char raw[1024];
    char text[1024];
    va_list ap;

    if (!log_enabled(level))
        return;
    format_now(when, sizeof(when));
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    /* Messages quote paths and library errors: keep them one line. */
    escape_for_log(text, sizeof(text), raw, false);

    if (format == LOG_JSON) {
        json_t *obj = json_pack("{s:s, s:s, s:s}", "time", when, "level",
                                level_names[level], "message", text);
        if (obj != NULL && request_id != NULL)
            json_object_set_new(obj, "request_id", json_string(request_id));
        print_json(stderr, obj);
        return;
    }
    /* One call per line: stdio locks the stream, so threads never mix. */
    if (request_id != NULL)
        fprintf(stderr, "%s %-7s [%s] %s\n", when, level_names[level],
                request_id, text);
    else
        fprintf(stderr, "%s %-7s %s\n", when, level_names[level], text);
}

void log_access(const struct log_access_entry *e)
{
    char when[40];
    char method[64];
    char path[1024];

    if (!access_enabled)
        return;
    format_now(when, sizeof(when));
    escape_for_log(method, sizeof(method), e->method, true);
    escape_for_log(path, sizeof(path), e->path, true);
    if (format == LOG_JSON) {
        json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "time",
                                when, "level", "info", "message", "request",
                                "request_id", e->request_id, "client",
                                e->client, "method", method, "path", path);
        if (obj == NULL)
            return;
        json_object_set_new(obj, "route", json_string(e->route));
        json_object_set_new(obj, "status", json_integer(e->status));
        json_object_set_new(obj, "bytes", json_integer((json_int_t)e->bytes));
        json_object_set_new(obj, "duration_ms", json_real(e->duration_ms));
        print_json(stdout, obj);
        fflush(stdout);
        return;
    }
    /* Formatted whole, then one write: no stdio locking per field. */
    char line[1536];
    int n =
        snprintf(line, sizeof(line), "%s %s \"%s %s\" %u %llu %.3fms %s\n",
                 when, e->client, method, path, e->status,
                 (unsigned long long)e->bytes, e->duration_ms, e->request_id);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line)) {
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    fwrite(line, 1, (size_t)n, stdout);
    fflush(stdout);
}
