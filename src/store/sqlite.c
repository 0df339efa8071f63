/*
 * SQLite engine: one reading connection per worker thread, WAL mode, a
 * busy timeout, and every statement prepared once when the connection
 * opens.  Inserts and deletes go to the group-commit writer
 * (sqlite_writer.c), which owns the only writing connection.
 *
 * Search folds case with casefold() (core/text.h) and matches literally,
 * so %, _ and \ in the needle are ordinary characters.  A needle of three
 * characters or more is looked up in thought_search, an FTS5 trigram
 * index over the folded text of each row, which makes the lookup exact
 * without reading every row.  Only our code can fold, so rows inserted
 * or changed by hand with plain SQL are queued by built-in triggers in
 * thought_search_pending, searched there by a scan until the writer has
 * indexed them, and indexed by the writer soon after.  Shorter needles
 * scan the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/xalloc.h"
#include "store/sqlite_int.h"
#include "store/store.h"

#define BUSY_TIMEOUT_MS 5000

#define COLUMNS "SELECT id, username, text, timestamp FROM thought_model "

/*
 * Page cache of each reading connection, in KiB (SQLite's default is
 * 2000).  Every worker has one, and a listing of a large table would fill
 * each; the kernel's page cache serves re-reads almost as fast.
 */
#define READER_CACHE_KIB 256

/* The trigram tokenizer cannot look up fewer characters than this. */
#define INDEX_MIN_CHARS 3

enum stmt_id {
    ST_GET,
    ST_LIST_ALL,
    ST_LIST_USER,
    ST_LIST_SEARCH_SCAN,
    ST_LIST_SEARCH_INDEX,
    ST_LIST_USER_SEARCH,
    ST_COUNT
};

/*
 * The indexed search takes the first ?2 index hits and the first ?2
 * pending rows that match after ?1; the first ?2 of their union are the
 * first ?2 of the answer.
 */
static const char *const statements[ST_COUNT] = {
    [ST_GET] = COLUMNS "WHERE id = ?1",
    [ST_LIST_ALL] = COLUMNS "WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_LIST_USER] =
        COLUMNS "WHERE username = ?3 AND id > ?1 ORDER BY id LIMIT ?2",
    [ST_LIST_SEARCH_SCAN] = COLUMNS
    "WHERE id > ?1 AND instr(casefold(text), ?3) > 0 ORDER BY id LIMIT ?2",
    [ST_LIST_SEARCH_INDEX] = COLUMNS
    "WHERE id IN ("
    " SELECT rowid FROM (SELECT rowid FROM thought_search"
    "  WHERE thought_search MATCH ?4 AND rowid > ?1 ORDER BY rowid LIMIT ?2)"
    " UNION ALL"
    " SELECT id FROM (SELECT p.id FROM thought_search_pending AS p"
    "  JOIN thought_model AS m ON m.id = p.id"
    "  WHERE p.id > ?1 AND instr(casefold(m.text), ?3) > 0"
    "  ORDER BY p.id LIMIT ?2))"
    " ORDER BY id LIMIT ?2",
    [ST_LIST_USER_SEARCH] =
        COLUMNS "WHERE username = ?3 AND id > ?1 AND "
                "instr(casefold(text), ?4) > 0 ORDER BY id LIMIT ?2",
};

/*
 * The original's table, and the search index beside it.  The triggers use
 * only built-in SQL, so that they also run for rows written by hand (by
 * the sqlite3 shell or Python, which know nothing of casefold()): they
 * drop a changed row from the index and queue it for the writer.
 */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS thought_model ("
    " id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,"
    " username VARCHAR(50),"
    " text VARCHAR(250),"
    " timestamp DATETIME DEFAULT (CURRENT_TIMESTAMP));"
    "CREATE INDEX IF NOT EXISTS ix_thought_model_username"
    " ON thought_model (username);"
    "CREATE TABLE IF NOT EXISTS thought_search_pending ("
    " id INTEGER PRIMARY KEY);"
    "CREATE VIRTUAL TABLE IF NOT EXISTS thought_search USING fts5("
    " folded, tokenize = 'trigram case_sensitive 1');"
    "CREATE TRIGGER IF NOT EXISTS thought_search_on_insert"
    " AFTER INSERT ON thought_model BEGIN"
    " INSERT OR IGNORE INTO thought_search_pending (id) VALUES (new.id);"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS thought_search_on_update"
    " AFTER UPDATE OF id, text ON thought_model BEGIN"
    " DELETE FROM thought_search WHERE rowid = old.id;"
    " DELETE FROM thought_search_pending WHERE id = old.id;"
    " INSERT OR IGNORE INTO thought_search_pending (id) VALUES (new.id);"
    " END;"
    "CREATE TRIGGER IF NOT EXISTS thought_search_on_delete"
    " AFTER DELETE ON thought_model BEGIN"
    " DELETE FROM thought_search WHERE rowid = old.id;"
    " DELETE FROM thought_search_pending WHERE id = old.id;"
    " END;";

/* A table made before the index (by the original): queue every row. */
static const char queue_existing[] =
    "INSERT OR IGNORE INTO thought_search_pending (id)"
    " SELECT id FROM thought_model;";

struct sqlite_store {
    struct store base; /* first, so a struct store * converts back */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_COUNT];
    const struct config *cfg;
    struct buf match; /* the FTS5 query text of the current search */
};

static struct sqlite_store *from_base(struct store *s)
{
    return (struct sqlite_store *)s;
}

enum store_result sqlite_fail(sqlite3 *db, int rc, const char *op)
{
    int primary = rc & 0xff;

