/*
 * store: where thoughts live, behind one interface for every engine.
 *
 * Each worker thread gets its own connection (store_for_thread), opened
 * on first use with its statements prepared once; the HTTP layer never
 * knows which engine answers.  Rows handed to a callback are borrowed:
 * their strings are valid only during the call.
 */
#ifndef STORE_STORE_H
#define STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define STORE_USERNAME_MAX 50 /* characters, as the original's schema */
#define STORE_TEXT_MAX     250

enum store_result {
    STORE_OK,
    STORE_NOT_FOUND,
    STORE_UNAVAILABLE, /* busy, locked or unreachable: try again later */
    STORE_ERROR,       /* anything else; details are logged */
};

struct thought {
    int64_t id;
    const char *username; /* NULL when the column is NULL */
    size_t username_len;
    const char *text; /* NULL when the column is NULL */
    size_t text_len;
    bool has_timestamp;
    int64_t timestamp; /* microseconds since the epoch, UTC */
};

/* Receives one row; returns false to stop the listing early. */
typedef bool (*store_row_fn)(const struct thought *row, void *ctx);

/* Which rows a listing returns: always ordered by id, after after_id. */
struct store_query {
    const char *username; /* only this user's rows, or NULL for all */
    const char *search;   /* case-folded needle, or NULL for no search */
    int64_t after_id;
    int limit;
};

struct store;

/* One engine's implementation; see the functions below for contracts. */
struct store_ops {
    enum store_result (*create)(struct store *s, const char *username,
                                const char *text, int64_t timestamp,
                                int64_t *id);
    enum store_result (*get)(struct store *s, int64_t id, store_row_fn fn,
                             void *ctx);
    enum store_result (*list)(struct store *s, const struct store_query *q,
                              store_row_fn fn, void *ctx, int *rows);
    enum store_result (*delete)(struct store *s, int64_t id);
    enum store_result (*check)(struct store *s);
    void (*close)(struct store *s);
};

struct store {
    const struct store_ops *ops;
};

/*
 * Opens a first connection, creating the schema when absent, and keeps
 * the configuration for the per-thread connections.  cfg must outlive
 * the store.  Returns false with a message for the operator in err when
 * the database cannot be used; a database server that is merely not
 * reachable yet is an error only when must_connect is set (the service
 * starts anyway and connects when it can).  Without must_connect, the
 * service's background threads start too (the SQLite writer, the
 * PostgreSQL indexer), to index rows written by hand; store_shutdown()
 * stops them.  With it (init-db), the SQLite writer starts on the first
 * write.
 */
bool store_setup(const struct config *cfg, bool must_connect, char *err,
                 size_t err_size);

/*
 * The calling thread's connection, opened on first use; NULL when it
 * cannot be opened now (the cause is logged).  The connection belongs to
 * the store module and lives until store_shutdown().
 */
struct store *store_for_thread(void);

/* Closes every connection.  No other store call may run concurrently. */
void store_shutdown(void);

/* Inserts a thought and returns its new id. */
enum store_result store_create(struct store *s, const char *username,
                               const char *text, int64_t timestamp,
                               int64_t *id);

/* Calls fn once with the thought `id`; STORE_NOT_FOUND when absent. */
enum store_result store_get(struct store *s, int64_t id, store_row_fn fn,
                            void *ctx);

/* Calls fn for up to q->limit matching rows; *rows counts them. */
enum store_result store_list(struct store *s, const struct store_query *q,
                             store_row_fn fn, void *ctx, int *rows);

/* Deletes the thought `id`; deleting an absent id is STORE_OK. */
enum store_result store_delete(struct store *s, int64_t id);

/* Asks the database a trivial question: STORE_OK when it answers. */
enum store_result store_check(struct store *s);

/*
 * Engine constructors, used by store.c.  SQLite fails at once when the
 * file cannot be used; PostgreSQL always returns a store, which connects
 * (with back-off) when first used or checked.
 */
struct store *store_sqlite_open(const struct config *cfg, bool create_schema,
                                char *err, size_t err_size);
struct store *store_postgres_open(const struct config *cfg, bool create_schema,
                                  char *err, size_t err_size);

/*
 * The PostgreSQL engine's indexer: a thread with its own connection that
 * folds rows written by hand into the search index.  Started by
 * store_setup() for the service, stopped (and joined) by store_shutdown().
 */
void store_postgres_start_indexer(const struct config *cfg);
void store_postgres_stop_indexer(void);

#endif
