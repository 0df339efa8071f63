/*
 * store: engine dispatch and the per-thread connection registry.
 *
 * Connections are kept in a thread-local pointer for speed and in a list
 * so that shutdown can close those of threads that have already exited.
 */
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/fsdir.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "store/sqlite_int.h"

struct registered {
    struct store *store;
    struct registered *next;
};

static const struct config *config;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct registered *registry;
static _Thread_local struct store *thread_store;

static struct store *open_engine(bool create_schema, char *err, size_t err_size)
{
    if (config->engine == ENGINE_POSTGRESQL)
        return store_postgres_open(config, create_schema, err, err_size);
    return store_sqlite_open(config, create_schema, err, err_size);
}

bool store_setup(const struct config *cfg, bool must_connect, char *err,
                 size_t err_size)
{
    config = cfg;
    if (cfg->engine == ENGINE_SQLITE &&
        !fsdir_make_parent(cfg->sqlite_path, err, err_size))
        return false;
    struct store *s = open_engine(true, err, err_size);
    if (s == NULL)
        return false;

    bool ok = true;
    if (s->ops->check(s) != STORE_OK) {
        if (must_connect) {
            snprintf(err, err_size, "the database is not reachable");
            ok = false;
        } else {
            log_warning("the database is not reachable yet; answering 503 "
                        "until it is");
        }
    }
    s->ops->close(s);
    /* The service's background work; init-db exits without it. */
    if (ok && !must_connect && config->engine == ENGINE_SQLITE)
        sqlite_writer_start(config);
    if (ok && !must_connect && config->engine == ENGINE_POSTGRESQL)
        store_postgres_start_indexer(config);
    return ok;
}

struct store *store_for_thread(void)
{
    char err[256];

    if (thread_store != NULL)
        return thread_store;
    thread_store = open_engine(false, err, sizeof(err));
    if (thread_store == NULL) {
        log_error("database connection failed: %s", err);
        return NULL;
    }

    struct registered *r = xmalloc(sizeof(*r));
    r->store = thread_store;
    pthread_mutex_lock(&registry_lock);
    r->next = registry;
    registry = r;
    pthread_mutex_unlock(&registry_lock);
    return thread_store;
}

void store_shutdown(void)
{
    sqlite_writer_stop();
    store_postgres_stop_indexer();
    pthread_mutex_lock(&registry_lock);
    while (registry != NULL) {
        struct registered *r = registry;
        registry = r->next;
        r->store->ops->close(r->store);
        free(r);
    }
    pthread_mutex_unlock(&registry_lock);
    thread_store = NULL;
}

enum store_result store_create(struct store *s, const char *username,
                               const char *text, int64_t timestamp, int64_t *id)
{
    return s->ops->create(s, username, text, timestamp, id);
}

enum store_result store_get(struct store *s, int64_t id, store_row_fn fn,
                            void *ctx)
{
    return s->ops->get(s, id, fn, ctx);
}

enum store_result store_list(struct store *s, const struct store_query *q,
                             store_row_fn fn, void *ctx, int *rows)
{
    return s->ops->list(s, q, fn, ctx, rows);
}

enum store_result store_delete(struct store *s, int64_t id)
{
    return s->ops->delete (s, id);
}

enum store_result store_check(struct store *s)
{
    return s->ops->check(s);
}
