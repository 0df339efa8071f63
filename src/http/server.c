/*
 * http/server: request life cycle on top of libmicrohttpd.
 *
 * libmicrohttpd calls on_request() several times per request: once when
 * the headers are in, once per piece of body, and once more when the body
 * is complete.  We answer only on that last call; answering earlier makes
 * it close the connection.  Per-connection state (the raw URI, which is
 * the only place the undecoded query string survives) lives in the
 * socket context; per-request state lives in struct http_request.
 *
 * Limits: a request's head is checked on the first call, before any body
 * is read, so a refused request (431, 400, 413) never has its body parsed
 * and the connection is closed after the answer: nothing in a refused
 * body can run as a second request.  libmicrohttpd's own timeout only
 * measures silence, which a client sending a byte now and then never
 * trips; a watchdog thread therefore gives every request a deadline
 * (request_timeout) counted from the connection's start or the end of
 * its previous response, and shuts down the sockets of the late ones.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"

#define MAX_HEADERS    8
#define REQUEST_ID_MAX 128
/* Past the body limit we read and drop this much more, then hang up. */
#define DISCARD_FACTOR 4
/* How often the watchdog looks for requests past their deadline. */
#define WATCH_INTERVAL_MS 200
/*
 * libmicrohttpd keeps a connection's head and read buffer in one pool;
 * it must hold a head at our limit with room to spare, so that we, not
 * the library, refuse the oversized ones (its answer is not JSON).  The
 * library zeroes the whole pool after every request, so it is no larger
 * than that needs: twice the limit (the head, its parsed header entries
 * and the read buffer) and 8 KiB for our response's head and a request
 * pipelined behind it.
 */
#define POOL_MIN   (8 * 1024)
#define POOL_SLACK (8 * 1024)

struct connection_state {
    char *raw_uri;
    struct timespec started;

    /* The fields below belong to the watchdog: read or write them only
     * with watch_lock held. */
    int fd;
    struct timespec waiting_since; /* connected, or last response ended */
    bool waiting;                  /* the next request is not in yet */
    bool request_seen;             /* its request line has arrived */
    bool cut_off;                  /* the watchdog shut the socket down */
    struct connection_state *prev, *next;
};

struct stream;

struct http_request {
    struct MHD_Connection *conn;
    char request_id[REQUEST_ID_MAX + 1];
    int route; /* METRICS_UNMATCHED until the router sets it */
    char *method;
    char *path;
    char *raw_uri;
    struct timespec started;
    struct buf body;
    uint64_t body_seen; /* including bytes dropped past the limit */
    bool too_large;
    bool refused; /* answered from the head alone; the body is dropped */
    bool responded;
    bool queue_failed;
    unsigned status;
    uint64_t bytes;
    struct stream *stream;
    int n_headers;
    char *header_name[MAX_HEADERS];
    char *header_value[MAX_HEADERS];
};

struct stream {
    struct http_request *req; /* NULL once the request is finished */
    http_fill_fn fill;
    void *ctx;
    void (*free_ctx)(void *ctx);
};

static struct MHD_Daemon *daemon_handle;
static http_handler app_handler;
static size_t max_body;
static size_t max_header;
static int request_timeout_s;
static atomic_int in_flight;
static atomic_bool stopping;

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_wake = PTHREAD_COND_INITIALIZER;
static struct connection_state *watched; /* every open connection */
static bool watchdog_quit;               /* under watch_lock */
static bool watchdog_running;
static pthread_t watchdog;

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1e3 +
           (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

/* ---- connection and request state ---------------------------------- */

static void watch_add(struct connection_state *cs, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

    cs->fd = info != NULL ? info->connect_fd : -1;
    pthread_mutex_lock(&watch_lock);
    clock_gettime(CLOCK_MONOTONIC, &cs->waiting_since);
    cs->waiting = true;
    cs->next = watched;
    if (watched != NULL)
        watched->prev = cs;
    watched = cs;
    pthread_mutex_unlock(&watch_lock);
}

/*
 * Runs before libmicrohttpd closes the socket, so once this returns the
 * watchdog can no longer touch a descriptor that may be reused.
 */
static void watch_remove(struct connection_state *cs)
{
    pthread_mutex_lock(&watch_lock);
    if (cs->prev != NULL)
        cs->prev->next = cs->next;
    else
        watched = cs->next;
    if (cs->next != NULL)
        cs->next->prev = cs->prev;
    pthread_mutex_unlock(&watch_lock);
}

/*
 * Starts (waiting) or stops the clock of the connection's next request.
 * Returns false when the watchdog has already cut the connection off.
 */
static bool set_waiting(struct connection_state *cs, bool waiting)
{
    if (cs == NULL)
        return true;
    pthread_mutex_lock(&watch_lock);
    cs->waiting = waiting;
    cs->request_seen = false;
    clock_gettime(CLOCK_MONOTONIC, &cs->waiting_since);
    bool alive = !cs->cut_off;
    pthread_mutex_unlock(&watch_lock);
    return alive;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct connection_state *cs = xcalloc(1, sizeof(*cs));
        watch_add(cs, conn);
        *socket_context = cs;
        return;
    }
    struct connection_state *cs = *socket_context;
    if (cs != NULL) {
        watch_remove(cs);
        free(cs->raw_uri);
        free(cs);
        *socket_context = NULL;
    }
}

