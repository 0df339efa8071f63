/*
 * xalloc: allocation that never returns NULL.
 *
 * Running out of memory is not a condition this service can answer
 * usefully, so these print one line and abort instead.
 */
#ifndef CORE_XALLOC_H
#define CORE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Reports a failed allocation of `size` bytes and aborts. */
_Noreturn void xalloc_die(size_t size);

#endif
