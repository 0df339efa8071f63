/*
 * fsdir: creating the directories the service keeps its files in.
 *
 * Both functions behave like `mkdir -p` (mode 0755, existing directories
 * are fine) and, on failure, write a message for the operator into err.
 */
#ifndef CORE_FSDIR_H
#define CORE_FSDIR_H

#include <stdbool.h>
#include <stddef.h>

/* Creates dir and every missing parent of it. */
bool fsdir_make(const char *dir, char *err, size_t err_size);

/* Creates the directory that will hold `file` (nothing for "name"). */
bool fsdir_make_parent(const char *file, char *err, size_t err_size);

#endif