static struct connection_state *state_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info != NULL ? info->socket_context : NULL;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    struct connection_state *cs = state_of(conn);

    if (cs != NULL) {
        free(cs->raw_uri);
        cs->raw_uri = xstrdup(uri);
        clock_gettime(CLOCK_MONOTONIC, &cs->started);
        pthread_mutex_lock(&watch_lock);
        cs->request_seen = true;
        pthread_mutex_unlock(&watch_lock);
    }
    return NULL;
}

/* A 64-bit generator per thread, seeded once from the kernel. */
static uint64_t next_random(void)
{
    static _Thread_local uint64_t state;

    if (state == 0 && getrandom(&state, sizeof(state), 0) != sizeof(state))
        state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
    state += 0x9e3779b97f4a7c15u;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static bool sane_request_id(const char *id)
{
    size_t n = 0;

    for (; id[n] != '\0'; n++) {
        char c = id[n];
        if (n == REQUEST_ID_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-'))
            return false;
    }
    return n > 0;
}

static void assign_request_id(struct http_request *req)
{
    const char *given =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Request-ID");

    if (given != NULL && sane_request_id(given)) {
        snprintf(req->request_id, sizeof(req->request_id), "%s", given);
        return;
    }
    snprintf(req->request_id, sizeof(req->request_id), "%016llx%016llx",
             (unsigned long long)next_random(),
             (unsigned long long)next_random());
}

/*
 * The path part of a request target.  RFC 9112 has servers accept the
 * absolute form ("http://host/path"), which proxies send; libmicrohttpd
 * passes it through whole, so the scheme and authority are skipped here.
 */
static const char *origin_form(const char *target)
{
    size_t scheme = 0;

    if (strncasecmp(target, "http://", 7) == 0)
        scheme = 7;
    else if (strncasecmp(target, "https://", 8) == 0)
        scheme = 8;
    if (scheme == 0)
        return target;
    const char *path = target + scheme + strcspn(target + scheme, "/?");
    return *path == '/' ? path : "/";
}

static struct http_request *request_new(struct MHD_Connection *conn,
                                        const char *url, const char *method)
{
    struct http_request *req = xcalloc(1, sizeof(*req));
    struct connection_state *cs = state_of(conn);

    req->conn = conn;
    req->method = xstrdup(method);
    req->path = xstrdup(origin_form(url));
    if (cs != NULL && cs->raw_uri != NULL) {
        const char *raw = origin_form(cs->raw_uri);
        req->raw_uri = raw == cs->raw_uri ? cs->raw_uri : xstrdup(raw);
        if (req->raw_uri != cs->raw_uri)
            free(cs->raw_uri);
        cs->raw_uri = NULL;
        req->started = cs->started;
    } else {
        req->raw_uri = xstrdup(origin_form(url));
        clock_gettime(CLOCK_MONOTONIC, &req->started);
    }
    req->route = METRICS_UNMATCHED;
    assign_request_id(req);
    atomic_fetch_add(&in_flight, 1);
    metrics_in_flight(1);
    return req;
}

static void client_address(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    snprintf(out, size, "-");
    if (info == NULL || info->client_addr == NULL)
        return;
    /* inet_ntop, not getnameinfo: same text, a fraction of the cost. */
    const struct sockaddr *sa = info->client_addr;
    const void *ip = NULL;
    if (sa->sa_family == AF_INET)
        ip = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        ip = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (ip == NULL ||
        inet_ntop(sa->sa_family, ip, out, (socklen_t)size) == NULL)
        snprintf(out, size, "-");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    struct http_request *req = *con_cls;
    char client[INET6_ADDRSTRLEN + 1];

    if (req == NULL)
        return;
    set_waiting(state_of(conn), true);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        log_debug("request %s %s ended early (code %d)", req->method, req->path,
                  (int)toe);
    client_address(conn, client, sizeof(client));
    double ms = elapsed_ms(&req->started);
    struct log_access_entry entry = {
        .request_id = req->request_id,
        .route = metrics_route_name(req->route),
        .client = client,
        .method = req->method,
        .path = req->path,
        .status = req->status,
        .bytes = req->bytes,
        .duration_ms = ms,
    };
    log_access(&entry);
    metrics_request(req->route, req->method, req->status, ms / 1000.0);

    if (req->stream != NULL)
        req->stream->req = NULL;
    for (int i = 0; i < req->n_headers; i++) {
        free(req->header_name[i]);
        free(req->header_value[i]);
    }
    buf_free(&req->body);
    free(req->method);
    free(req->path);
    free(req->raw_uri);
    free(req);
    *con_cls = NULL;
    atomic_fetch_sub(&in_flight, 1);
    metrics_in_flight(-1);
}

/* ---- responses ------------------------------------------------------ */

static void queue(struct http_request *req, unsigned status,
                  struct MHD_Response *resp, const char *content_type)
{
    if (resp == NULL)
        xalloc_die(0);
    if (content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                content_type);
    for (int i = 0; i < req->n_headers; i++)
        MHD_add_response_header(resp, req->header_name[i],
                                req->header_value[i]);
    MHD_add_response_header(resp, "X-Request-ID", req->request_id);
    req->status = status;
    req->responded = true;
    if (MHD_queue_response(req->conn, status, resp) != MHD_YES)
        req->queue_failed = true;
    MHD_destroy_response(resp);
}

void http_respond(struct http_request *req, unsigned status,
                  const char *content_type, const char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);

    req->bytes = len;
    queue(req, status, resp, content_type);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *st = cls;

    log_set_request_id(st->req != NULL ? st->req->request_id : NULL);
    ssize_t n = st->fill(st->ctx, buf, max);
    log_set_request_id(NULL);

    if (n > 0 && st->req != NULL)
        st->req->bytes += (uint64_t)n;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    return n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;

    if (st->req != NULL)
        st->req->stream = NULL;
    if (st->free_ctx != NULL)
        st->free_ctx(st->ctx);
    free(st);
}

void http_respond_stream(struct http_request *req, unsigned status,
                         const char *content_type, http_fill_fn fill, void *ctx,
                         void (*free_ctx)(void *ctx))
{
    /*
     * libmicrohttpd would still send the last chunk of an unsized body to
     * a HEAD request, which the client then reads as the next response.
     */
    if (strcmp(req->method, MHD_HTTP_METHOD_HEAD) == 0) {
        if (free_ctx != NULL)
            free_ctx(ctx);
        queue(req, status,
              MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT),
              content_type);
        return;
    }

    struct stream *st = xmalloc(sizeof(*st));
    st->req = req;
    st->fill = fill;
    st->ctx = ctx;
    st->free_ctx = free_ctx;
    req->stream = st;
    struct MHD_Response *resp = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st, stream_free);
    queue(req, status, resp, content_type);
}

