/*
 * Unit tests for the SQLite store, through the store.h interface on a
 * database file in a temporary directory: create, get, list (by user,
 * by case-folded search, in batches), delete, and rows inserted by hand
 * with SQL, as the original's users do.  A second connection of our own
 * plays the part of that hand.  The engine's source is included, so that
 * the search statement's query plan can be checked: the trigram index,
 * never a scan of the table.
 */
#include "testutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "store/sqlite.c"
#include "store/store.h"

#define JUNE_2019 (1559504674LL * 1000000 + 384178)
#define MAY_2019  (1557236854LL * 1000000)

struct fixture {
    char *dir;
    char path[4200];
    struct config cfg;
    struct store *store;
    sqlite3 *raw; /* our own connection, for SQL by hand */
};

static const char *const *stub_env;

static const char *stub_get(const char *name)
{
    return testutil_lookup(stub_env, name);
}

static int group_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[512];

    if (f == NULL)
        return -1;
    f->dir = testutil_mkdtemp();
    testutil_join(f->path, sizeof(f->path), f->dir, "thoughts.db");

    const char *env[] = {"SQLITE_PATH", f->path, "DATA_DIR", f->dir, NULL};
    stub_env = env;
    bool loaded = config_load(&f->cfg, stub_get, err, sizeof(err));
    stub_env = NULL;
    if (!loaded) {
        fprintf(stderr, "config_load: %s\n", err);
        return -1;
    }
    /* As the service does: with the writer thread running from the start. */
    if (!store_setup(&f->cfg, false, err, sizeof(err))) {
        fprintf(stderr, "store_setup: %s\n", err);
        return -1;
    }
    f->store = store_for_thread();
    if (f->store == NULL ||
        sqlite3_open_v2(f->path, &f->raw, SQLITE_OPEN_READWRITE, NULL) !=
            SQLITE_OK)
        return -1;
    sqlite3_busy_timeout(f->raw, 5000);
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    struct fixture *f = *state;

    sqlite3_close(f->raw);
    store_shutdown();
    config_free(&f->cfg);
    testutil_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void raw_exec(struct fixture *f, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(f->raw, sql, NULL, NULL, &msg) != SQLITE_OK) {
        char copy[512];
        snprintf(copy, sizeof(copy), "%s", msg ? msg : "?");
        sqlite3_free(msg);
        fail_msg("%s: %s", sql, copy);
    }
}

/* Every test starts from an empty table. */
static int empty_table(void **state)
{
    struct fixture *f = *state;

    raw_exec(f, "DELETE FROM thought_model");
    return 0;
}

/*
 * Copies of the rows a callback saw, kept in fixed arrays rather than
 * on the heap so that a failing assertion, which leaves the test at
 * once, cannot leak them.  A NULL column stays a NULL pointer.
 */
struct row_copy {
    int64_t id;
    const char *username; /* NULL or username_buf */
    const char *text;     /* NULL or text_buf */
    size_t text_len;
    bool has_timestamp;
    int64_t timestamp;
    char username_buf[256];
    char text_buf[1024];
};

struct rows {
    size_t n;
    size_t stop_after; /* 0: never stop early */
    struct row_copy r[32];
};

