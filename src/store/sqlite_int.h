/*
 * store/sqlite_int.h: what the SQLite engine's files share.
 *
 * sqlite.c owns the connections and every read; sqlite_writer.c owns the
 * single writer thread that commits inserts and deletes in groups.  Both
 * open connections the same way and fold text the same way.
 */
#ifndef STORE_SQLITE_INT_H
#define STORE_SQLITE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "store/store.h"

/*
 * Opens the database file, sets the per-connection settings (WAL, busy
 * timeout, synchronous mode, casefold()) and, with create_schema, creates
 * the table, its indexes and the search index when absent.  Returns NULL
 * with a sentence for the operator in err.  The caller closes the handle
 * with sqlite3_close_v2().
 */
sqlite3 *sqlite_connect(const struct config *cfg, bool create_schema, char *err,
                        size_t err_size);

/* Maps an SQLite error code to a result, logging what the operator needs. */
enum store_result sqlite_fail(sqlite3 *db, int rc, const char *op);

/*
 * Group commit: the writer thread, started on first use, runs every queued
 * insert and delete of all request threads in one transaction, commits
 * once (one fsync with SQLITE_SYNCHRONOUS=full) and only then answers
 * them, so an answered write is durable.  The same transaction indexes
 * new rows for search.  Both calls block until their transaction ends.
 */
enum store_result sqlite_writer_insert(const struct config *cfg,
                                       const char *username, const char *text,
                                       int64_t timestamp, int64_t *id);
enum store_result sqlite_writer_delete(const struct config *cfg, int64_t id);

/*
 * Starts the writer now, so that rows written by hand are indexed even
 * before the first write; a failure is logged and retried on that write.
 */
void sqlite_writer_start(const struct config *cfg);

/*
 * Answers what is queued, stops the writer thread and closes its
 * connection; a later write starts it again.  No write may be waiting.
 */
void sqlite_writer_stop(void);

#endif