void http_add_header(struct http_request *req, const char *name,
                     const char *value)
{
    if (req->n_headers == MAX_HEADERS) {
        log_error("too many response headers; dropped %s", name);
        return;
    }
    req->header_name[req->n_headers] = xstrdup(name);
    req->header_value[req->n_headers] = xstrdup(value);
    req->n_headers++;
}

static void respond_message(struct http_request *req, unsigned status,
                            const char *message)
{
    struct buf body = BUF_INIT;

    buf_printf(&body, "{\"message\": \"%s\"}\n", message);
    http_respond(req, status, "application/json", body.data, body.len);
    buf_free(&body);
}

static void respond_too_large(struct http_request *req)
{
    char message[128];

    snprintf(message, sizeof(message),
             "The request body is larger than the limit of %zu bytes",
             max_body);
    /* Whatever the client sends after a refused body is not read. */
    http_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
    respond_message(req, MHD_HTTP_CONTENT_TOO_LARGE, message);
}

/* ---- request accessors ---------------------------------------------- */

const char *http_request_id(const struct http_request *req)
{
    return req->request_id;
}

void http_set_route(struct http_request *req, int route)
{
    req->route = route;
}

bool http_stopping(void)
{
    return atomic_load(&stopping);
}

const char *http_method(const struct http_request *req)
{
    return req->method;
}

