/*
 * api/docs: the interactive documentation (Swagger UI) at / and the
 * files it needs, including the OpenAPI document at /swagger.json and
 * /openapi.json, all built into the binary.
 */
#ifndef API_DOCS_H
#define API_DOCS_H

#include "http/server.h"

void docs_send_page(struct http_request *req);

/* Serves the embedded file at the request's path (404 when none). */
void docs_send_asset(struct http_request *req);

#endif
