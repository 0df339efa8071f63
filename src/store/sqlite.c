/*
 * SQLite engine: one connection per worker thread, WAL mode, a busy
 * timeout, and every statement prepared once when the connection opens.
 *
 * Search folds case with the SQL function casefold(), registered on each
 * connection from core/text.h, and matches with instr(), so that %, _
 * and \ in the needle are ordinary characters.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/xalloc.h"
#include "store/store.h"

#define BUSY_TIMEOUT_MS 5000

#define COLUMNS "SELECT id, username, text, timestamp FROM thought_model "

enum stmt_id {
    ST_INSERT,
    ST_GET,
    ST_LIST_ALL,
    ST_LIST_USER,
    ST_LIST_SEARCH,
    ST_LIST_USER_SEARCH,
    ST_DELETE,
    ST_COUNT
};

static const char *const statements[ST_COUNT] = {
    [ST_INSERT] = "INSERT INTO thought_model (username, text, timestamp) "
                  "VALUES (?1, ?2, ?3) RETURNING id",
    [ST_GET] = COLUMNS "WHERE id = ?1",
    [ST_LIST_ALL] = COLUMNS "WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_LIST_USER] =
        COLUMNS "WHERE username = ?3 AND id > ?1 ORDER BY id LIMIT ?2",
    [ST_LIST_SEARCH] = COLUMNS "WHERE id > ?1 AND instr(casefold(text), ?3) "
                               "> 0 ORDER BY id LIMIT ?2",
    [ST_LIST_USER_SEARCH] =
        COLUMNS "WHERE username = ?3 AND id > ?1 AND "
                "instr(casefold(text), ?4) > 0 ORDER BY id LIMIT ?2",
    [ST_DELETE] = "DELETE FROM thought_model WHERE id = ?1",
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS thought_model ("
    " id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,"
    " username VARCHAR(50),"
    " text VARCHAR(250),"
    " timestamp DATETIME DEFAULT (CURRENT_TIMESTAMP));"
    "CREATE INDEX IF NOT EXISTS ix_thought_model_username"
    " ON thought_model (username);";

struct sqlite_store {
    struct store base; /* first, so a struct store * converts back */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
};

static struct sqlite_store *from_base(struct store *s)
{
    return (struct sqlite_store *)s;
}

/* Maps an SQLite error to a result, logging what the operator needs. */
static enum store_result fail(struct sqlite_store *s, int rc, const char *op)
{
    int primary = rc & 0xff;

    metrics_db_error();
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        log_warning("database busy during %s", op);
        return STORE_UNAVAILABLE;
    }
    log_error("database error during %s: %s", op, sqlite3_errmsg(s->db));
    if (primary == SQLITE_IOERR || primary == SQLITE_FULL ||
        primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)
        return STORE_UNAVAILABLE;
    return STORE_ERROR;
}

static void casefold_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }

    const char *in = (const char *)sqlite3_value_text(argv[0]);
    size_t len = (size_t)sqlite3_value_bytes(argv[0]);
    size_t out_len;
    char *folded = text_casefold(in, len, &out_len);
    if (folded == NULL) {
        /* Bytes inserted by hand that are not UTF-8: fold what we can. */
        char *clean = text_sanitize(in, len);
        folded = text_casefold(clean, strlen(clean), &out_len);
        free(clean);
    }
    sqlite3_result_text(ctx, folded, (int)out_len, free);
}

static void sqlite_close(struct store *base)
{
    struct sqlite_store *s = from_base(base);

    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close_v2(s->db);
    free(s);
}

/* Reads the current row of a SELECT into a borrowed struct thought. */
static void read_row(sqlite3_stmt *st, struct thought *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(st, 0);
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
        t->username = (const char *)sqlite3_column_text(st, 1);
        t->username_len = (size_t)sqlite3_column_bytes(st, 1);
    }
    if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
        t->text = (const char *)sqlite3_column_text(st, 2);
        t->text_len = (size_t)sqlite3_column_bytes(st, 2);
    }
    const char *ts = (const char *)sqlite3_column_text(st, 3);
    if (ts != NULL)
        t->has_timestamp = timestamp_parse(ts, &t->timestamp);
}