const char *http_path(const struct http_request *req)
{
    return req->path;
}

const char *http_raw_query(const struct http_request *req)
{
    const char *q = strchr(req->raw_uri, '?');

    return q != NULL ? q + 1 : NULL;
}

const char *http_header(struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct header_count {
    const char *name;
    int count;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value)
{
    struct header_count *hc = cls;

    (void)kind;
    (void)value;
    if (strcasecmp(key, hc->name) == 0)
        hc->count++;
    return MHD_YES;
}

int http_header_count(struct http_request *req, const char *name)
{
    struct header_count hc = {name, 0};

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_header, &hc);
    return hc.count;
}

/* Decodes s[0..len) in place ('+' is a space); returns the new length. */
static size_t unescape(char *s)
{
    for (char *p = s; *p != '\0'; p++) {
        if (*p == '+')
            *p = ' ';
    }
    return MHD_http_unescape(s);
}

char *http_query_param(const struct http_request *req, const char *name,
                       size_t *len)
{
    const char *p = http_raw_query(req);

    while (p != NULL && *p != '\0') {
        const char *end = strchr(p, '&');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        char *pair = xstrndup(p, n);
        char *eq = strchr(pair, '=');
        char *value = eq != NULL ? eq + 1 : pair + n;
        if (eq != NULL)
            *eq = '\0';
        size_t key_len = unescape(pair);
        if (key_len == strlen(name) && memcmp(pair, name, key_len) == 0) {
            *len = unescape(value);
            char *out = xstrndup(value, *len);
            free(pair);
            return out;
        }
        free(pair);
        p = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

const char *http_body(const struct http_request *req, size_t *len)
{
    *len = req->body.len;
    return buf_str(&req->body);
}

struct form_search {
    const char *name;
    struct buf value;
    bool found;
    bool complete; /* a later field began: keep the first value only */
};

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *filename,
                                  const char *content_type,
                                  const char *transfer_encoding,
                                  const char *data, uint64_t off, size_t size)
{
    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    struct form_search *fs = cls;

    if (key == NULL || strcmp(key, fs->name) != 0) {
        if (fs->found)
            fs->complete = true;
        return MHD_YES;
    }
    if (fs->found && (off == 0 || fs->complete)) {
        fs->complete = true;
        return MHD_YES;
    }
    fs->found = true;
    buf_append(&fs->value, data != NULL ? data : "", size);
    return MHD_YES;
}

int http_form_field(struct http_request *req, const char *name, char **value,
                    size_t *len)
{
    struct form_search fs = {name, BUF_INIT, false, false};
    struct MHD_PostProcessor *pp =
        MHD_create_post_processor(req->conn, 4096, form_field, &fs);

    if (pp == NULL)
        return -1;
    enum MHD_Result ok = MHD_YES;
    if (req->body.len > 0)
        ok = MHD_post_process(pp, req->body.data, req->body.len);
    if (MHD_destroy_post_processor(pp) != MHD_YES)
        ok = MHD_NO;
    if (ok != MHD_YES) {
        buf_free(&fs.value);
        return -1;
    }
    if (!fs.found)
        return 0;
    *len = fs.value.len;
    *value = fs.value.data != NULL ? fs.value.data : xstrdup("");
    return 1;
}

/* ---- the request's head ---------------------------------------------- */

/* What a look over the request's headers found. */
struct head_scan {
    size_t bytes;
    int n_length;
    const char *length; /* the first Content-Length value */
    bool lengths_differ;
    int n_coding;
    const char *coding; /* the first Transfer-Encoding value */
    bool bad_name;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    (void)kind;
    struct head_scan *scan = cls;

    if (value == NULL)
        value = "";
    scan->bytes += strlen(key) + strlen(value) + 4; /* ": " and CRLF */
    if (key[strcspn(key, " \t")] != '\0')
        scan->bad_name = true;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (scan->n_length++ == 0)
            scan->length = value;
        else if (strcmp(value, scan->length) != 0)
            scan->lengths_differ = true;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        if (scan->n_coding++ == 0)
            scan->coding = value;
    }
    return MHD_YES;
}

