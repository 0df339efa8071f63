/*
 * text: the UTF-8 rules for user-supplied strings, and Unicode case
 * folding for search.  Decoding and folding come from utf8proc.
 */
#ifndef CORE_TEXT_H
#define CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

enum text_check {
    TEXT_OK,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    TEXT_INVALID_UTF8,
    TEXT_HAS_NUL,
};

/*
 * Checks that s[0..len) is valid UTF-8 without NUL and holds between 1
 * and max_chars code points.
 */
enum text_check text_check(const char *s, size_t len, size_t max_chars);

/* Writes a short phrase explaining a check's result, for API errors. */
void text_check_describe(enum text_check result, size_t max_chars, char *out,
                         size_t size);

/* Number of code points in s[0..len), or -1 when it is not valid UTF-8. */
long text_length(const char *s, size_t len);

/*
 * Unicode case folding (with NFC composition) of s[0..len), so that
 * "ÉCOLE" and "école" fold to the same string.  Returns a malloc'd,
 * NUL-terminated string the caller frees, and its length in *out_len
 * when that is not NULL; NULL when s is not valid UTF-8.
 */
char *text_casefold(const char *s, size_t len, size_t *out_len);

/*
 * Copies s[0..len) replacing each invalid UTF-8 sequence (and NUL) with
 * U+FFFD, for data that reached the database without passing through
 * our checks.  Returns a malloc'd string the caller frees.
 */
char *text_sanitize(const char *s, size_t len);

/*
 * text_casefold() of stored text, which may hold bytes that are not
 * UTF-8 (rows written by hand): those are replaced as text_sanitize()
 * does before folding.  Never NULL; the caller frees the result.
 */
char *text_casefold_stored(const char *s, size_t len, size_t *out_len);

#endif
