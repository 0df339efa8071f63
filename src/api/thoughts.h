/*
 * api/thoughts: the handlers behind every /api/ and /admin/ route.
 * Each answers the request itself, errors included.
 */
#ifndef API_THOUGHTS_H
#define API_THOUGHTS_H

#include <stdint.h>

#include "http/server.h"

void thoughts_list(struct http_request *req);
void thoughts_get(struct http_request *req, int64_t id);
void thoughts_list_mine(struct http_request *req);
void thoughts_create(struct http_request *req);
void thoughts_delete(struct http_request *req, int64_t id);

#endif