/*
 * Why the body's framing is ambiguous, or NULL when it is not.  Two
 * parties that read such a request differently (a proxy and us) would
 * split the stream into different requests, so we refuse it instead.
 */
static const char *framing_problem(const struct head_scan *scan)
{
    if (scan->bad_name)
        return "A header name contains white space";
    if (scan->lengths_differ)
        return "The request has conflicting Content-Length headers";
    if (scan->n_coding > 0 && scan->n_length > 0)
        return "The request has both Transfer-Encoding and Content-Length";
    if (scan->n_coding > 1 ||
        (scan->n_coding == 1 && strcasecmp(scan->coding, "chunked") != 0))
        return "The only transfer coding accepted is chunked";
    return NULL;
}

/* True when a declared Content-Length is over the body limit. */
static bool declared_too_large(const struct head_scan *scan)
{
    if (scan->length == NULL)
        return false;
    errno = 0;
    char *end;
    unsigned long long n = strtoull(scan->length, &end, 10);
    return errno == ERANGE || (end != scan->length && n > max_body);
}

/* Answers from the head alone and has the connection closed after. */
static void refuse(struct http_request *req, unsigned status,
                   const char *message)
{
    req->refused = true;
    http_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
    respond_message(req, status, message);
}

/* Checks the head before any body is read; false after refusing it. */
/*
 * libmicrohttpd hands us the path decoded and NUL-terminated, so "%00"
 * would silently cut it short ("/admin/thoughts/5/%00x" would become a
 * valid route).  Such a path is refused instead.
 */
static bool path_has_encoded_nul(const char *raw_uri)
{
    size_t path_len = strcspn(raw_uri, "?");

    for (size_t i = 0; i + 2 < path_len; i++) {
        if (raw_uri[i] == '%' && raw_uri[i + 1] == '0' && raw_uri[i + 2] == '0')
            return true;
    }
    return false;
}

static bool accept_head(struct http_request *req)
{
    struct head_scan scan = {0};
    char message[128];

    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, scan_header, &scan);
    /* The request line: two spaces, "HTTP/1.1" and CRLF besides these. */
    scan.bytes += strlen(req->method) + strlen(req->raw_uri) + 12;
    if (scan.bytes > max_header) {
        snprintf(message, sizeof(message),
                 "The request headers are larger than the limit of %zu "
                 "bytes",
                 max_header);
        refuse(req, MHD_HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE, message);
        return false;
    }
    const char *problem = framing_problem(&scan);
    if (problem == NULL && path_has_encoded_nul(req->raw_uri))
        problem = "The request path must not contain a NUL byte (%00)";
    if (problem != NULL) {
        refuse(req, MHD_HTTP_BAD_REQUEST, problem);
        return false;
    }
    if (declared_too_large(&scan)) {
        req->too_large = true;
        req->refused = true;
        respond_too_large(req);
        return false;
    }
    return true;
}

/* ---- the request handler -------------------------------------------- */

static enum MHD_Result receive_body(struct http_request *req, const char *data,
                                    size_t *size)
{
    req->body_seen += *size;
    if (!req->too_large && req->body.len + *size > max_body) {
        req->too_large = true;
        buf_free(&req->body);
    }
    if (!req->too_large && !req->refused)
        buf_append(&req->body, data, *size);
    *size = 0;
    /* A client that keeps sending far past the limit is cut off. */
    if (req->too_large && req->body_seen > DISCARD_FACTOR * (uint64_t)max_body)
        return MHD_NO;
    return MHD_YES;
}

/* The whole request is in: run the handler, which must answer. */
static enum MHD_Result handle(struct http_request *req)
{
    if (!set_waiting(state_of(req->conn), false))
        return MHD_NO; /* the watchdog already answered 408 */

    log_set_request_id(req->request_id);
    if (req->too_large)
        respond_too_large(req);
    else
        app_handler(req);
    if (!req->responded) {
        log_error("no response for %s %s", req->method, req->path);
        respond_message(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "Internal server error");
    }
    log_set_request_id(NULL);
    return req->queue_failed ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct http_request *req = *con_cls;

    if (req == NULL) {
        req = request_new(conn, url, method);
        *con_cls = req;
        if (!accept_head(req))
            set_waiting(state_of(conn), false);
        return req->queue_failed ? MHD_NO : MHD_YES;
    }
    if (*upload_size > 0)
        return receive_body(req, upload, upload_size);
    if (req->responded)
        return req->queue_failed ? MHD_NO : MHD_YES;
    return handle(req);
}

