/*
 * api/thoughts: reading, creating and deleting thoughts.
 *
 * Listings are streamed: rows are read from the store in small batches,
 * by id, and written to the socket as the client takes them, so a large
 * table never sits whole in memory.  The first batch is read before the
 * status line is sent, so a database failure can still be a clean 503.
 */
#include "api/thoughts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/auth.h"
#include "api/respond.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/xalloc.h"
#include "store/store.h"

#define BATCH_ROWS 100

/* ---- listings ------------------------------------------------------- */

struct listing {
    struct store_query query;
    char *username; /* owned copies of the query's strings */
    char *search;
    struct buf out; /* JSON waiting to be written */
    size_t out_pos;
    int rows;       /* rows written so far */
    int batch_rows; /* rows written by the current batch */
    bool finished;  /* every row read; the closing bracket is in out */
};

/*
 * A batch asks for one row more than it writes: that row only tells
 * whether another batch is needed, so a listing that fits in one batch
 * costs one query, not two.
 */
static bool append_row(const struct thought *row, void *ctx)
{
    struct listing *ls = ctx;

    if (ls->batch_rows == BATCH_ROWS)
        return false;
    ls->batch_rows++;
    buf_puts(&ls->out, ls->rows++ == 0 ? "[" : ", ");
    api_append_thought(&ls->out, row);
    ls->query.after_id = row->id;
    return true;
}

/* Reads the next batch into ls->out; false when the database failed. */
static enum store_result next_batch(struct listing *ls)
{
    struct store *store = store_for_thread();
    int n = 0;

    if (store == NULL)
        return STORE_UNAVAILABLE;
    ls->batch_rows = 0;
    enum store_result r = store_list(store, &ls->query, append_row, ls, &n);
    if (r != STORE_OK)
        return r;
    if (n <= BATCH_ROWS) {
        buf_puts(&ls->out, ls->rows == 0 ? "[]\n" : "]\n");
        ls->finished = true;
    }
    return STORE_OK;
}

static ssize_t fill_listing(void *ctx, char *dst, size_t max)
{
    struct listing *ls = ctx;

    while (ls->out_pos == ls->out.len) {
        if (ls->finished)
            return 0;
        buf_reset(&ls->out);
        ls->out_pos = 0;
        enum store_result r = next_batch(ls);
        if (r != STORE_OK) {
            log_error("listing aborted after %d rows: database error",
                      ls->rows);
            return -1;
        }
    }
    size_t n = ls->out.len - ls->out_pos;
    if (n > max)
        n = max;
    memcpy(dst, ls->out.data + ls->out_pos, n);
    ls->out_pos += n;
    return (ssize_t)n;
}

static void free_listing(void *ctx)
{
    struct listing *ls = ctx;

    buf_free(&ls->out);
    free(ls->username);
    free(ls->search);
    free(ls);
}

/* Takes ownership of username and search (either may be NULL). */
static void send_listing(struct http_request *req, char *username, char *search)
{
    struct listing *ls = xcalloc(1, sizeof(*ls));

    ls->username = username;
    ls->search = search;
    ls->query.username = username;
    ls->query.search = search;
    ls->query.after_id = INT64_MIN;
    ls->query.limit = BATCH_ROWS + 1;

    enum store_result r = next_batch(ls);
    if (r != STORE_OK) {
        free_listing(ls);
        api_send_store_error(req, r);
        return;
    }
    http_respond_stream(req, 200, "application/json", fill_listing, ls,
                        free_listing);
}

void thoughts_list(struct http_request *req)
{
    size_t len;
    char *search = http_query_param(req, "search", &len);
    char *folded = NULL;

    /* An empty search matches everything, as in the original. */
    if (search != NULL && len > 0) {
        if (memchr(search, '\0', len) != NULL ||
            (folded = text_casefold(search, len, NULL)) == NULL) {
            free(search);
            api_send_field_error(req, "search",
                                 "must be valid UTF-8 without NUL");
            return;
        }
    }
    free(search);
    send_listing(req, NULL, folded);
}

/* ---- single thoughts ------------------------------------------------ */

static bool send_row(const struct thought *row, void *ctx)
{
    struct http_request *req = ctx;
    struct buf body = BUF_INIT;

    api_append_thought(&body, row);
    buf_puts(&body, "\n");
    http_respond(req, 200, "application/json", body.data, body.len);
    buf_free(&body);
    return false;
}

void thoughts_get(struct http_request *req, int64_t id)
{
    struct store *store = store_for_thread();
    enum store_result r =
        store ? store_get(store, id, send_row, req) : STORE_UNAVAILABLE;

    if (r == STORE_NOT_FOUND)
        api_send_error(req, 404, "Thought not found");
    else if (r != STORE_OK)
        api_send_store_error(req, r);
}

void thoughts_delete(struct http_request *req, int64_t id)
{
    struct jwt_claims claims;

    if (!api_authenticate(req, API_AUTH_ADMIN, &claims))
        return;
    jwt_claims_free(&claims);

    struct store *store = store_for_thread();
    enum store_result r = store ? store_delete(store, id) : STORE_UNAVAILABLE;
    if (r != STORE_OK) {
        api_send_store_error(req, r);
        return;
    }
    http_respond(req, 204, NULL, NULL, 0);
}

/* ---- the caller's own thoughts -------------------------------------- */

/*
 * Authenticates a /api/me/ request and checks that the token's username
 * fits the schema.  Returns the username (owned by the caller) or NULL
 * after answering.
 */
