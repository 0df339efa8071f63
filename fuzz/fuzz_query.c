/*
 * fuzz_query: the query-string decoder behind ?text= and ?search=.
 *
 * The input is the raw query string (everything after '?').  The harness
 * includes server.c so that it can hand http_query_param() a request
 * without a socket; only raw_uri is read from it.
 */
#include "http/server.c"

static void look_up(struct http_request *req, const char *name)
{
    size_t len = 0;
    char *value = http_query_param(req, name, &len);

    if (value == NULL)
        return;
    /* The decoded value is never longer than the query it came from. */
    if (len > strlen(req->raw_uri))
        abort();
    if (value[len] != '\0')
        abort();
    free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request req;
    char *uri = xmalloc(size + 3);

    memcpy(uri, "/?", 2);
    memcpy(uri + 2, data, size);
    uri[size + 2] = '\0';
    memset(&req, 0, sizeof(req));
    req.raw_uri = uri;

    look_up(&req, "text");
    look_up(&req, "search");
    look_up(&req, "");
    free(uri);
    return 0;
}