static const char *copy_column(char *buf, size_t size, const char *s,
                               size_t len)
{
    if (s == NULL)
        return NULL;
    assert_true(len < size);
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

static bool collect(const struct thought *t, void *ctx)
{
    struct rows *rows = ctx;

    assert_true(rows->n < sizeof(rows->r) / sizeof(rows->r[0]));
    struct row_copy *c = &rows->r[rows->n++];
    c->id = t->id;
    c->username = copy_column(c->username_buf, sizeof(c->username_buf),
                              t->username, t->username_len);
    c->text =
        copy_column(c->text_buf, sizeof(c->text_buf), t->text, t->text_len);
    c->text_len = t->text_len;
    c->has_timestamp = t->has_timestamp;
    c->timestamp = t->timestamp;
    return rows->stop_after == 0 || rows->n < rows->stop_after;
}

static int64_t create(struct fixture *f, const char *username, const char *text,
                      int64_t timestamp)
{
    int64_t id = -1;

    assert_int_equal(store_create(f->store, username, text, timestamp, &id),
                     STORE_OK);
    assert_true(id > 0);
    return id;
}

/* Lists into rows and checks the count agrees with the callbacks. */
static void list(struct fixture *f, const struct store_query *q,
                 struct rows *rows)
{
    int n = -1;

    rows->n = 0;
    assert_int_equal(store_list(f->store, q, collect, rows, &n), STORE_OK);
    assert_int_equal((size_t)n, rows->n);
}

static struct store_query query_all(void)
{
    struct store_query q = {NULL, NULL, INT64_MIN, 100};

    return q;
}

/* Lists rows matching `needle` after folding it as the API does. */
static void search(struct fixture *f, const char *needle, struct rows *rows)
{
    struct store_query q = query_all();
    char *folded = text_casefold(needle, strlen(needle), NULL);

    assert_non_null(folded);
    q.search = folded;
    list(f, &q, rows);
    free(folded);
}

/* Prints the texts of rows, to show what a failing listing returned. */
static void print_texts(const struct rows *rows)
{
    for (size_t i = 0; i < rows->n; i++)
        print_message("  row %lld: %s\n", (long long)rows->r[i].id,
                      rows->r[i].text ? rows->r[i].text : "(null)");
}

/* Asserts that the rows' texts are exactly `expect`, in order. */
static void assert_texts(const struct rows *rows, const char *const *expect,
                         size_t count)
{
    if (rows->n != count) {
        print_texts(rows);
        fail_msg("%zu rows, expected %zu", rows->n, count);
    }
    for (size_t i = 0; i < count; i++)
        assert_string_equal(rows->r[i].text, expect[i]);
}

#define ASSERT_TEXTS(rows, ...)                                                \
    do {                                                                       \
        static const char *const expect_[] = {__VA_ARGS__};                    \
        assert_texts(rows, expect_, sizeof(expect_) / sizeof(expect_[0]));     \
    } while (0)

static void assert_no_rows(const struct rows *rows)
{
    if (rows->n != 0) {
        print_texts(rows);
        fail_msg("%zu rows, expected none", rows->n);
    }
}

static void test_create_then_get(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};
    int64_t id = create(f, "peterparker", "With great power...", JUNE_2019);

    assert_int_equal(store_get(f->store, id, collect, &rows), STORE_OK);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.r[0].id, id);
    assert_string_equal(rows.r[0].username, "peterparker");
    assert_string_equal(rows.r[0].text, "With great power...");
    assert_true(rows.r[0].has_timestamp);
    assert_int_equal(rows.r[0].timestamp, JUNE_2019);
}

/* The column holds the form SQLAlchemy writes, for the original's tools. */
static void test_timestamp_stored_in_db_form(void **state)
{
    struct fixture *f = *state;
    sqlite3_stmt *st;
    int64_t id = create(f, "u", "t", MAY_2019);

    assert_int_equal(sqlite3_prepare_v2(f->raw,
                                        "SELECT timestamp FROM thought_model "
                                        "WHERE id = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0),
                        "2019-05-07 13:47:34.000000");
    sqlite3_finalize(st);
}

static void test_unicode_round_trip(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};
    const char *text = "café € 😀 'quoted'";
    int64_t id = create(f, "élève", text, 0);

    assert_int_equal(store_get(f->store, id, collect, &rows), STORE_OK);
    assert_string_equal(rows.r[0].username, "élève");
    assert_string_equal(rows.r[0].text, text);
    assert_int_equal(rows.r[0].text_len, strlen(text));
}

static void test_ids_increase(void **state)
{
    struct fixture *f = *state;
    int64_t a = create(f, "u", "one", 0);
    int64_t b = create(f, "u", "two", 0);
    int64_t c = create(f, "u", "three", 0);

    assert_true(a < b);
    assert_true(b < c);
}

/* AUTOINCREMENT: a deleted id is never handed out again. */
static void test_ids_not_reused_after_delete(void **state)
{
    struct fixture *f = *state;
    int64_t a = create(f, "u", "one", 0);

    assert_int_equal(store_delete(f->store, a), STORE_OK);
    assert_true(create(f, "u", "two", 0) > a);
}

