/*
 * PostgreSQL engine on libpq: one connection per worker thread, every
 * statement prepared once per connection, single statements in
 * autocommit so that no connection is ever left inside a transaction.
 *
 * Outages: a connection that is down or broken is reopened on demand,
 * at most once per back-off interval (doubling up to MAX_BACKOFF_MS), and
 * between attempts calls fail at once with STORE_UNAVAILABLE rather than
 * waiting.  Reads and deletes are retried once on a fresh connection when
 * the old one turns out to be broken; an insert is not, because it may
 * have been committed before the connection dropped.
 *
 * Times are written by the service as UTC text and read back with the
 * session in UTC and ISO date style, so neither the process's nor the
 * database's time zone matters.  Search folds case in C with the same
 * function as the SQLite engine, so both engines agree on every
 * character.
 *
 * Search index: thought_search holds the folded text of each row, with a
 * pg_trgm GIN index when the extension can be created, so that a needle
 * of three characters or more is a LIKE on folded text that the index
 * answers.  We insert a row and its folded text in one statement.  Rows
 * written by hand (psql knows nothing of our folding) are queued in
 * thought_search_pending by a trigger, searched there by a scan, and
 * folded into the index by a background thread (the indexer).  Every
 * candidate is checked again in C, so the index only narrows the rows.
 * Every statement of ours is shaped for an index, but the planner rates
 * a LIKE over every row of a small table as cheap (it is not: the scan
 * folds nothing but still compares every row), so our sessions turn
 * sequential scans off.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/xalloc.h"
#include "store/store.h"

#define FIRST_BACKOFF_MS 100
#define MAX_BACKOFF_MS   2000
#define SCAN_ROWS        500
#define INT8OID          20
#define INDEX_MIN_CHARS  3
#define HIT_CAP          "5000"
#define INDEXER_ROWS     1000
#define INDEXER_IDLE_S   1

#define COLUMNS                                                                \
    "SELECT id, username, text, \"timestamp\"::timestamp FROM thought_model "

struct statement {
    const char *name;
    const char *sql;
    int n_params;
};

enum stmt_id {
    ST_INSERT,
    ST_GET,
    ST_LIST,
    ST_LIST_USER,
    ST_SEARCH,
    ST_DELETE,
    ST_PENDING,
    ST_INDEX,
    ST_COUNT
};

/*
 * ST_SEARCH returns candidates: the index hits after $1 (through the
 * trigram index: "id + 0" keeps the planner from walking the primary key
 * instead) and the first $2 queued rows, of which the first $2 by id; C
 * checks each.  A needle with more than HIT_CAP hits after $1 is common,
 * and a scan in id order finds its next rows sooner: the fifth column
 * tells, and pg_list() falls back to ST_LIST.
 * ST_INDEX stores folded texts from the indexer and unqueues them, unless
 * the row changed after the indexer read it.
 */
static const struct statement statements[ST_COUNT] = {
    [ST_INSERT] = {"insert",
                   "WITH new AS (INSERT INTO thought_model"
                   " (username, text, \"timestamp\")"
                   " VALUES ($1, $2, $3::timestamp) RETURNING id),"
                   " indexed AS (INSERT INTO thought_search (id, folded)"
                   " SELECT id, $4 FROM new)"
                   " SELECT id FROM new",
                   4},
    [ST_GET] = {"get", COLUMNS "WHERE id = $1::int8", 1},
    [ST_LIST] = {"list",
                 COLUMNS "WHERE id > $1::int8 ORDER BY id LIMIT $2::int8", 2},
    [ST_LIST_USER] = {"list_user",
                      COLUMNS "WHERE username = $3 AND id > $1::int8 "
                              "ORDER BY id LIMIT $2::int8",
                      3},
    [ST_SEARCH] = {"search",
                   "WITH hits AS MATERIALIZED (SELECT id FROM thought_search"
                   " WHERE folded LIKE $3 AND id + 0 > $1::int8 LIMIT " HIT_CAP
                   ") SELECT id, username, text, \"timestamp\"::timestamp,"
                   " (SELECT count(*) FROM hits) FROM thought_model"
                   " WHERE id = ANY (ARRAY(SELECT id FROM hits UNION ALL"
                   " (SELECT id FROM thought_search_pending"
                   " WHERE id > $1::int8 ORDER BY id LIMIT $2::int8)))"
                   " ORDER BY id LIMIT $2::int8",
                   3},
    [ST_DELETE] = {"delete", "DELETE FROM thought_model WHERE id = $1::int8",
                   1},
    [ST_PENDING] = {"pending",
                    "SELECT p.id, m.text FROM thought_search_pending AS p"
                    " LEFT JOIN thought_model AS m ON m.id = p.id"
                    " ORDER BY p.id LIMIT $1::int8",
                    1},
    [ST_INDEX] = {"index",
                  "WITH v AS (SELECT * FROM unnest($1::int8[], $2::text[],"
                  " $3::text[]) AS v (id, text, folded)),"
                  " stored AS (INSERT INTO thought_search (id, folded)"
                  " SELECT v.id, v.folded FROM v JOIN thought_model AS m"
                  " ON m.id = v.id AND m.text = v.text"
                  " ON CONFLICT (id) DO UPDATE SET folded = EXCLUDED.folded)"
                  " DELETE FROM thought_search_pending AS p USING v"
                  " WHERE p.id = v.id AND NOT EXISTS (SELECT 1 FROM"
                  " thought_model AS m WHERE m.id = v.id"
                  " AND m.text IS DISTINCT FROM v.text)",
                  3},
};

