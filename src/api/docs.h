/*
 * api/docs: the interactive documentation page at / and the OpenAPI
 * document at /swagger.json, both built into the binary.
 */
#ifndef API_DOCS_H
#define API_DOCS_H

#include "http/server.h"

void docs_send_page(struct http_request *req);
void docs_send_openapi(struct http_request *req);

#endif