static char *authenticated_user(struct http_request *req)
{
    struct jwt_claims claims;

    if (!api_authenticate(req, API_AUTH_USER, &claims))
        return NULL;
    if (text_length(claims.username, strlen(claims.username)) >
        STORE_USERNAME_MAX) {
        jwt_claims_free(&claims);
        api_send_field_error(req, "username",
                             "must be at most 50 characters long");
        return NULL;
    }
    return claims.username;
}

void thoughts_list_mine(struct http_request *req)
{
    char *username = authenticated_user(req);

    if (username != NULL)
        send_listing(req, username, NULL);
}

/* The media type of the request, lower-case, without parameters. */
static void media_type(struct http_request *req, char *out, size_t size)
{
    const char *ct = http_header(req, "Content-Type");
    size_t n = 0;

    if (ct != NULL) {
        while (*ct == ' ')
            ct++;
        for (; ct[n] != '\0' && ct[n] != ';' && ct[n] != ' ' && n + 1 < size;
             n++)
            out[n] = (char)(ct[n] >= 'A' && ct[n] <= 'Z' ? ct[n] + 32 : ct[n]);
    }
    out[n] = '\0';
}

enum text_source { TEXT_FOUND, TEXT_ABSENT, TEXT_ANSWERED };

enum thoughts_json thoughts_json_text(const char *body, size_t len,
                                      struct buf *text)
{
    json_t *doc = json_loadb(body, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);

    if (doc == NULL)
        return THOUGHTS_JSON_INVALID;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return THOUGHTS_JSON_NOT_OBJECT;
    }

    enum thoughts_json r = THOUGHTS_JSON_NO_TEXT;
    json_t *value = json_object_get(doc, "text");
    if (json_is_string(value)) {
        buf_append(text, json_string_value(value), json_string_length(value));
        r = THOUGHTS_JSON_TEXT;
    } else if (value != NULL) {
        r = THOUGHTS_JSON_NOT_STRING;
    }
    json_decref(doc);
    return r;
}

/* Takes `text` from a JSON object body; answers 400 for a bad body. */
static enum text_source text_from_json(struct http_request *req,
                                       struct buf *text)
{
    size_t len;
    const char *body = http_body(req, &len);

    switch (thoughts_json_text(body, len, text)) {
    case THOUGHTS_JSON_TEXT:
        return TEXT_FOUND;
    case THOUGHTS_JSON_NO_TEXT:
        return TEXT_ABSENT;
    case THOUGHTS_JSON_INVALID:
        api_send_error(req, 400, "The request body is not valid JSON");
        break;
    case THOUGHTS_JSON_NOT_OBJECT:
        api_send_error(req, 400, "The request body must be a JSON object");
        break;
    case THOUGHTS_JSON_NOT_STRING:
        api_send_field_error(req, "text", "must be a string");
        break;
    }
    return TEXT_ANSWERED;
}

static enum text_source text_from_form(struct http_request *req,
                                       struct buf *text)
{
    char *value;
    size_t len;
    int r = http_form_field(req, "text", &value, &len);

    if (r < 0) {
        api_send_error(req, 400, "The form body cannot be parsed");
        return TEXT_ANSWERED;
    }
    if (r == 0)
        return TEXT_ABSENT;
    buf_append(text, value, len);
    free(value);
    return TEXT_FOUND;
}

/*
 * Finds `text` in the body (JSON or form) or, when the body has none,
 * in the query string, as the original's request parser did.
 */
static enum text_source find_text(struct http_request *req, struct buf *text)
{
    char type[64];
    size_t body_len;
    enum text_source r = TEXT_ABSENT;

    media_type(req, type, sizeof(type));
    http_body(req, &body_len);
    if (body_len > 0) {
        size_t n = strlen(type);
        if (strcmp(type, "application/json") == 0 ||
            (n > 5 && strcmp(type + n - 5, "+json") == 0))
            r = text_from_json(req, text);
        else if (strcmp(type, "application/x-www-form-urlencoded") == 0 ||
                 strcmp(type, "multipart/form-data") == 0)
            r = text_from_form(req, text);
    }
    if (r != TEXT_ABSENT)
        return r;

    size_t len;
    char *value = http_query_param(req, "text", &len);
    if (value == NULL)
        return TEXT_ABSENT;
    buf_append(text, value, len);
    free(value);
    return TEXT_FOUND;
}

void thoughts_create(struct http_request *req)
{
    char *username = authenticated_user(req);
    struct buf text = BUF_INIT;

    if (username == NULL)
        return;

    enum text_source src = find_text(req, &text);
    if (src == TEXT_ABSENT)
        api_send_field_error(req, "text", "is required");
    if (src != TEXT_FOUND)
        goto out;

    enum text_check check =
        text_check(buf_str(&text), text.len, STORE_TEXT_MAX);
    if (check != TEXT_OK) {
        char problem[80];
        text_check_describe(check, STORE_TEXT_MAX, problem, sizeof(problem));
        api_send_field_error(req, "text", problem);
        goto out;
    }

    struct thought t = {0,        username, strlen(username), buf_str(&text),
                        text.len, true,     timestamp_now()};
    struct store *store = store_for_thread();
    enum store_result r =
        store ? store_create(store, username, t.text, t.timestamp, &t.id)
              : STORE_UNAVAILABLE;
    if (r != STORE_OK) {
        api_send_store_error(req, r);
        goto out;
    }
    struct buf body = BUF_INIT;
    api_append_thought(&body, &t);
    buf_puts(&body, "\n");
    http_respond(req, 201, "application/json", body.data, body.len);
    buf_free(&body);
out:
    buf_free(&text);
    free(username);
}