/*
 * The original's table, with a UTC default for rows inserted by hand, and
 * the search tables beside it.  An advisory lock keeps several starting
 * instances from racing.  A table made before the index (by the original)
 * has every row queued once.  Our own connections set
 * thoughts.indexes_itself, so the trigger queues only rows from others.
 */
static const char schema[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(7236617);"
    "CREATE TABLE IF NOT EXISTS thought_model ("
    " id SERIAL PRIMARY KEY,"
    " username VARCHAR(50),"
    " text VARCHAR(250),"
    " \"timestamp\" TIMESTAMP WITHOUT TIME ZONE"
    "  DEFAULT (now() AT TIME ZONE 'utc'));"
    "CREATE INDEX IF NOT EXISTS ix_thought_model_username"
    " ON thought_model (username);"
    "CREATE TABLE IF NOT EXISTS thought_search_pending ("
    " id bigint PRIMARY KEY);"
    "DO $$ BEGIN"
    " IF to_regclass('thought_search') IS NULL THEN"
    "  CREATE TABLE thought_search (id bigint PRIMARY KEY,"
    "   folded text NOT NULL);"
    "  INSERT INTO thought_search_pending (id) SELECT id FROM thought_model;"
    " END IF;"
    " END $$;"
    "CREATE OR REPLACE FUNCTION thought_search_queue() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP <> 'INSERT' THEN"
    "  DELETE FROM thought_search WHERE id = OLD.id;"
    "  DELETE FROM thought_search_pending WHERE id = OLD.id;"
    " END IF;"
    " IF TG_OP <> 'DELETE' AND current_setting('thoughts.indexes_itself',"
    "  true) IS DISTINCT FROM 'on' THEN"
    "  INSERT INTO thought_search_pending (id) VALUES (NEW.id)"
    "   ON CONFLICT DO NOTHING;"
    " END IF;"
    " RETURN NULL;"
    " END $$;"
    "CREATE OR REPLACE TRIGGER thought_search_queue"
    " AFTER INSERT OR DELETE OR UPDATE OF id, text ON thought_model"
    " FOR EACH ROW EXECUTE FUNCTION thought_search_queue();"
    "COMMIT;";

/* Best effort: without pg_trgm, search reads thought_search whole. */
static const char trigram_index[] =
    "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    "CREATE INDEX IF NOT EXISTS ix_thought_search_trgm"
    " ON thought_search USING gin (folded gin_trgm_ops);";

struct pg_store {
    struct store base; /* first, so a struct store * converts back */
    const struct config *cfg;
    PGconn *conn;             /* NULL while disconnected */
    struct timespec retry_at; /* no connection attempt before this */
    int backoff_ms;
    bool lost; /* a working connection broke; the next one is a reconnect */
};

static atomic_bool schema_ready;

static struct pg_store *from_base(struct store *s)
{
    return (struct pg_store *)s;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void disconnect(struct pg_store *s)
{
    PQfinish(s->conn);
    s->conn = NULL;
}

/* Runs a simple command; true when it succeeded. */
static bool run_command(struct pg_store *s, const char *sql, char *err,
                        size_t err_size)
{
    PGresult *res = PQexec(s->conn, sql);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

    if (!ok)
        snprintf(err, err_size, "%s", PQerrorMessage(s->conn));
    PQclear(res);
    if (!ok && PQstatus(s->conn) == CONNECTION_OK &&
        PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        res = PQexec(s->conn, "ROLLBACK");
        PQclear(res);
    }
    return ok;
}

static bool prepare_all(struct pg_store *s, char *err, size_t err_size)
{
    const Oid int8_params[3] = {INT8OID, INT8OID, 0};

    for (int i = 0; i < ST_COUNT; i++) {
        const struct statement *st = &statements[i];
        const Oid *types =
            (i == ST_INSERT || i == ST_INDEX) ? NULL : int8_params;
        PGresult *res =
            PQprepare(s->conn, st->name, st->sql, st->n_params, types);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok) {
            snprintf(err, err_size, "cannot prepare %s: %s", st->name,
                     PQerrorMessage(s->conn));
            return false;
        }
    }
    return true;
}

/* Makes a libpq message (often several lines) fit one log line. */
static void one_line(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
}

/*
 * Server notices and warnings go through our log, not libpq's default
 * of raw lines on stderr, which would break a JSON log.  Notices (such
 * as "relation already exists" at start) are routine: debug level.
 */
static void on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *severity =
        PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    if (primary == NULL)
        primary = PQresultErrorMessage(res);
    if (severity != NULL && strcmp(severity, "WARNING") == 0)
        log_warning("PostgreSQL: %s", primary);
    else
        log_debug("PostgreSQL %s: %s", severity != NULL ? severity : "notice",
                  primary);
}

