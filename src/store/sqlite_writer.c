/*
 * store/sqlite_writer: group commit for the SQLite engine.
 *
 * SQLite lets one connection write at a time, and with synchronous=FULL
 * every commit waits for an fsync.  So one thread owns the only writing
 * connection: request threads queue their insert or delete and sleep; the
 * writer takes everything queued, runs it in one BEGIN IMMEDIATE ..
 * COMMIT, and then wakes them all with their results.  While one group
 * commits, the next one gathers, so the number of fsyncs follows the
 * disk rather than the request rate, and no request is answered before
 * its row is on disk.
 *
 * New rows wait in thought_search_pending (searched there by a scan, see
 * sqlite.c) and are folded into the search index in chunks: when the
 * writer is idle, or by the group that finds DEFER_ROWS rows waiting.
 * One FTS5 update per chunk rather than per group costs far less, since
 * each update writes index segments of its own.  Rows queued by the
 * triggers for rows written by hand are indexed the same way.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/xalloc.h"
#include "store/sqlite_int.h"

#define STACK_BYTES   (256 * 1024)
#define IDLE_CHECK_MS 1000
/* Rows a busy writer lets wait before indexing, and rows per chunk. */
#define DEFER_ROWS 1000
#define CHUNK_ROWS 2000

enum wstmt {
    W_BEGIN,
    W_COMMIT,
    W_ROLLBACK,
    W_INSERT,
    W_DELETE,
    W_PENDING,
    W_INDEX,
    W_UNQUEUE,
    W_COUNT
};

static const char *const wsql[W_COUNT] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_INSERT] = "INSERT INTO thought_model (username, text, timestamp) "
                 "VALUES (?1, ?2, ?3) RETURNING id",
    [W_DELETE] = "DELETE FROM thought_model WHERE id = ?1",
    [W_PENDING] = "SELECT p.id, m.text FROM thought_search_pending AS p "
                  "LEFT JOIN thought_model AS m ON m.id = p.id "
                  "ORDER BY p.id LIMIT ?1",
    [W_INDEX] = "INSERT OR REPLACE INTO thought_search (rowid, folded) "
                "VALUES (?1, ?2)",
    [W_UNQUEUE] = "DELETE FROM thought_search_pending WHERE id = ?1",
};

/* One request's write; it lives on the requesting thread's stack. */
struct write_op {
    bool is_delete;
    const char *username;
    const char *text;
    int64_t timestamp;
    int64_t id; /* the row to delete, or the new row's id */
    enum store_result result;
    bool done;
    struct write_op *next;
};

/* Everything below is guarded by lock, but db and stmt (writer only). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER;
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;
static struct write_op *queue_head;
static struct write_op **queue_tail = &queue_head;
static bool running;
static bool stopping;
static pthread_t thread;
static sqlite3 *db;
static sqlite3_stmt *stmt[W_COUNT];

/* Steps a statement without result rows and resets it. */
static int run(enum wstmt id)
{
    int rc = sqlite3_step(stmt[id]);

    sqlite3_reset(stmt[id]);
    sqlite3_clear_bindings(stmt[id]);
    return rc;
}

static enum store_result apply(struct write_op *op)
{
    int rc;

    if (op->is_delete) {
        sqlite3_bind_int64(stmt[W_DELETE], 1, op->id);
        rc = run(W_DELETE);
        return rc == SQLITE_DONE ? STORE_OK : sqlite_fail(db, rc, "delete");
    }

