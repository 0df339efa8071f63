/* text: UTF-8 validation, length and case folding on top of utf8proc. */
#include "core/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/buf.h"
#include "core/xalloc.h"

enum text_check text_check(const char *s, size_t len, size_t max_chars)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t chars = 0;
    bool too_long = false;

    if (len == 0)
        return TEXT_EMPTY;
    /* Decode everything, so that a long invalid string says "invalid". */
    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (n < 0)
            return TEXT_INVALID_UTF8;
        if (cp == 0)
            return TEXT_HAS_NUL;
        p += n;
        len -= (size_t)n;
        if (++chars > max_chars)
            too_long = true;
    }
    return too_long ? TEXT_TOO_LONG : TEXT_OK;
}

void text_check_describe(enum text_check result, size_t max_chars, char *out,
                         size_t size)
{
    switch (result) {
    case TEXT_OK:
        snprintf(out, size, "is valid");
        break;
    case TEXT_EMPTY:
        snprintf(out, size, "must not be empty");
        break;
    case TEXT_TOO_LONG:
        snprintf(out, size, "must be at most %zu characters long", max_chars);
        break;
    case TEXT_INVALID_UTF8:
        snprintf(out, size, "must be valid UTF-8");
        break;
    case TEXT_HAS_NUL:
        snprintf(out, size, "must not contain NUL characters");
        break;
    }
}

long text_length(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    long chars = 0;

    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
        chars++;
    }
    return chars;
}

char *text_casefold(const char *s, size_t len, size_t *out_len)
{
    utf8proc_uint8_t *folded = NULL;
    utf8proc_option_t options =
        UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;

    if (len == 0) {
        if (out_len != NULL)
            *out_len = 0;
        return xstrdup("");
    }
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)s,
                                      (utf8proc_ssize_t)len, &folded, options);
    if (n == UTF8PROC_ERROR_NOMEM)
        xalloc_die(len * 4);
    if (n < 0)
        return NULL;
    if (out_len != NULL)
        *out_len = (size_t)n;
    return (char *)folded;
}

char *text_sanitize(const char *s, size_t len)
{
    static const char replacement[] = "\xef\xbf\xbd";
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    struct buf out = BUF_INIT;

    while (len > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, (utf8proc_ssize_t)len, &cp);
        if (n < 0 || cp == 0) {
            buf_append(&out, replacement, 3);
            n = 1;
        } else {
            buf_append(&out, p, (size_t)n);
        }
        p += n;
        len -= (size_t)n;
    }
    if (out.data == NULL)
        return xstrdup("");
    return out.data;
}

char *text_casefold_stored(const char *s, size_t len, size_t *out_len)
{
    char *folded = text_casefold(s, len, out_len);

    if (folded == NULL) {
        char *clean = text_sanitize(s, len);
        folded = text_casefold(clean, strlen(clean), out_len);
        free(clean);
    }
    return folded;
}
