/*
 * fuzz_form: form bodies (urlencoded and multipart) through the path the
 * service uses: libmicrohttpd receives a real request on one end of a
 * socket pair, server.c's callbacks collect the body, and the handler
 * asks http_form_field() for `text`, which runs MHD's PostProcessor.
 *
 * The first line of the input is the Content-Type value; the rest is the
 * body.  The harness includes server.c to reach its static callbacks and
 * runs the daemon without threads or a listening socket.
 */
#include "http/server.c"

#include <fcntl.h>
#include <sys/socket.h>

#define MAX_ROUNDS 64

static struct MHD_Daemon *fuzz_daemon;

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
    log_set_level(LOG_ERROR);
    log_set_access(false);
    app_handler = form_handler;
    max_body = 1 << 20;
    fuzz_daemon = MHD_start_daemon(
        MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_END);
    if (fuzz_daemon == NULL)
        abort();
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

/* Feeds the request and runs the daemon until it hangs up on us. */
static void exchange(int fd, const struct buf *request)
{
    size_t sent = 0;
    char sink[4096];

    for (int round = 0; round < MAX_ROUNDS; round++) {
        if (sent < request->len) {
            ssize_t n = write(fd, request->data + sent, request->len - sent);
            if (n > 0)
                sent += (size_t)n;
        }
        MHD_run(fuzz_daemon);
        ssize_t got;
        while ((got = read(fd, sink, sizeof(sink))) > 0)
            ;
        if (got == 0)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fds[2];
    struct sockaddr_in peer = {.sin_family = AF_INET};
    struct buf request = BUF_INIT;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        abort();
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (MHD_add_connection(fuzz_daemon, fds[1], (struct sockaddr *)&peer,
                           sizeof(peer)) != MHD_YES)
        abort();
    build_request(data, size, &request);
    exchange(fds[0], &request);
    close(fds[0]);
    /* Let the daemon notice the closed peer and release the connection. */
    MHD_run(fuzz_daemon);
    MHD_run(fuzz_daemon);
    buf_free(&request);
    return 0;
}