    sqlite3_stmt *st = stmt[W_INSERT];
    char when[TIMESTAMP_TEXT_SIZE];
    timestamp_format_db(op->timestamp, when);
    sqlite3_bind_text(st, 1, op->username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, op->text, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, when, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        op->id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? STORE_OK : sqlite_fail(db, rc, "insert");
}

struct pending_row {
    int64_t id;
    char *folded; /* NULL for a NULL text */
    size_t len;
};

/* Reads up to `limit` queued rows, folded; returns how many. */
static int read_pending(struct pending_row *rows, int limit, int *rc)
{
    sqlite3_stmt *st = stmt[W_PENDING];
    int n = 0;

    sqlite3_bind_int(st, 1, limit);
    while (n < limit && (*rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct pending_row *r = &rows[n++];
        r->id = sqlite3_column_int64(st, 0);
        r->folded = NULL;
        if (sqlite3_column_type(st, 1) != SQLITE_NULL)
            r->folded = text_casefold_stored(
                (const char *)sqlite3_column_text(st, 1),
                (size_t)sqlite3_column_bytes(st, 1), &r->len);
    }
    if (n == limit || *rc == SQLITE_DONE)
        *rc = SQLITE_OK;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return n;
}

/*
 * Indexes up to `limit` queued rows inside the open transaction.  Returns
 * how many, or -1 on an error (logged).
 */
static int index_pending(int limit)
{
    struct pending_row *rows = xmalloc(sizeof(*rows) * (size_t)limit);
    int rc;
    int n = read_pending(rows, limit, &rc);

    for (int i = 0; i < n && rc == SQLITE_OK; i++) {
        if (rows[i].folded != NULL) {
            sqlite3_bind_int64(stmt[W_INDEX], 1, rows[i].id);
            sqlite3_bind_text(stmt[W_INDEX], 2, rows[i].folded,
                              (int)rows[i].len, SQLITE_STATIC);
            rc = run(W_INDEX);
        }
        if (rc == SQLITE_OK || rc == SQLITE_DONE) {
            sqlite3_bind_int64(stmt[W_UNQUEUE], 1, rows[i].id);
            rc = run(W_UNQUEUE);
        }
        if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    for (int i = 0; i < n; i++)
        free(rows[i].folded);
    free(rows);
    if (rc != SQLITE_OK) {
        sqlite_fail(db, rc, "search indexing");
        return -1;
    }
    return n;
}

static int count_inserts(const struct write_op *ops)
{
    int n = 0;

    for (; ops != NULL; ops = ops->next)
        n += !ops->is_delete;
    return n;
}

static void set_results(struct write_op *ops, enum store_result r)
{
    for (; ops != NULL; ops = ops->next)
        ops->result = r;
}

/*
 * Runs a group in one transaction, indexing up to index_rows waiting rows
 * in it.  When any part of it fails, the group is rolled back and each
 * write is run alone, so that one bad write does not fail the others.
 */
static void run_group(struct write_op *ops, int index_rows)
{
    int rc = run(W_BEGIN);

    if (rc != SQLITE_DONE) {
        set_results(ops, sqlite_fail(db, rc, "begin"));
        return;
    }

    bool ok = true;
    for (struct write_op *op = ops; op != NULL && ok; op = op->next) {
        op->result = apply(op);
        ok = op->result == STORE_OK;
    }
    if (ok && index_rows > 0)
        ok = index_pending(index_rows) >= 0;
    if (ok) {
        rc = run(W_COMMIT);
        ok = rc == SQLITE_DONE;
        if (!ok)
            set_results(ops, sqlite_fail(db, rc, "commit"));
    }
    if (ok)
        return;

    run(W_ROLLBACK);
    if (ops->next == NULL)
        return;
    for (struct write_op *op = ops; op != NULL;) {
        struct write_op *next = op->next;
        op->next = NULL;
        run_group(op, 0);
        op->next = next;
        op = next;
    }
}

/* Indexes one chunk of rows written by hand; true when more are left. */
static bool index_chunk(void)
{
    if (run(W_BEGIN) != SQLITE_DONE)
        return false;

    int n = index_pending(CHUNK_ROWS);
    if (n > 0 && run(W_COMMIT) == SQLITE_DONE)
        return n == CHUNK_ROWS;
    run(W_ROLLBACK);
    return false;
}

static void wait_idle(void)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += IDLE_CHECK_MS / 1000;
    pthread_cond_timedwait(&work_ready, &lock, &until);
}

static void *writer_main(void *arg)
{
    (void)arg;
    bool backlog = true; /* rows may have been written by hand meanwhile */
    int waiting = 0;     /* rows inserted since the last indexing */

    pthread_mutex_lock(&lock);
    for (;;) {
        if (queue_head == NULL && stopping)
            break;
        if (queue_head == NULL) {
            if (backlog || waiting > 0) {
                pthread_mutex_unlock(&lock);
                backlog = index_chunk();
                waiting = 0;
                pthread_mutex_lock(&lock);
            } else {
                wait_idle();
                backlog = queue_head == NULL;
            }
            continue;
        }

        struct write_op *ops = queue_head;
        queue_head = NULL;
        queue_tail = &queue_head;
        pthread_mutex_unlock(&lock);
        waiting += count_inserts(ops);
        int index_rows = waiting >= DEFER_ROWS ? CHUNK_ROWS : 0;
        run_group(ops, index_rows);
        if (index_rows > 0)
            waiting = 0;
        pthread_mutex_lock(&lock);
        for (struct write_op *op = ops; op != NULL; op = op->next)
            op->done = true;
        pthread_cond_broadcast(&work_done);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void close_connection(void)
{
    for (int i = 0; i < W_COUNT; i++) {
        sqlite3_finalize(stmt[i]);
        stmt[i] = NULL;
    }
    sqlite3_close_v2(db);
    db = NULL;
}

/* Opens the writing connection and starts the thread; lock is held. */
static bool start(const struct config *cfg)
{
    char err[512];

    db = sqlite_connect(cfg, false, err, sizeof(err));
    if (db == NULL) {
        log_error("database writer: %s", err);
        return false;
    }
    for (int i = 0; i < W_COUNT; i++) {
        if (sqlite3_prepare_v3(db, wsql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &stmt[i], NULL) != SQLITE_OK) {
            log_error("database writer: cannot prepare statements: %s",
                      sqlite3_errmsg(db));
            close_connection();
            return false;
        }
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, STACK_BYTES);
    int rc = pthread_create(&thread, &attr, writer_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log_error("database writer: cannot start a thread: %s", strerror(rc));
        close_connection();
        return false;
    }
    running = true;
    return true;
}

void sqlite_writer_start(const struct config *cfg)
{
    pthread_mutex_lock(&lock);
    if (!running)
        start(cfg);
    pthread_mutex_unlock(&lock);
}

/* Queues op, starting the writer if needed, and waits for its result. */
static enum store_result submit(const struct config *cfg, struct write_op *op)
{
    pthread_mutex_lock(&lock);
    if (!running && !start(cfg)) {
        pthread_mutex_unlock(&lock);
        return STORE_UNAVAILABLE;
    }
    *queue_tail = op;
    queue_tail = &op->next;
    pthread_cond_signal(&work_ready);
    while (!op->done)
        pthread_cond_wait(&work_done, &lock);
    pthread_mutex_unlock(&lock);
    return op->result;
}

enum store_result sqlite_writer_insert(const struct config *cfg,
                                       const char *username, const char *text,
                                       int64_t timestamp, int64_t *id)
{
    struct write_op op = {.username = username,
                          .text = text,
                          .timestamp = timestamp,
                          .result = STORE_ERROR};
    enum store_result r = submit(cfg, &op);

    if (r == STORE_OK)
        *id = op.id;
    return r;
}

enum store_result sqlite_writer_delete(const struct config *cfg, int64_t id)
{
    struct write_op op = {.is_delete = true, .id = id, .result = STORE_ERROR};

    return submit(cfg, &op);
}

void sqlite_writer_stop(void)
{
    pthread_mutex_lock(&lock);
    if (!running) {
        pthread_mutex_unlock(&lock);
        return;
    }
    stopping = true;
    pthread_cond_signal(&work_ready);
    pthread_mutex_unlock(&lock);

    pthread_join(thread, NULL);
    close_connection();
    pthread_mutex_lock(&lock);
    running = false;
    stopping = false;
    pthread_mutex_unlock(&lock);
}
