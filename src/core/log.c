/* log: levelled messages to stderr and the access log to stdout. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

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

/* UTC wall-clock time with milliseconds, e.g. 2026-12-03T21:35:44.123Z. */
static void format_now(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
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

void log_msg(enum log_level level, const char *fmt, ...)
{
    char when[40];
    char text[1024];
    va_list ap;

    if (!log_enabled(level))
        return;
    format_now(when, sizeof(when));
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);

    if (format == LOG_JSON) {
        json_t *obj = json_pack("{s:s, s:s, s:s}", "time", when, "level",
                                level_names[level], "message", text);
        if (obj == NULL) /* text was not UTF-8; keep the line anyway */
            obj = json_pack("{s:s, s:s, s:s}", "time", when, "level",
                            level_names[level], "message", "(not UTF-8)");
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

/*
 * Copies a client-supplied string for the log, escaping control bytes,
 * quotes and backslashes so one request can never forge a log line.
 */
static void escape_for_log(char *out, size_t size, const char *in)
{
    size_t n = 0;

    for (; *in != '\0' && n + 5 < size; in++) {
        unsigned char c = (unsigned char)*in;
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = '\0';
}

void log_access(const struct log_access_entry *e)
{
    char when[40];
    char method[64];
    char path[1024];

    if (!access_enabled)
        return;
    format_now(when, sizeof(when));
    escape_for_log(method, sizeof(method), e->method);
    escape_for_log(path, sizeof(path), e->path);
    if (format == LOG_JSON) {
        json_t *obj =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "time", when, "level",
                      "info", "message", "request", "request_id", e->request_id,
                      "client", e->client, "method", method);
        json_t *p = json_string(path);
        json_object_set_new(obj, "path",
                            p != NULL ? p : json_string("(not UTF-8)"));
        json_object_set_new(obj, "route", json_string(e->route));
        json_object_set_new(obj, "status", json_integer(e->status));
        json_object_set_new(obj, "bytes", json_integer((json_int_t)e->bytes));
        json_object_set_new(obj, "duration_ms", json_real(e->duration_ms));
        print_json(stdout, obj);
    } else {
        fprintf(stdout, "%s %s \"%s %s\" %u %llu %.3fms %s\n", when, e->client,
                method, path, e->status, (unsigned long long)e->bytes,
                e->duration_ms, e->request_id);
    }
    fflush(stdout);
}
