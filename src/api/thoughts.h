/*
 * api/thoughts: the handlers behind every /api/ and /admin/ route.
 * Each answers the request itself, errors included.
 */
#ifndef API_THOUGHTS_H
#define API_THOUGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/server.h"

void thoughts_list(struct http_request *req);
void thoughts_get(struct http_request *req, int64_t id);
void thoughts_list_mine(struct http_request *req);
void thoughts_create(struct http_request *req);
void thoughts_delete(struct http_request *req, int64_t id);

enum thoughts_json {
    THOUGHTS_JSON_TEXT,       /* `text` is a string, appended to *text */
    THOUGHTS_JSON_NO_TEXT,    /* an object without `text` */
    THOUGHTS_JSON_INVALID,    /* not JSON, too deep, or a number overflows */
    THOUGHTS_JSON_NOT_OBJECT, /* valid JSON, but not an object */
    THOUGHTS_JSON_NOT_STRING, /* `text` is present but not a string */
};

/*
 * Takes the `text` member from a JSON body: body[0..len) need not be
 * NUL-terminated.  A string is appended to *text whole, \u0000 included
 * (the text rules refuse it later); nothing is appended otherwise.
 * Pure: it touches no request, so the fuzzers call it directly.
 */
enum thoughts_json thoughts_json_text(const char *body, size_t len,
                                      struct buf *text);

#endif
