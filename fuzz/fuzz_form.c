/*
 * fuzz_form: form bodies (urlencoded and multipart) through the path the
 * service uses: libmicrohttpd receives a real request, server.c's
 * callbacks collect the body, and the handler asks http_form_field() for
 * `text`, which runs MHD's PostProcessor.
 *
 * The first line of the input is the Content-Type value; the rest is the
 * body.  The harness includes server.c to reach its static callbacks.
 */
#include "http/server.c"

#include "fuzz_http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void form_handler(struct http_request *req)
{
    char *value = NULL;
    size_t len = 0;

    if (http_form_field(req, "text", &value, &len) == 1) {
        if (value[len] != '\0')
            abort();
        free(value);
    }
    http_respond(req, 200, "text/plain", "ok", 2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_daemon_start(form_handler);
    return 0;
}

/* The request the input describes: its Content-Type, then its body. */
static void build_request(const uint8_t *data, size_t size, struct buf *out)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ct_len = nl != NULL ? (size_t)(nl - data) : size;
    const uint8_t *body = nl != NULL ? nl + 1 : data + size;
    size_t body_len = size - (size_t)(body - data);
    struct buf ct = BUF_INIT;

    for (size_t i = 0; i < ct_len; i++) {
        if (data[i] != '\r' && data[i] != '\0')
            buf_append(&ct, (const char *)&data[i], 1);
    }
    buf_printf(out,
               "POST /form HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n"
               "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
               buf_str(&ct), body_len);
    buf_append(out, (const char *)body, body_len);
    buf_free(&ct);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf request = BUF_INIT;

    build_request(data, size, &request);
    fuzz_exchange(request.data, request.len);
    buf_free(&request);
    return 0;
}