static bool open_connection(struct pg_store *s, char *err, size_t err_size)
{
    char port[16];
    const struct config *c = s->cfg;

    snprintf(port, sizeof(port), "%d", c->postgres_port);
    const char *keys[] = {"host",
                          "port",
                          "dbname",
                          "user",
                          "password",
                          "connect_timeout",
                          "client_encoding",
                          "options",
                          "application_name",
                          "keepalives_idle",
                          "tcp_user_timeout",
                          NULL};
    const char *values[] = {c->postgres_host,
                            port,
                            c->postgres_db,
                            c->postgres_user,
                            c->postgres_password,
                            "2",
                            "UTF8",
                            "-c TimeZone=UTC -c DateStyle=ISO,YMD "
                            "-c thoughts.indexes_itself=on "
                            "-c enable_seqscan=off "
                            "-c client_min_messages=warning",
                            "thoughts-backend",
                            "10",
                            "10000",
                            NULL};

    s->conn = PQconnectdbParams(keys, values, 0);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        snprintf(err, err_size, "%s", PQerrorMessage(s->conn));
        disconnect(s);
        return false;
    }
    PQsetNoticeReceiver(s->conn, on_notice, NULL);
    if (!atomic_load(&schema_ready)) {
        if (!run_command(s, schema, err, err_size)) {
            disconnect(s);
            return false;
        }
        char why[512];
        if (!run_command(s, trigram_index, why, sizeof(why))) {
            one_line(why);
            log_warning("PostgreSQL: no trigram index, search reads every "
                        "row: %s",
                        why);
        }
        atomic_store(&schema_ready, true);
    }
    if (!prepare_all(s, err, err_size)) {
        disconnect(s);
        return false;
    }
    return true;
}

/*
 * Makes sure there is a connection, honouring the back-off; returns
 * false at once while waiting between attempts.
 */
static bool ensure_connected(struct pg_store *s)
{
    char err[512];

    /*
     * A backend that was terminated or shut down has usually told us so
     * already; reading that now lets us reconnect before sending a
     * statement, instead of failing it.
     */
    if (s->conn != NULL) {
        if (PQconsumeInput(s->conn) == 1 && PQstatus(s->conn) == CONNECTION_OK)
            return true;
        log_warning("PostgreSQL connection lost; reconnecting");
        disconnect(s);
        s->lost = true;
    }
    if (now_ms() <
        (int64_t)s->retry_at.tv_sec * 1000 + s->retry_at.tv_nsec / 1000000)
        return false;

    if (open_connection(s, err, sizeof(err))) {
        if (s->backoff_ms > 0 || s->lost) {
            log_info("PostgreSQL connection re-established");
            metrics_db_reconnect();
        }
        s->lost = false;
        s->backoff_ms = 0;
        return true;
    }
    one_line(err);
    s->backoff_ms = s->backoff_ms == 0 ? FIRST_BACKOFF_MS : s->backoff_ms * 2;
    if (s->backoff_ms > MAX_BACKOFF_MS)
        s->backoff_ms = MAX_BACKOFF_MS;
    log_warning("PostgreSQL unavailable (retrying in %d ms): %s", s->backoff_ms,
                err);
    clock_gettime(CLOCK_MONOTONIC, &s->retry_at);
    s->retry_at.tv_nsec += (long)s->backoff_ms * 1000000L;
    s->retry_at.tv_sec += s->retry_at.tv_nsec / 1000000000L;
    s->retry_at.tv_nsec %= 1000000000L;
    return false;
}