static void test_get_absent(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};
    static const int64_t absent[] = {0, -1, 424242, INT64_MAX, INT64_MIN};

    create(f, "u", "present", 0);
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        assert_int_equal(store_get(f->store, absent[i], collect, &rows),
                         STORE_NOT_FOUND);
        assert_int_equal(rows.n, 0);
    }
}

static void test_list_all_in_id_order(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    create(f, "b", "first", MAY_2019);
    create(f, "a", "second", JUNE_2019);
    create(f, "c", "third", 0);
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "first", "second", "third");
    assert_true(rows.r[0].id < rows.r[1].id);
    assert_true(rows.r[1].id < rows.r[2].id);
}

static void test_list_empty_table(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    list(f, &q, &rows);
    assert_no_rows(&rows);
}

/* A username matches exactly: no prefix, no other case. */
static void test_list_by_username(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    create(f, "peter", "p1", 0);
    create(f, "Peter", "capital", 0);
    create(f, "peterparker", "longer", 0);
    create(f, "bruce", "b1", 0);
    create(f, "peter", "p2", 0);

    q.username = "peter";
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "p1", "p2");
    assert_string_equal(rows.r[0].username, "peter");

    q.username = "nobody";
    list(f, &q, &rows);
    assert_no_rows(&rows);
}

static void test_search_literal_specials(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};

    create(f, "u", "100% sure", 0);
    create(f, "u", "100 percent", 0);
    create(f, "u", "snake_case", 0);
    create(f, "u", "snakeXcase", 0);
    create(f, "u", "back\\slash", 0);
    create(f, "u", "backslash", 0);
    create(f, "u", "it's", 0);
    create(f, "u", "say \"hi\"", 0);

    search(f, "%", &rows);
    ASSERT_TEXTS(&rows, "100% sure");
    search(f, "0%", &rows);
    ASSERT_TEXTS(&rows, "100% sure");
    search(f, "_", &rows);
    ASSERT_TEXTS(&rows, "snake_case");
    search(f, "e_c", &rows);
    ASSERT_TEXTS(&rows, "snake_case");
    search(f, "\\", &rows);
    ASSERT_TEXTS(&rows, "back\\slash");
    search(f, "k\\s", &rows);
    ASSERT_TEXTS(&rows, "back\\slash");
    search(f, "'", &rows);
    ASSERT_TEXTS(&rows, "it's");
    search(f, "\"hi\"", &rows);
    ASSERT_TEXTS(&rows, "say \"hi\"");
    search(f, "%%", &rows);
    assert_no_rows(&rows);
}

static void test_search_case_insensitive_ascii(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};

    create(f, "u", "With Great Power", 0);
    create(f, "u", "nothing here", 0);
    search(f, "GREAT", &rows);
    ASSERT_TEXTS(&rows, "With Great Power");
    search(f, "great power", &rows);
    ASSERT_TEXTS(&rows, "With Great Power");
}

#define NFD_ECOLE "une e\xcc\x81" /* e and U+0301, then "cole NFD" */

/* Unicode folding on both sides: ÉCOLE finds école and back. */
static void test_search_unicode_folding(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};

    create(f, "u", "ÉCOLE primaire", 0);
    create(f, "u", "une école", 0);
    create(f, "u", "ecole sans accent", 0);
    create(f, "u", NFD_ECOLE "cole NFD", 0);
    create(f, "u", "Straße", 0);
    create(f, "u", "STRASSE", 0);
    create(f, "u", "ΣΟΦΙΑ", 0);

    search(f, "ÉCOLE", &rows);
    ASSERT_TEXTS(&rows, "ÉCOLE primaire", "une école", NFD_ECOLE "cole NFD");
    search(f, "école", &rows);
    ASSERT_TEXTS(&rows, "ÉCOLE primaire", "une école", NFD_ECOLE "cole NFD");
    search(f, "ecole", &rows);
    ASSERT_TEXTS(&rows, "ecole sans accent");
    search(f, "STRASSE", &rows);
    ASSERT_TEXTS(&rows, "Straße", "STRASSE");
    search(f, "σοφ", &rows);
    ASSERT_TEXTS(&rows, "ΣΟΦΙΑ");
}

