/*
 * http/server: a thin wrapper over libmicrohttpd.
 *
 * It owns the daemon (epoll, an internal thread pool), reads each request
 * body whole up to a limit (413 past it), and calls the handler once per
 * request, on a pool thread, after the whole body has arrived; answering
 * only then keeps connections alive.  Before any body is read it refuses
 * oversized headers (431) and ambiguous framing (400, then hangs up), and
 * a watchdog thread cuts off clients that send a request too slowly.  It
 * also writes the access log and counts requests in flight for a
 * graceful shutdown.
 *
 * A handler must answer exactly once with http_respond() or
 * http_respond_stream(); headers added before that go on the response.
 */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct http_request;

typedef void (*http_handler)(struct http_request *req);

/*
 * Every limit is enforced here; README's "Limits" section lists them.
 * A zero max_per_client means no limit per client address.
 */
struct http_options {
    const char *bind_address;
    int port;
    int workers;
    size_t max_body;        /* request body bytes; larger is 413 */
    int max_connections;    /* in total; more wait to be accepted */
    int connection_timeout; /* seconds without a byte either way */
    size_t max_header;      /* request line plus headers; larger is 431 */
    int max_per_client;     /* simultaneous connections per address */
    int request_timeout;    /* seconds to receive a whole request: 408 */
};

bool http_start(const struct http_options *opts, http_handler handler,
                char *err, size_t err_size);

/*
 * Stops accepting connections, waits up to timeout_s seconds for the
 * requests in flight, then stops the daemon and its threads.
 */
void http_stop(int timeout_s);

const char *http_method(const struct http_request *req);
const char *http_path(const struct http_request *req);
/* The raw query string after '?', or NULL when there is none. */
const char *http_raw_query(const struct http_request *req);
const char *http_header(struct http_request *req, const char *name);
/* How many times header `name` (any case) was sent. */
int http_header_count(struct http_request *req, const char *name);
/*
 * The first query-string argument `name`, decoded ('+' and %XX), as a
 * malloc'd string with its length in *len (it may hold NUL bytes).
 * Returns NULL when the argument is absent.
 */
char *http_query_param(const struct http_request *req, const char *name,
                       size_t *len);
const char *http_body(const struct http_request *req, size_t *len);

/*
 * The value of form field `name` from a urlencoded or multipart body.
 * Returns 1 and a malloc'd value (NUL-terminated; *len excludes the NUL)
 * when found, 0 when absent, -1 when the body cannot be parsed as a form.
 */
int http_form_field(struct http_request *req, const char *name, char **value,
                    size_t *len);

void http_add_header(struct http_request *req, const char *name,
                     const char *value);

/*
 * The request's id: the client's X-Request-ID when it is sane (1 to 128
 * letters, digits and ._:-), otherwise a new random one.  It is sent
 * back in X-Request-ID and put on every log line of the request.
 */
const char *http_request_id(const struct http_request *req);

/* Records which route template answered, for metrics and the logs. */
void http_set_route(struct http_request *req, int route);

/* True once http_stop() has begun: the service is going away. */
bool http_stopping(void);

/* Sends a complete response; body may be NULL when len is 0. */
void http_respond(struct http_request *req, unsigned status,
                  const char *content_type, const char *body, size_t len);

/*
 * Streams a response of unknown length (chunked).  `fill` is called on
 * the same thread whenever the socket can take more; it writes up to
 * `max` bytes to buf and returns how many (at least 1), 0 at the end, or
 * -1 to abort the connection.  free_ctx(ctx) runs when the response is
 * done with, however it ended.
 */
typedef ssize_t (*http_fill_fn)(void *ctx, char *buf, size_t max);

void http_respond_stream(struct http_request *req, unsigned status,
                         const char *content_type, http_fill_fn fill, void *ctx,
                         void (*free_ctx)(void *ctx));

#endif
