/*
 * fuzz_request: whole HTTP/1.1 byte streams, pipelining included, into
 * libmicrohttpd and server.c: the head checks (sizes, Content-Length and
 * Transfer-Encoding rules), body collection, and behind them the router,
 * the query string and the form parser, as a request would reach them.
 * The input is sent as it stands.
 */
#include "http/server.c"

#include "api/router.h"
#include "fuzz_http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request_handler(struct http_request *req)
{
    const char *path = http_path(req);
    int route = 0;
    int64_t id = 0;
    size_t len = 0;

    router_match(path, strlen(path), &route, &id);
    char *text = http_query_param(req, "text", &len);
    free(text);
    http_body(req, &len);
    if (len > max_body)
        abort();
    char *value = NULL;
    if (http_form_field(req, "text", &value, &len) == 1)
        free(value);
    http_respond(req, 200, "text/plain", "ok", 2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_daemon_start(request_handler);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_exchange((const char *)data, size);
    return 0;
}
