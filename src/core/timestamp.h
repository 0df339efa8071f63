/*
 * timestamp: the service's clock and its two text forms.
 *
 * Times are microseconds since the Unix epoch, always UTC.  The API form
 * is ISO 8601 without a zone, with a 6-digit fraction only when the
 * microseconds are not zero; the database form is the one SQLAlchemy
 * writes, "YYYY-MM-DD HH:MM:SS.ffffff".
 */
#ifndef CORE_TIMESTAMP_H
#define CORE_TIMESTAMP_H

#include <stdbool.h>
#include <stdint.h>

#define TIMESTAMP_TEXT_SIZE 32

int64_t timestamp_now(void);

/* 2019-06-02T19:44:34.384178, or 2019-05-07T13:47:34 on a whole second. */
void timestamp_format_api(int64_t us, char out[TIMESTAMP_TEXT_SIZE]);

/* 2019-06-02 19:44:34.384178, always with the fraction. */
void timestamp_format_db(int64_t us, char out[TIMESTAMP_TEXT_SIZE]);

/*
 * Parses "YYYY-MM-DD HH:MM:SS" with a 'T' or a space between date and
 * time and an optional fraction of 1 to 6 digits (more are truncated), as
 * either database may hold it.  Returns false for anything else.
 */
bool timestamp_parse(const char *text, int64_t *us);

#endif