/* Connection-level failures and overload are worth retrying later. */
static bool transient(const char *sqlstate)
{
    return sqlstate != NULL &&
           (strncmp(sqlstate, "08", 2) == 0 ||
            strncmp(sqlstate, "53", 2) == 0 ||
            strncmp(sqlstate, "57P", 3) == 0 ||
            strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0);
}

/*
 * Runs a prepared statement.  On success *out holds the result (the
 * caller clears it).  *broken tells whether the connection died, so the
 * caller may retry on a new one.
 */
static enum store_result execute(struct pg_store *s, enum stmt_id id,
                                 const char *const *params, PGresult **out,
                                 bool *broken)
{
    *out = NULL;
    *broken = false;
    if (!ensure_connected(s))
        return STORE_UNAVAILABLE;

    const struct statement *st = &statements[id];
    PGresult *res =
        PQexecPrepared(s->conn, st->name, st->n_params, params, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        *out = res;
        return STORE_OK;
    }

    char msg[512];
    snprintf(msg, sizeof(msg), "%s", PQerrorMessage(s->conn));
    one_line(msg);
    const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    bool retry_later = transient(sqlstate);
    PQclear(res);
    metrics_db_error();
    if (PQstatus(s->conn) != CONNECTION_OK) {
        log_warning("PostgreSQL connection lost during %s: %s", st->name, msg);
        disconnect(s);
        s->lost = true;
        *broken = true;
        return STORE_UNAVAILABLE;
    }
    if (retry_later) {
        log_warning("PostgreSQL busy during %s: %s", st->name, msg);
        return STORE_UNAVAILABLE;
    }
    log_error("PostgreSQL error during %s: %s", st->name, msg);
    return STORE_ERROR;
}

/* execute(), retried once on a new connection if the old one broke. */
static enum store_result execute_idempotent(struct pg_store *s, enum stmt_id id,
                                            const char *const *params,
                                            PGresult **out)
{
    bool broken;
    enum store_result r = execute(s, id, params, out, &broken);

    if (r == STORE_UNAVAILABLE && broken) {
        s->retry_at.tv_sec = 0;
        s->retry_at.tv_nsec = 0;
        r = execute(s, id, params, out, &broken);
    }
    return r;
}

static void read_row(PGresult *res, int i, struct thought *t)
{
    memset(t, 0, sizeof(*t));
    t->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    if (!PQgetisnull(res, i, 1)) {
        t->username = PQgetvalue(res, i, 1);
        t->username_len = (size_t)PQgetlength(res, i, 1);
    }
    if (!PQgetisnull(res, i, 2)) {
        t->text = PQgetvalue(res, i, 2);
        t->text_len = (size_t)PQgetlength(res, i, 2);
    }
    if (!PQgetisnull(res, i, 3))
        t->has_timestamp =
            timestamp_parse(PQgetvalue(res, i, 3), &t->timestamp);
}

static enum store_result pg_create(struct store *base, const char *username,
                                   const char *text, int64_t timestamp,
                                   int64_t *id)
{
    struct pg_store *s = from_base(base);
    char when[TIMESTAMP_TEXT_SIZE];
    PGresult *res;
    bool broken;
    size_t len;

    timestamp_format_db(timestamp, when);
    char *folded = text_casefold_stored(text, strlen(text), &len);
    const char *params[4] = {username, text, when, folded};
    enum store_result r = execute(s, ST_INSERT, params, &res, &broken);
    free(folded);
    if (r != STORE_OK)
        return r;
    *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return STORE_OK;
}

static enum store_result pg_get(struct store *base, int64_t id, store_row_fn fn,
                                void *ctx)
{
    struct pg_store *s = from_base(base);
    char id_text[24];
    PGresult *res;
    struct thought t;

    snprintf(id_text, sizeof(id_text), "%lld", (long long)id);
    const char *params[1] = {id_text};
    enum store_result r = execute_idempotent(s, ST_GET, params, &res);
    if (r != STORE_OK)
        return r;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return STORE_NOT_FOUND;
    }
    read_row(res, 0, &t);
    fn(&t, ctx);
    PQclear(res);
    return STORE_OK;
}