/* Steps a bound SELECT to the end, handing each row to fn. */
static enum store_result run_select(struct sqlite_store *s, sqlite3_stmt *st,
                                    store_row_fn fn, void *ctx, int *rows,
                                    const char *op)
{
    int rc;
    int n = 0;
    struct thought t;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        n++;
        read_row(st, &t);
        if (!fn(&t, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rows != NULL)
        *rows = n;
    if (rc != SQLITE_DONE)
        return fail(s, rc, op);
    return STORE_OK;
}

static enum store_result sqlite_create(struct store *base, const char *username,
                                       const char *text, int64_t timestamp,
                                       int64_t *id)
{
    struct sqlite_store *s = from_base(base);
    sqlite3_stmt *st = s->stmt[ST_INSERT];
    char when[TIMESTAMP_TEXT_SIZE];

    timestamp_format_db(timestamp, when);
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, when, -1, SQLITE_STATIC);

    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? STORE_OK : fail(s, rc, "insert");
}

struct get_ctx {
    store_row_fn fn;
    void *ctx;
    bool found;
};

static bool get_row(const struct thought *row, void *ctx)
{
    struct get_ctx *g = ctx;

    g->found = true;
    return g->fn(row, g->ctx);
}

static enum store_result sqlite_get(struct store *base, int64_t id,
                                    store_row_fn fn, void *ctx)
{
    struct sqlite_store *s = from_base(base);
    sqlite3_stmt *st = s->stmt[ST_GET];
    struct get_ctx g = {fn, ctx, false};

    sqlite3_bind_int64(st, 1, id);
    enum store_result r = run_select(s, st, get_row, &g, NULL, "get");
    if (r == STORE_OK && !g.found)
        return STORE_NOT_FOUND;
    return r;
}

static enum store_result sqlite_list(struct store *base,
                                     const struct store_query *q,
                                     store_row_fn fn, void *ctx, int *rows)
{
    struct sqlite_store *s = from_base(base);
    sqlite3_stmt *st;

    if (q->username != NULL && q->search != NULL) {
        st = s->stmt[ST_LIST_USER_SEARCH];
        sqlite3_bind_text(st, 3, q->username, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, q->search, -1, SQLITE_STATIC);
    } else if (q->username != NULL) {
        st = s->stmt[ST_LIST_USER];
        sqlite3_bind_text(st, 3, q->username, -1, SQLITE_STATIC);
    } else if (q->search != NULL) {
        st = s->stmt[ST_LIST_SEARCH];
        sqlite3_bind_text(st, 3, q->search, -1, SQLITE_STATIC);
    } else {
        st = s->stmt[ST_LIST_ALL];
    }
    sqlite3_bind_int64(st, 1, q->after_id);
    sqlite3_bind_int(st, 2, q->limit);
    return run_select(s, st, fn, ctx, rows, "list");
}

static enum store_result sqlite_delete(struct store *base, int64_t id)
{
    struct sqlite_store *s = from_base(base);
    sqlite3_stmt *st = s->stmt[ST_DELETE];

    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? STORE_OK : fail(s, rc, "delete");
}

static enum store_result sqlite_check(struct store *base)
{
    (void)base;
    return STORE_OK;
}

static const struct store_ops sqlite_ops = {
    .create = sqlite_create,
    .get = sqlite_get,
    .list = sqlite_list,
    .delete = sqlite_delete,
    .check = sqlite_check,
    .close = sqlite_close,
};

/* Settings that hold per connection, and the schema on the first one. */
static bool configure(struct sqlite_store *s, bool create_schema, char *err,
                      size_t err_size)
{
    char *msg = NULL;

    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(s->db, 1);
    int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;", NULL, NULL, &msg);
    if (rc == SQLITE_OK && create_schema)
        rc = sqlite3_exec(s->db, schema, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return false;
    }
    rc = sqlite3_create_function_v2(s->db, "casefold", 1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                    casefold_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot register casefold(): %s",
                 sqlite3_errstr(rc));
        return false;
    }
    return true;
}

static bool prepare_all(struct sqlite_store *s, char *err, size_t err_size)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc =
            sqlite3_prepare_v3(s->db, statements[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, err_size, "cannot prepare statements: %s",
                     sqlite3_errmsg(s->db));
            return false;
        }
    }
    return true;
}

struct store *store_sqlite_open(const struct config *cfg, bool create_schema,
                                char *err, size_t err_size)
{
    struct sqlite_store *s = xcalloc(1, sizeof(*s));
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

    s->base.ops = &sqlite_ops;
    int rc = sqlite3_open_v2(cfg->sqlite_path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open SQLite database %s: %s",
                 cfg->sqlite_path,
                 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        sqlite_close(&s->base);
        return NULL;
    }
    char why[200];
    if (!configure(s, create_schema, why, sizeof(why)) ||
        !prepare_all(s, why, sizeof(why))) {
        snprintf(err, err_size, "SQLite database %s: %s", cfg->sqlite_path,
                 why);
        sqlite_close(&s->base);
        return NULL;
    }
    return &s->base;
}
