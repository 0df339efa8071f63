/* api/respond: JSON bodies for every answer the API gives. */
#include "api/respond.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/text.h"
#include "core/timestamp.h"
#include "core/xalloc.h"

/* Like Python's json.dumps: ", " and ": " separators, one line. */
#define DUMP_FLAGS 0

void api_send_json(struct http_request *req, unsigned status, json_t *value)
{
    char *text = json_dumps(value, DUMP_FLAGS | JSON_ENCODE_ANY);

    json_decref(value);
    if (text == NULL)
        xalloc_die(0);
    struct buf body = BUF_INIT;
    buf_puts(&body, text);
    buf_puts(&body, "\n");
    free(text);
    http_respond(req, status, "application/json", body.data, body.len);
    buf_free(&body);
}

void api_send_error(struct http_request *req, unsigned status,
                    const char *message)
{
    api_send_json(req, status, json_pack("{s:s}", "message", message));
}

void api_send_field_error(struct http_request *req, const char *field,
                          const char *problem)
{
    json_t *body =
        json_pack("{s:s, s:{s:s}}", "message",
                  "Input payload validation failed", "errors", field, problem);
    api_send_json(req, 400, body);
}

void api_send_store_error(struct http_request *req, enum store_result r)
{
    if (r == STORE_UNAVAILABLE) {
        http_add_header(req, "Retry-After", "1");
        api_send_error(req, 503,
                       "The database is unavailable; try again shortly");
        return;
    }
    api_send_error(req, 500, "Internal server error");
}

/* A JSON string for a column, repairing invalid UTF-8; null for NULL. */
static json_t *column_string(const char *s, size_t len)
{
    if (s == NULL)
        return json_null();

    json_t *v = json_stringn(s, len);
    if (v == NULL) {
        char *clean = text_sanitize(s, len);
        v = json_string(clean);
        free(clean);
    }
    return v;
}

void api_append_thought(struct buf *out, const struct thought *t)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "id", json_integer(t->id));
    json_object_set_new(obj, "username",
                        column_string(t->username, t->username_len));
    json_object_set_new(obj, "text", column_string(t->text, t->text_len));
    if (t->has_timestamp) {
        char when[TIMESTAMP_TEXT_SIZE];
        timestamp_format_api(t->timestamp, when);
        json_object_set_new(obj, "timestamp", json_string(when));
    } else {
        json_object_set_new(obj, "timestamp", json_null());
    }

    char *text = json_dumps(obj, DUMP_FLAGS);
    json_decref(obj);
    if (text == NULL)
        xalloc_die(0);
    buf_puts(out, text);
    free(text);
}
