/* api/router: the route table and its matching rules. */
#include "api/router.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/docs.h"
#include "api/health.h"
#include "api/respond.h"
#include "api/thoughts.h"
#include "core/buf.h"
#include "core/metrics.h"
#include "core/xalloc.h"

enum method_bit {
    M_GET = 1,
    M_POST = 2,
    M_DELETE = 4,
};

struct route {
    const char *pattern; /* "{id}" matches one segment of digits */
    void (*get)(struct http_request *req, int64_t id);
    void (*post)(struct http_request *req, int64_t id);
    void (*delete)(struct http_request *req, int64_t id);
};

/* Adapters so that every handler has the same shape in the table. */
static void list_all(struct http_request *req, int64_t id)
{
    (void)id;
    thoughts_list(req);
}

static void list_mine(struct http_request *req, int64_t id)
{
    (void)id;
    thoughts_list_mine(req);
}

static void create(struct http_request *req, int64_t id)
{
    (void)id;
    thoughts_create(req);
}

static void docs_page(struct http_request *req, int64_t id)
{
    (void)id;
    docs_send_page(req);
}

static void docs_file(struct http_request *req, int64_t id)
{
    (void)id;
    docs_send_asset(req);
}

static void livez(struct http_request *req, int64_t id)
{
    (void)id;
    health_live(req);
}

static void readyz(struct http_request *req, int64_t id)
{
    (void)id;
    health_ready(req);
}

static void metrics_page(struct http_request *req, int64_t id)
{
    (void)id;
    health_metrics(req);
}

static const struct route routes[] = {
    {"/", docs_page, NULL, NULL},
    {"/swagger.json", docs_file, NULL, NULL},
    {"/openapi.json", docs_file, NULL, NULL},
    {"/swaggerui/swagger-ui-bundle.js", docs_file, NULL, NULL},
    {"/swaggerui/swagger-ui.css", docs_file, NULL, NULL},
    {"/swaggerui/favicon-32x32.png", docs_file, NULL, NULL},
    {"/api/thoughts/", list_all, NULL, NULL},
    {"/api/thoughts/{id}/", thoughts_get, NULL, NULL},
    {"/api/me/thoughts/", list_mine, create, NULL},
    {"/admin/thoughts/{id}/", NULL, NULL, thoughts_delete},
    {"/livez", livez, NULL, NULL},
    {"/healthz", livez, NULL, NULL},
    {"/readyz", readyz, NULL, NULL},
    {"/metrics", metrics_page, NULL, NULL},
};

#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))
_Static_assert(N_ROUTES <= METRICS_MAX_ROUTES, "raise METRICS_MAX_ROUTES");

enum match { NO_MATCH, MATCH, MATCH_ID_TOO_LARGE };

/* Parses a run of digits; false when it does not fit an int64_t. */
static bool parse_id(const char *s, size_t len, int64_t *id)
{
    uint64_t v = 0;

    for (size_t i = 0; i < len; i++) {
        if (v > (uint64_t)(INT64_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *id = (int64_t)v;
    return true;
}

static enum match match(const char *pattern, const char *path, size_t len,
                        int64_t *id)
{
    const char *hole = strstr(pattern, "{id}");

    if (hole == NULL)
        return strlen(pattern) == len && memcmp(pattern, path, len) == 0
                   ? MATCH
                   : NO_MATCH;

    size_t prefix = (size_t)(hole - pattern);
    const char *suffix = hole + 4;
    size_t suffix_len = strlen(suffix);
    if (len < prefix + 1 + suffix_len || memcmp(path, pattern, prefix) != 0 ||
        memcmp(path + len - suffix_len, suffix, suffix_len) != 0)
        return NO_MATCH;

    const char *digits = path + prefix;
    size_t n = len - prefix - suffix_len;
    for (size_t i = 0; i < n; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return NO_MATCH;
    }
    return parse_id(digits, n, id) ? MATCH : MATCH_ID_TOO_LARGE;
}

static const struct route *find(const char *path, size_t len, int64_t *id,
                                enum match *how)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        *how = match(routes[i].pattern, path, len, id);
        if (*how != NO_MATCH)
            return &routes[i];
    }
    return NULL;
}

/* Allow header value, in Flask's alphabetical order. */
static void allowed(const struct route *r, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s%s", r->delete ? "DELETE, " : "",
             r->get ? "GET, HEAD, " : "", "OPTIONS", r->post ? ", POST" : "");
}

static void redirect_to_slash(struct http_request *req)
{
    struct buf location = BUF_INIT;
    const char *query = http_raw_query(req);

    buf_printf(&location, "%s/", http_path(req));
    if (query != NULL)
        buf_printf(&location, "?%s", query);
    http_add_header(req, "Location", buf_str(&location));
    api_send_json(req, 308,
                  json_pack("{s:s}", "message",
                            "This resource lives at the path with a "
                            "trailing slash"));
    buf_free(&location);
}

static void dispatch(struct http_request *req, const struct route *r,
                     int64_t id)
{
    const char *m = http_method(req);
    void (*handler)(struct http_request *, int64_t) = NULL;
    char allow[64];

    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        handler = r->get;
    else if (strcmp(m, "POST") == 0)
        handler = r->post;
    else if (strcmp(m, "DELETE") == 0)
        handler = r->delete;
    if (handler != NULL) {
        handler(req, id);
        return;
    }

    allowed(r, allow, sizeof(allow));
    http_add_header(req, "Allow", allow);
    if (strcmp(m, "OPTIONS") == 0)
        http_respond(req, 204, NULL, NULL, 0);
    else
        api_send_error(req, 405,
                       "The method is not allowed for the requested URL");
}

void router_init(void)
{
    const char *templates[N_ROUTES];

    for (size_t i = 0; i < N_ROUTES; i++)
        templates[i] = routes[i].pattern;
    metrics_set_routes(templates, (int)N_ROUTES);
}

enum router_outcome router_match(const char *path, size_t len, int *route,
                                 int64_t *id)
{
    enum match how;
    const struct route *r = find(path, len, id, &how);

    if (r == NULL && len > 0 && path[len - 1] != '/') {
        /* Would the path match with a slash added?  Then redirect. */
        char *slashed = xmalloc(len + 2);
        memcpy(slashed, path, len);
        memcpy(slashed + len, "/", 2);
        bool known = find(slashed, len + 1, id, &how) != NULL;
        free(slashed);
        /* An id too large is 404 with or without the slash. */
        if (known && how == MATCH)
            return ROUTER_REDIRECT;
    }
    if (r == NULL || how == MATCH_ID_TOO_LARGE)
        return ROUTER_NOT_FOUND;
    *route = (int)(r - routes);
    return ROUTER_FOUND;
}

void router_handle(struct http_request *req)
{
    const char *path = http_path(req);
    int route = 0;
    int64_t id = 0;

    switch (router_match(path, strlen(path), &route, &id)) {
    case ROUTER_REDIRECT:
        redirect_to_slash(req);
        return;
    case ROUTER_NOT_FOUND:
        api_send_error(req, 404,
                       "The requested URL was not found on the server");
        return;
    case ROUTER_FOUND:
        break;
    }
    http_set_route(req, route);
    dispatch(req, &routes[route], id);
}