    metrics_db_error();
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
        log_warning("database busy during %s", op);
        return STORE_UNAVAILABLE;
    }
    log_error("database error during %s: %s", op, sqlite3_errmsg(db));
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
    char *folded = text_casefold_stored(in, len, &out_len);
    sqlite3_result_text(ctx, folded, (int)out_len, free);
}

static void sqlite_close(struct store *base)
{
    struct sqlite_store *s = from_base(base);

    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close_v2(s->db);
    buf_free(&s->match);
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
        return sqlite_fail(s->db, rc, op);
    return STORE_OK;
}

static enum store_result sqlite_create(struct store *base, const char *username,
                                       const char *text, int64_t timestamp,
                                       int64_t *id)
{
    struct sqlite_store *s = from_base(base);

    return sqlite_writer_insert(s->cfg, username, text, timestamp, id);
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

/* Can the trigram index answer this (folded) needle? */
static bool indexable(const char *needle)
{
    long chars = text_length(needle, strlen(needle));

    return chars >= INDEX_MIN_CHARS;
}

/* The needle as one FTS5 phrase: in double quotes, quotes doubled. */
static const char *match_phrase(struct sqlite_store *s, const char *needle)
{
    buf_reset(&s->match);
    buf_puts(&s->match, "\"");
    for (const char *p = needle; *p != '\0'; p++) {
        if (*p == '"')
            buf_puts(&s->match, "\"");
        buf_append(&s->match, p, 1);
    }
    buf_puts(&s->match, "\"");
    return buf_str(&s->match);
}

static sqlite3_stmt *bind_search(struct sqlite_store *s, const char *needle)
{
    sqlite3_stmt *st;

    if (!indexable(needle)) {
        st = s->stmt[ST_LIST_SEARCH_SCAN];
        sqlite3_bind_text(st, 3, needle, -1, SQLITE_STATIC);
        return st;
    }
    st = s->stmt[ST_LIST_SEARCH_INDEX];
    sqlite3_bind_text(st, 3, needle, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, match_phrase(s, needle), -1, SQLITE_STATIC);
    return st;
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
        st = bind_search(s, q->search);
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

    return sqlite_writer_delete(s->cfg, id);
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

static bool table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    bool found = false;

    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

/*
 * Creates what is missing in one transaction, so that two instances
 * starting at once cannot both queue an existing table for indexing.
 */
static int create_schema_now(sqlite3 *db, char **msg)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, msg);
    if (rc != SQLITE_OK)
        return rc;

    bool had_index = table_exists(db, "thought_search");
    int queued = 0;
    rc = sqlite3_exec(db, schema, NULL, NULL, msg);
    if (rc == SQLITE_OK && !had_index) {
        rc = sqlite3_exec(db, queue_existing, NULL, NULL, msg);
        queued = sqlite3_changes(db);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, msg);
    if (rc != SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    else if (queued > 0)
        log_info("SQLite: search index created; %d existing rows are "
                 "indexed in the background",
                 queued);
    return rc;
}

/* Settings that hold per connection, and the schema when asked. */
static bool configure(sqlite3 *db, const struct config *cfg, bool create_schema,
                      char *err, size_t err_size)
{
    char *msg = NULL;
    const char *pragmas = cfg->sqlite_synchronous == DB_SYNC_NORMAL
                              ? "PRAGMA journal_mode=WAL;"
                                "PRAGMA synchronous=NORMAL;"
                              : "PRAGMA journal_mode=WAL;"
                                "PRAGMA synchronous=FULL;";

    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    int rc = sqlite3_exec(db, pragmas, NULL, NULL, &msg);
    if (rc == SQLITE_OK && create_schema)
        rc = create_schema_now(db, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "%s", msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return false;
    }
    rc = sqlite3_create_function_v2(db, "casefold", 1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                    casefold_sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot register casefold(): %s",
                 sqlite3_errstr(rc));
        return false;
    }
    return true;
}

sqlite3 *sqlite_connect(const struct config *cfg, bool create_schema, char *err,
                        size_t err_size)
{
    sqlite3 *db = NULL;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    char why[200];

    int rc = sqlite3_open_v2(cfg->sqlite_path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "cannot open SQLite database %s: %s",
                 cfg->sqlite_path,
                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return NULL;
    }
    if (!configure(db, cfg, create_schema, why, sizeof(why))) {
        snprintf(err, err_size, "SQLite database %s: %s", cfg->sqlite_path,
                 why);
        sqlite3_close_v2(db);
        return NULL;
    }
    return db;
}

static bool prepare_all(struct sqlite_store *s, char *err, size_t err_size)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc =
            sqlite3_prepare_v3(s->db, statements[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            snprintf(err, err_size,
                     "SQLite database %s: cannot prepare statements: %s",
                     s->cfg->sqlite_path, sqlite3_errmsg(s->db));
            return false;
        }
    }
    return true;
}

struct store *store_sqlite_open(const struct config *cfg, bool create_schema,
                                char *err, size_t err_size)
{
    sqlite3 *db = sqlite_connect(cfg, create_schema, err, err_size);

    if (db == NULL)
        return NULL;

    struct sqlite_store *s = xcalloc(1, sizeof(*s));
    s->base.ops = &sqlite_ops;
    s->db = db;
    s->cfg = cfg;
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA cache_size=-%d", READER_CACHE_KIB);
    sqlite3_exec(db, pragma, NULL, NULL, NULL);
    if (!prepare_all(s, err, err_size)) {
        sqlite_close(&s->base);
        return NULL;
    }
    return &s->base;
}
