/*
 * log: operator-facing messages and the access log.
 *
 * Four levels, each with a rule:
 *   error   - the operator must act (start-up failed, database lost);
 *   warning - something is degraded or surprising but we carry on;
 *   info    - lifecycle: start-up summary, listening, shutting down;
 *   debug   - per-request detail, such as why a token was refused.
 * Messages go to stderr, one line each.  The access log (one line per
 * request) goes to stdout so that it can be collected separately.
 * Nothing logged here may contain a token or a password.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/* Text lines for people, or one JSON object per line for collectors. */
enum log_format { LOG_TEXT, LOG_JSON };

void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
void log_set_access(bool enabled);
void log_set_format(enum log_format format);

/*
 * The id of the request the calling thread is handling, put on every
 * line it logs; NULL between requests.  The string must stay valid until
 * it is replaced.
 */
void log_set_request_id(const char *id);

/* Parses "error", "warning", "info" or "debug"; returns false otherwise. */
bool log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_error(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)    log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_msg(LOG_DEBUG, __VA_ARGS__)

struct log_access_entry {
    const char *request_id;
    const char *route; /* the route template, never the raw path */
    const char *client;
    const char *method;
    const char *path;
    unsigned status;
    uint64_t bytes;
    double duration_ms;
};

void log_access(const struct log_access_entry *e);

#endif