/* Does the folded text of a row contain the folded needle? */
static bool row_matches(const struct thought *t, const char *needle)
{
    if (t->text == NULL)
        return false;

    size_t len;
    char *folded = text_casefold_stored(t->text, t->text_len, &len);
    bool hit = memmem(folded, len, needle, strlen(needle)) != NULL;
    free(folded);
    return hit;
}

/* A LIKE pattern matching the needle anywhere, every character literal. */
static char *like_pattern(const char *needle)
{
    struct buf b = BUF_INIT;

    buf_puts(&b, "%");
    for (const char *p = needle; *p != '\0'; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            buf_puts(&b, "\\");
        buf_append(&b, p, 1);
    }
    buf_puts(&b, "%");
    return b.data;
}

/* Which statement finds the candidates of a listing. */
static enum stmt_id list_statement(const struct store_query *q)
{
    if (q->username != NULL)
        return ST_LIST_USER;
    if (q->search != NULL &&
        text_length(q->search, strlen(q->search)) >= INDEX_MIN_CHARS)
        return ST_SEARCH;
    return ST_LIST;
}

/*
 * One page of rows after `after_id`: `limit` rows from a plain listing,
 * or for a search, candidates read in batches until `limit` match.
 */
static enum store_result pg_list(struct store *base,
                                 const struct store_query *q, store_row_fn fn,
                                 void *ctx, int *rows)
{
    struct pg_store *s = from_base(base);
    char after[24], limit[24];
    int64_t after_id = q->after_id;
    int wanted = q->limit;
    bool more = true;
    enum stmt_id id = list_statement(q);
    char *pattern = id == ST_SEARCH ? like_pattern(q->search) : NULL;

    *rows = 0;
    while (more && *rows < wanted) {
        int batch = q->search != NULL ? SCAN_ROWS : wanted - *rows;
        snprintf(after, sizeof(after), "%lld", (long long)after_id);
        snprintf(limit, sizeof(limit), "%d", batch);
        const char *params[3] = {after, limit,
                                 pattern != NULL ? pattern : q->username};
        PGresult *res;
        enum store_result r = execute_idempotent(s, id, params, &res);
        if (r != STORE_OK) {
            free(pattern);
            return r;
        }

        int n = PQntuples(res);
        bool stop = false;
        if (id == ST_SEARCH && n > 0 &&
            strcmp(PQgetvalue(res, 0, 4), HIT_CAP) == 0) {
            PQclear(res);
            id = ST_LIST;
            continue;
        }
        for (int i = 0; i < n && !stop; i++) {
            struct thought t;
            read_row(res, i, &t);
            after_id = t.id;
            if (q->search != NULL && !row_matches(&t, q->search))
                continue;
            ++*rows;
            stop = !fn(&t, ctx) || *rows == wanted;
        }
        PQclear(res);
        more = !stop && n == batch;
        if (stop)
            break;
    }
    free(pattern);
    return STORE_OK;
}

static enum store_result pg_delete(struct store *base, int64_t id)
{
    struct pg_store *s = from_base(base);
    char id_text[24];
    PGresult *res;

    snprintf(id_text, sizeof(id_text), "%lld", (long long)id);
    const char *params[1] = {id_text};
    enum store_result r = execute_idempotent(s, ST_DELETE, params, &res);
    PQclear(res);
    return r;
}

static enum store_result pg_check(struct store *base)
{
    struct pg_store *s = from_base(base);

    if (!ensure_connected(s))
        return STORE_UNAVAILABLE;
    PGresult *res = PQexec(s->conn, "SELECT 1");
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    if (!ok && PQstatus(s->conn) != CONNECTION_OK)
        disconnect(s);
    return ok ? STORE_OK : STORE_UNAVAILABLE;
}

static void pg_close(struct store *base)
{
    struct pg_store *s = from_base(base);

    disconnect(s);
    free(s);
}

static const struct store_ops pg_ops = {
    .create = pg_create,
    .get = pg_get,
    .list = pg_list,
    .delete = pg_delete,
    .check = pg_check,
    .close = pg_close,
};

