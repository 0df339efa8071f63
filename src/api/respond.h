/*
 * api/respond: JSON responses, errors in the contract's shape, and the
 * JSON form of a thought.
 */
#ifndef API_RESPOND_H
#define API_RESPOND_H

#include <jansson.h>

#include "core/buf.h"
#include "http/server.h"
#include "store/store.h"

/* Sends `value` as application/json and releases it. */
void api_send_json(struct http_request *req, unsigned status, json_t *value);

/* {"message": message} with the given status. */
void api_send_error(struct http_request *req, unsigned status,
                    const char *message);

/* 400 {"message": ..., "errors": {field: problem}}, as Flask-RESTPlus. */
void api_send_field_error(struct http_request *req, const char *field,
                          const char *problem);

/* 503 with Retry-After for STORE_UNAVAILABLE, 500 for anything else. */
void api_send_store_error(struct http_request *req, enum store_result r);

/*
 * Appends the thought as a JSON object with keys in the contract's
 * order.  Text that is not valid UTF-8 (inserted by hand) is repaired
 * with U+FFFD rather than refused.
 */
void api_append_thought(struct buf *out, const struct thought *t);

#endif