/* Rows put in by hand with NULL or non-UTF-8 text must not break search. */
static void test_search_over_hand_inserted_rows(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};

    raw_exec(f, "INSERT INTO thought_model (username, text) "
                "VALUES ('u', NULL)");
    raw_exec(f, "INSERT INTO thought_model (username, text) "
                "VALUES ('u', CAST(X'43414645e920626172' AS TEXT))");
    create(f, "u", "cafe au lait", 0);

    search(f, "caf", &rows);
    assert_int_equal(rows.n, 2);
    assert_memory_equal(rows.r[0].text, "CAFE\xe9 bar", 9);
    assert_string_equal(rows.r[1].text, "cafe au lait");
    search(f, "bar", &rows);
    assert_int_equal(rows.n, 1);
}

static void test_search_empty_needle_matches_all(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    create(f, "u", "one", 0);
    create(f, "u", "two", 0);
    q.search = "";
    list(f, &q, &rows);
    assert_int_equal(rows.n, 2);
}

/* Walks the listing in batches the way the API streams it. */
static void test_batching_by_after_id(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};
    int64_t ids[7];
    size_t seen = 0;
    int batches = 0;

    for (int i = 0; i < 7; i++) {
        char text[16];
        snprintf(text, sizeof(text), "row %d", i);
        ids[i] = create(f, "u", text, 0);
    }
    q.limit = 3;
    for (;;) {
        list(f, &q, &rows);
        batches++;
        assert_true(rows.n <= 3);
        for (size_t i = 0; i < rows.n; i++)
            assert_int_equal(rows.r[i].id, ids[seen++]);
        if (rows.n == 0)
            break;
        q.after_id = rows.r[rows.n - 1].id;
        assert_true(batches < 10);
    }
    assert_int_equal(seen, 7);
    assert_int_equal(batches, 4); /* 3 + 3 + 1 + the empty one */
}

static void test_after_id_excludes_itself(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    create(f, "u", "a", 0);
    int64_t mid = create(f, "u", "b", 0);
    create(f, "u", "c", 0);
    q.after_id = mid;
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "c");
}

static void test_batching_with_filters(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    for (int i = 0; i < 4; i++) {
        create(f, "peter", "needle peter", 0);
        create(f, "bruce", "needle bruce", 0);
        create(f, "bruce", "hay", 0);
    }

    q.username = "peter";
    q.limit = 3;
    list(f, &q, &rows);
    assert_int_equal(rows.n, 3);
    q.after_id = rows.r[2].id;
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "needle peter");

    q = query_all();
    q.search = "needle";
    q.limit = 5;
    list(f, &q, &rows);
    assert_int_equal(rows.n, 5);
    q.after_id = rows.r[4].id;
    list(f, &q, &rows);
    assert_int_equal(rows.n, 3);
}

/* A query with both filters must honour both. */
static void test_username_and_search_together(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    create(f, "peter", "spider sense", 0);
    create(f, "peter", "daily bugle", 0);
    create(f, "bruce", "spider? no, bat", 0);

    q.username = "peter";
    q.search = "spider";
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "spider sense");
}

static void test_limit_zero(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    create(f, "u", "one", 0);
    q.limit = 0;
    list(f, &q, &rows);
    assert_no_rows(&rows);
}

static void test_callback_stops_early(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    create(f, "u", "one", 0);
    create(f, "u", "two", 0);
    create(f, "u", "three", 0);
    rows.stop_after = 1;
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "one");

    /* The statement is reusable after being abandoned half-way. */
    rows.stop_after = 0;
    list(f, &q, &rows);
    assert_int_equal(rows.n, 3);
}

static void test_delete(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};
    int64_t keep = create(f, "u", "keep", 0);
    int64_t gone = create(f, "u", "gone", 0);

    assert_int_equal(store_delete(f->store, gone), STORE_OK);
    assert_int_equal(store_get(f->store, gone, collect, &rows),
                     STORE_NOT_FOUND);
    assert_int_equal(store_get(f->store, keep, collect, &rows), STORE_OK);
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "keep");
}

