/*
 * buf: a growable byte buffer that always keeps a NUL after its content.
 *
 * A buffer owns its memory; buf_free() releases it and leaves the buffer
 * empty and reusable.  Allocation failure ends the process (see xalloc.h),
 * so none of these functions can fail.
 */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
};

#define BUF_INIT                                                               \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Drops the first n bytes, keeping the rest. */
void buf_consume(struct buf *b, size_t n);

/* Empties the buffer but keeps its memory for reuse. */
void buf_reset(struct buf *b);

void buf_free(struct buf *b);

/* The content as a C string; "" for a buffer never written to. */
const char *buf_str(const struct buf *b);

#endif
