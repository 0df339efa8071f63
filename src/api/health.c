/* api/health: liveness, readiness and metrics endpoints. */
#include "api/health.h"

#include <jansson.h>

#include "api/respond.h"
#include "core/buf.h"
#include "core/metrics.h"
#include "store/store.h"

void health_live(struct http_request *req)
{
    api_send_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

static void not_ready(struct http_request *req, const char *message)
{
    http_add_header(req, "Retry-After", "1");
    api_send_error(req, 503, message);
}

void health_ready(struct http_request *req)
{
    if (http_stopping()) {
        not_ready(req, "The service is shutting down");
        return;
    }
    struct store *store = store_for_thread();
    if (store == NULL || store_check(store) != STORE_OK) {
        not_ready(req, "The database is unavailable");
        return;
    }
    api_send_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

void health_metrics(struct http_request *req)
{
    struct buf body = BUF_INIT;

    metrics_render(&body);
    http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                 body.data, body.len);
    buf_free(&body);
}