/* ---- the watchdog ----------------------------------------------------- */

#define TIMEOUT_BODY "{\"message\": \"The request did not arrive in time\"}\n"

/*
 * Ends a connection whose request is late.  The socket is shut down, not
 * closed: libmicrohttpd still owns the descriptor and sees the end of
 * the stream on its own thread.  A client that had begun a request is
 * told why first; libmicrohttpd is not writing while a request is still
 * arriving, so the two writers never mix.
 */
static void cut_off(struct connection_state *cs)
{
    char answer[256];
    int n = snprintf(answer, sizeof(answer),
                     "HTTP/1.1 408 Request Timeout\r\n"
                     "Content-Type: application/json\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     sizeof(TIMEOUT_BODY) - 1, TIMEOUT_BODY);

    if (cs->request_seen)
        (void)send(cs->fd, answer, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(cs->fd, SHUT_RDWR);
    cs->cut_off = true;
}

static void cut_off_late(void)
{
    for (struct connection_state *cs = watched; cs != NULL; cs = cs->next) {
        if (!cs->waiting || cs->cut_off || cs->fd < 0 ||
            elapsed_ms(&cs->waiting_since) < request_timeout_s * 1000.0)
            continue;
        log_debug("closing a connection whose request took over %d s",
                  request_timeout_s);
        cut_off(cs);
    }
}

static void *watch_loop(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&watch_lock);
    while (!watchdog_quit) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WATCH_INTERVAL_MS * 1000L * 1000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&watch_wake, &watch_lock, &until);
        cut_off_late();
    }
    pthread_mutex_unlock(&watch_lock);
    return NULL;
}

static void watchdog_stop(void)
{
    if (!watchdog_running)
        return;
    pthread_mutex_lock(&watch_lock);
    watchdog_quit = true;
    pthread_cond_signal(&watch_wake);
    pthread_mutex_unlock(&watch_lock);
    pthread_join(watchdog, NULL);
    watchdog_running = false;
}

/* ---- daemon --------------------------------------------------------- */

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char text[512];

    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    log_debug("libmicrohttpd: %s", text);
}

static bool parse_address(const char *address, int port,
                          struct sockaddr_storage *out, char *err,
                          size_t err_size)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;

    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return true;
    }
    if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        return true;
    }
    snprintf(err, err_size,
             "BIND_ADDRESS=%s is not an IPv4 or IPv6 address "
             "(for example 0.0.0.0, 127.0.0.1 or ::)",
             address);
    return false;
}

bool http_start(const struct http_options *opts, http_handler handler,
                char *err, size_t err_size)
{
    struct sockaddr_storage addr;

    if (!parse_address(opts->bind_address, opts->port, &addr, err, err_size))
        return false;
    app_handler = handler;
    max_body = opts->max_body;
    max_header = opts->max_header;
    request_timeout_s = opts->request_timeout;
    size_t pool = 2 * max_header + POOL_SLACK;
    if (pool < POOL_MIN)
        pool = POOL_MIN;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    daemon_handle = MHD_start_daemon(
        flags, (uint16_t)opts->port, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)opts->workers,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)opts->max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)opts->connection_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)opts->max_per_client,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_END);
    if (daemon_handle == NULL) {
        snprintf(err, err_size,
                 "cannot listen on %s port %d (is the port in use?)",
                 opts->bind_address, opts->port);
        return false;
    }
    watchdog_quit = false;
    if (pthread_create(&watchdog, NULL, watch_loop, NULL) != 0) {
        snprintf(err, err_size, "cannot start the request watchdog thread");
        MHD_stop_daemon(daemon_handle);
        daemon_handle = NULL;
        return false;
    }
    watchdog_running = true;
    return true;
}

void http_stop(int timeout_s)
{
    struct timespec started;
    const struct timespec pause = {0, 20 * 1000 * 1000};

    if (daemon_handle == NULL)
        return;
    atomic_store(&stopping, true);
    MHD_socket listener = MHD_quiesce_daemon(daemon_handle);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);

    clock_gettime(CLOCK_MONOTONIC, &started);
    while (atomic_load(&in_flight) > 0 &&
           elapsed_ms(&started) < timeout_s * 1000.0)
        nanosleep(&pause, NULL);
    if (atomic_load(&in_flight) > 0)
        log_warning("stopping with %d requests still in flight",
                    atomic_load(&in_flight));
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    watchdog_stop();
}