static void test_delete_absent_is_ok(void **state)
{
    struct fixture *f = *state;
    int64_t id = create(f, "u", "once", 0);

    assert_int_equal(store_delete(f->store, id), STORE_OK);
    assert_int_equal(store_delete(f->store, id), STORE_OK);
    assert_int_equal(store_delete(f->store, 987654321), STORE_OK);
    assert_int_equal(store_delete(f->store, INT64_MAX), STORE_OK);
    assert_int_equal(store_delete(f->store, -5), STORE_OK);
}

/* Reads the one row whose text is `text`. */
static void get_by_text(struct fixture *f, const char *text, struct rows *rows)
{
    struct store_query q = query_all();
    struct rows all = {0};

    list(f, &q, &all);
    rows->n = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (all.r[i].text != NULL && strcmp(all.r[i].text, text) == 0) {
            assert_int_equal(store_get(f->store, all.r[i].id, collect, rows),
                             STORE_OK);
        }
    }
    assert_int_equal(rows->n, 1);
}

static void test_hand_inserted_timestamps(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};

    raw_exec(f, "INSERT INTO thought_model (username, text, timestamp) VALUES"
                " ('u', 'space', '2019-05-07 13:47:34'),"
                " ('u', 'tee', '2019-05-07T13:47:34'),"
                " ('u', 'fraction', '2019-06-02 19:44:34.384178'),"
                " ('u', 'millis', '2019-05-07 13:47:34.5'),"
                " ('u', 'null', NULL),"
                " ('u', 'garbage', 'yesterday')");

    get_by_text(f, "space", &rows);
    assert_true(rows.r[0].has_timestamp);
    assert_int_equal(rows.r[0].timestamp, MAY_2019);

    get_by_text(f, "tee", &rows);
    assert_true(rows.r[0].has_timestamp);
    assert_int_equal(rows.r[0].timestamp, MAY_2019);

    get_by_text(f, "fraction", &rows);
    assert_int_equal(rows.r[0].timestamp, JUNE_2019);

    get_by_text(f, "millis", &rows);
    assert_int_equal(rows.r[0].timestamp, MAY_2019 + 500000);

    get_by_text(f, "null", &rows);
    assert_false(rows.r[0].has_timestamp);

    /* Served with a null timestamp rather than failing the request. */
    get_by_text(f, "garbage", &rows);
    assert_false(rows.r[0].has_timestamp);
}

/* The schema's default fills in the current time, in UTC. */
static void test_hand_inserted_default_timestamp(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};
    int64_t before = ((int64_t)time(NULL) - 1) * 1000000;

    raw_exec(f, "INSERT INTO thought_model (username, text) "
                "VALUES ('u', 'defaulted')");
    int64_t after = ((int64_t)time(NULL) + 1) * 1000000;
    get_by_text(f, "defaulted", &rows);
    assert_true(rows.r[0].has_timestamp);
    assert_true(rows.r[0].timestamp >= before);
    assert_true(rows.r[0].timestamp <= after);
}

static void test_hand_inserted_null_columns(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};

    raw_exec(f, "INSERT INTO thought_model (username, text, timestamp) "
                "VALUES (NULL, NULL, NULL)");
    list(f, &q, &rows);
    assert_int_equal(rows.n, 1);
    assert_null(rows.r[0].username);
    assert_null(rows.r[0].text);
    assert_false(rows.r[0].has_timestamp);
}

/*
 * An id chosen by hand is served like any other, even one past 2^53
 * where a double would lose it.
 */
static void test_hand_inserted_large_id(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};

    raw_exec(f, "INSERT INTO thought_model (id, username, text) "
                "VALUES (9007199254740993, 'u', 'big')");
    assert_int_equal(store_get(f->store, 9007199254740993LL, collect, &rows),
                     STORE_OK);
    assert_int_equal(rows.r[0].id, 9007199254740993LL);
    assert_string_equal(rows.r[0].text, "big");
    assert_int_equal(store_get(f->store, 9007199254740992LL, collect, &rows),
                     STORE_NOT_FOUND);
}

struct thread_result {
    struct store *store;
    int rows;
    enum store_result r;
};

static bool count_only(const struct thought *t, void *ctx)
{
    (void)t;
    (void)ctx;
    return true;
}