struct store *store_postgres_open(const struct config *cfg, bool create_schema,
                                  char *err, size_t err_size)
{
    struct pg_store *s = xcalloc(1, sizeof(*s));

    (void)err;
    (void)err_size;
    s->base.ops = &pg_ops;
    s->cfg = cfg;
    if (create_schema)
        atomic_store(&schema_ready, false);
    /* Connecting now is only an attempt; callers use check(). */
    ensure_connected(s);
    return &s->base;
}

/* ---- the indexer ------------------------------------------------------ */

/* Appends s as one element of an array literal: quoted, or NULL. */
static void array_element(struct buf *b, const char *s, size_t len)
{
    if (b->len > 1)
        buf_puts(b, ",");
    if (s == NULL) {
        buf_puts(b, "NULL");
        return;
    }
    buf_puts(b, "\"");
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            buf_puts(b, "\\");
        buf_append(b, s + i, 1);
    }
    buf_puts(b, "\"");
}

/*
 * Folds up to INDEXER_ROWS queued rows into the index; true when there
 * may be more.
 */
static bool index_chunk(struct pg_store *s)
{
    char limit[24];
    PGresult *res;

    snprintf(limit, sizeof(limit), "%d", INDEXER_ROWS);
    const char *params[1] = {limit};
    if (execute_idempotent(s, ST_PENDING, params, &res) != STORE_OK)
        return false;

    int n = PQntuples(res);
    struct buf ids = BUF_INIT, texts = BUF_INIT, folded = BUF_INIT;
    buf_puts(&ids, "{");
    buf_puts(&texts, "{");
    buf_puts(&folded, "{");
    for (int i = 0; i < n; i++) {
        const char *id = PQgetvalue(res, i, 0);
        array_element(&ids, id, strlen(id));
        bool null = PQgetisnull(res, i, 1);
        const char *text = null ? NULL : PQgetvalue(res, i, 1);
        size_t len = (size_t)PQgetlength(res, i, 1), flen = 0;
        char *f = null ? NULL : text_casefold_stored(text, len, &flen);
        array_element(&texts, text, len);
        array_element(&folded, f, flen);
        free(f);
    }
    PQclear(res);
    buf_puts(&ids, "}");
    buf_puts(&texts, "}");
    buf_puts(&folded, "}");

    bool ok = n == 0;
    if (n > 0) {
        const char *arrays[3] = {ids.data, texts.data, folded.data};
        ok = execute_idempotent(s, ST_INDEX, arrays, &res) == STORE_OK;
        PQclear(res);
    }
    buf_free(&ids);
    buf_free(&texts);
    buf_free(&folded);
    return ok && n == INDEXER_ROWS;
}

static pthread_mutex_t indexer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t indexer_wake = PTHREAD_COND_INITIALIZER;
static bool indexer_running;
static bool indexer_stopping;
static pthread_t indexer_thread;

static void *indexer_main(void *arg)
{
    /* Connecting here keeps start-up from waiting for a second connection. */
    struct pg_store *s = from_base(store_postgres_open(arg, false, NULL, 0));

    pthread_mutex_lock(&indexer_lock);
    while (!indexer_stopping) {
        pthread_mutex_unlock(&indexer_lock);
        bool more = index_chunk(s);
        pthread_mutex_lock(&indexer_lock);
        if (!more && !indexer_stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += INDEXER_IDLE_S;
            pthread_cond_timedwait(&indexer_wake, &indexer_lock, &until);
        }
    }
    pthread_mutex_unlock(&indexer_lock);
    pg_close(&s->base);
    return NULL;
}

void store_postgres_start_indexer(const struct config *cfg)
{
    pthread_mutex_lock(&indexer_lock);
    if (!indexer_running) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        int rc =
            pthread_create(&indexer_thread, &attr, indexer_main, (void *)cfg);
        pthread_attr_destroy(&attr);
        indexer_running = rc == 0;
    }
    pthread_mutex_unlock(&indexer_lock);
}

void store_postgres_stop_indexer(void)
{
    pthread_mutex_lock(&indexer_lock);
    if (!indexer_running) {
        pthread_mutex_unlock(&indexer_lock);
        return;
    }
    indexer_stopping = true;
    pthread_cond_signal(&indexer_wake);
    pthread_mutex_unlock(&indexer_lock);
    pthread_join(indexer_thread, NULL);
    pthread_mutex_lock(&indexer_lock);
    indexer_running = false;
    indexer_stopping = false;
    pthread_mutex_unlock(&indexer_lock);
}