static void *list_on_thread(void *arg)
{
    struct thread_result *res = arg;
    struct store_query q = query_all();

    res->store = store_for_thread();
    if (res->store != NULL)
        res->r = store_list(res->store, &q, count_only, NULL, &res->rows);
    return NULL;
}

/* Each thread has its own connection, and they share the data. */
static void test_connection_per_thread(void **state)
{
    struct fixture *f = *state;
    struct thread_result res = {NULL, -1, STORE_ERROR};
    pthread_t thread;

    assert_ptr_equal(store_for_thread(), f->store);
    create(f, "u", "one", 0);
    create(f, "u", "two", 0);
    assert_int_equal(pthread_create(&thread, NULL, list_on_thread, &res), 0);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_non_null(res.store);
    assert_ptr_not_equal(res.store, f->store);
    assert_int_equal(res.r, STORE_OK);
    assert_int_equal(res.rows, 2);
}

/* Setting up again on an existing file keeps its rows. */
static void test_setup_keeps_rows(void **state)
{
    struct fixture *f = *state;
    struct store_query q = query_all();
    struct rows rows = {0};
    char err[512] = "";

    create(f, "u", "survivor", 0);
    if (!store_setup(&f->cfg, true, err, sizeof(err)))
        fail_msg("store_setup again: %s", err);
    list(f, &q, &rows);
    ASSERT_TEXTS(&rows, "survivor");
}

static void test_setup_unusable_path(void **state)
{
    struct fixture *f = *state;
    char blocker[4300], path[4400], err[4600] = "";
    struct config bad;

    /* A directory cannot be made under a plain file. */
    testutil_join(blocker, sizeof(blocker), f->dir, "plain-file");
    testutil_write_file(blocker, "");
    testutil_join(path, sizeof(path), blocker, "t.db");
    const char *env[] = {"SQLITE_PATH", path, "DATA_DIR", f->dir, NULL};
    stub_env = env;
    assert_true(config_load(&bad, stub_get, err, sizeof(err)));
    stub_env = NULL;

    bool ok = store_setup(&bad, true, err, sizeof(err));
    config_free(&bad);
    /* Put the good configuration back before anything can fail. */
    char again[512];
    assert_true(store_setup(&f->cfg, true, again, sizeof(again)));
    assert_false(ok);
    if (strstr(err, path) == NULL)
        fail_msg("message \"%s\" does not name the file", err);
}

/* Missing directories above the SQLite file are created, as init-db needs. */
static void test_setup_creates_missing_directories(void **state)
{
    struct fixture *f = *state;
    char path[4300], err[4600] = "";
    struct config cfg;

    testutil_join(path, sizeof(path), f->dir, "no/such/dir/t.db");
    const char *env[] = {"SQLITE_PATH", path, "DATA_DIR", f->dir, NULL};
    stub_env = env;
    assert_true(config_load(&cfg, stub_get, err, sizeof(err)));
    stub_env = NULL;

    bool ok = store_setup(&cfg, true, err, sizeof(err));
    config_free(&cfg);
    char again[512];
    assert_true(store_setup(&f->cfg, true, again, sizeof(again)));
    if (!ok)
        fail_msg("store_setup failed: %s", err);
    assert_int_equal(access(path, F_OK), 0);
}

/* The query plan of the indexed search: the index and key lookups only. */
static void test_search_plan_uses_index(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store *s = from_base(f->store);
    sqlite3_stmt *st;
    char sql[2048];
    bool index = false, scan = false;

    snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
             statements[ST_LIST_SEARCH_INDEX]);
    assert_int_equal(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(st, 3);
        print_message("  plan: %s\n", detail);
        if (strstr(detail, "thought_search VIRTUAL TABLE INDEX") != NULL)
            index = true;
        if (strncmp(detail, "SCAN thought_model", 18) == 0 ||
            strncmp(detail, "SCAN m", 6) == 0)
            scan = true;
    }
    sqlite3_finalize(st);
    assert_true(index);
    assert_false(scan);
}

/* Waits until the writer has indexed every row queued by the triggers. */
static void wait_indexed(struct fixture *f)
{
    for (int i = 0; i < 500; i++) {
        sqlite3_stmt *st;
        assert_int_equal(
            sqlite3_prepare_v2(f->raw,
                               "SELECT count(*) FROM thought_search_pending",
                               -1, &st, NULL),
            SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        int left = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (left == 0)
            return;
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    fail_msg("rows inserted by hand were not indexed within 5 s");
}

static int64_t count_rows(struct fixture *f, const char *sql)
{
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_prepare_v2(f->raw, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/*
 * Characters whose full case folding the index must see: the indexed
 * text is folded by us, so ß, ſ, final sigma, the micro sign, ligatures
 * and decomposed accents match exactly as in a scan, whether the row
 * came through the store or by hand (queued, then indexed).
 */
static void test_index_folds_like_scan(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};
    static const char *const texts[] = {
        "Straße",       "STRASSE",
        "ſtraſſe",      "λόγος",
        "ΛΌΓΟΣ",        "5 µm wide",
        "5 μm wide",    "ﬁnal ﬂight",
        "final flight", NFD_ECOLE "cole",
        "école",        "İstanbul",
        "istanbul",     "KELVIN 5\xe2\x84\xaa",
    };
    static const char *const needles[] = {
        "strasse", "STRASSE",  "straße",  "γος",    "ΛΌΓΟΣ",
        "µm w",    "μM",       "final",   "FLIGHT", "école",
        "ÉCOLE",   "i̇stanbul", "stanbul", "n 5k",   "cole",
    };
    size_t n_texts = sizeof(texts) / sizeof(texts[0]);

    for (size_t i = 0; i < n_texts; i++) {
        if (i % 2 == 0) {
            create(f, "u", texts[i], 0);
            continue;
        }
        char sql[256];
        char *quoted = sqlite3_mprintf("%Q", texts[i]);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO thought_model (username, text) "
                 "VALUES ('hand', %s)",
                 quoted);
        sqlite3_free(quoted);
        raw_exec(f, sql);
    }
    for (int round = 0; round < 2; round++) {
        /* Round 0: hand rows still queued; round 1: all indexed. */
        if (round == 1)
            wait_indexed(f);
        for (size_t k = 0; k < sizeof(needles) / sizeof(needles[0]); k++) {
            char *folded = text_casefold(needles[k], strlen(needles[k]), NULL);
            struct store_query q = query_all();
            struct rows scanned = {0};
            q.search = folded;
            list(f, &q, &rows);
            /* The scan, for comparison, through the same connection. */
            struct sqlite_store *s = from_base(f->store);
            sqlite3_stmt *st = s->stmt[ST_LIST_SEARCH_SCAN];
            sqlite3_bind_int64(st, 1, INT64_MIN);
            sqlite3_bind_int(st, 2, 100);
            sqlite3_bind_text(st, 3, folded, -1, SQLITE_STATIC);
            int n = 0;
            assert_int_equal(run_select(s, st, collect, &scanned, &n, "scan"),
                             STORE_OK);
            free(folded);
            if (rows.n != scanned.n || rows.n == 0) {
                print_texts(&rows);
                fail_msg("needle %s: %zu rows from the index, %zu from a "
                         "scan",
                         needles[k], rows.n, scanned.n);
            }
            for (size_t i = 0; i < rows.n; i++)
                assert_int_equal(rows.r[i].id, scanned.r[i].id);
        }
    }
}

/* A table made by the original, without the index: indexed at start. */
static void test_existing_table_gets_index(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};
    char err[512];

    store_shutdown();
    raw_exec(f, "DROP TABLE thought_search");
    raw_exec(f, "DROP TABLE thought_search_pending");
    raw_exec(f, "DROP TRIGGER IF EXISTS thought_search_on_insert");
    raw_exec(f, "DROP TRIGGER IF EXISTS thought_search_on_update");
    raw_exec(f, "DROP TRIGGER IF EXISTS thought_search_on_delete");
    raw_exec(f, "INSERT INTO thought_model (username, text) "
                "VALUES ('old', 'written by the original')");
    if (!store_setup(&f->cfg, false, err, sizeof(err)))
        fail_msg("store_setup: %s", err);
    f->store = store_for_thread();
    assert_non_null(f->store);
    wait_indexed(f);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM thought_search"), 1);
    search(f, "ORIGINAL", &rows);
    ASSERT_TEXTS(&rows, "written by the original");
}

/* Hand updates and deletes keep the index exact. */
static void test_index_follows_hand_changes(void **state)
{
    struct fixture *f = *state;
    struct rows rows = {0};
    int64_t id = create(f, "u", "the first words", 0);

    raw_exec(f, "UPDATE thought_model SET text = 'other words'");
    search(f, "first", &rows);
    assert_no_rows(&rows);
    search(f, "other", &rows);
    ASSERT_TEXTS(&rows, "other words");
    wait_indexed(f);
    search(f, "other", &rows);
    ASSERT_TEXTS(&rows, "other words");
    assert_int_equal(store_delete(f->store, id), STORE_OK);
    assert_int_equal(count_rows(f, "SELECT count(*) FROM thought_search"), 0);
}

/* Writes are durable by default: synchronous=FULL on every connection. */
static void test_synchronous_full_by_default(void **state)
{
    struct fixture *f = *state;
    struct sqlite_store *s = from_base(f->store);
    sqlite3_stmt *st;

    assert_int_equal(f->cfg.sqlite_synchronous, DB_SYNC_FULL);
    assert_int_equal(
        sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    sqlite3_finalize(st);
}

struct writer_job {
    struct store *store; /* filled by the thread */
    int64_t ids[50];
    enum store_result r;
};

static void *create_on_thread(void *arg)
{
    struct writer_job *job = arg;

    job->store = store_for_thread();
    job->r = job->store != NULL ? STORE_OK : STORE_ERROR;
    for (int i = 0; i < 50 && job->r == STORE_OK; i++)
        job->r =
            store_create(job->store, "many", "concurrent", 0, &job->ids[i]);
    return NULL;
}

/* Many threads writing at once: grouped commits, each id answered once. */
static void test_concurrent_creates(void **state)
{
    struct fixture *f = *state;
    struct writer_job jobs[8];
    pthread_t threads[8];

    memset(jobs, 0, sizeof(jobs));
    for (int t = 0; t < 8; t++)
        assert_int_equal(
            pthread_create(&threads[t], NULL, create_on_thread, &jobs[t]), 0);
    for (int t = 0; t < 8; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    for (int t = 0; t < 8; t++) {
        assert_int_equal(jobs[t].r, STORE_OK);
        for (int i = 1; i < 50; i++)
            assert_true(jobs[t].ids[i] > jobs[t].ids[i - 1]);
    }
    assert_int_equal(count_rows(f, "SELECT count(DISTINCT id) FROM "
                                   "thought_model WHERE username = 'many'"),
                     400);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, empty_table, NULL)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_create_then_get),
        TEST(test_timestamp_stored_in_db_form),
        TEST(test_unicode_round_trip),
        TEST(test_ids_increase),
        TEST(test_ids_not_reused_after_delete),
        TEST(test_get_absent),
        TEST(test_list_all_in_id_order),
        TEST(test_list_empty_table),
        TEST(test_list_by_username),
        TEST(test_search_literal_specials),
        TEST(test_search_case_insensitive_ascii),
        TEST(test_search_unicode_folding),
        TEST(test_search_over_hand_inserted_rows),
        TEST(test_search_empty_needle_matches_all),
        TEST(test_batching_by_after_id),
        TEST(test_after_id_excludes_itself),
        TEST(test_batching_with_filters),
        TEST(test_username_and_search_together),
        TEST(test_limit_zero),
        TEST(test_callback_stops_early),
        TEST(test_delete),
        TEST(test_delete_absent_is_ok),
        TEST(test_hand_inserted_timestamps),
        TEST(test_hand_inserted_default_timestamp),
        TEST(test_hand_inserted_null_columns),
        TEST(test_hand_inserted_large_id),
        TEST(test_connection_per_thread),
        TEST(test_setup_keeps_rows),
        TEST(test_setup_unusable_path),
        TEST(test_setup_creates_missing_directories),
        TEST(test_search_plan_uses_index),
        TEST(test_index_folds_like_scan),
        TEST(test_index_follows_hand_changes),
        TEST(test_synchronous_full_by_default),
        TEST(test_concurrent_creates),
        TEST(test_existing_table_gets_index),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
