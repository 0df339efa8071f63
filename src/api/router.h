/*
 * api/router: maps a request to its handler by path and method.
 *
 * Unknown paths are 404; a known path without its trailing slash is 308
 * to the slashed one; a method the path does not support is 405 with an
 * Allow header; OPTIONS answers with Allow.
 */
#ifndef API_ROUTER_H
#define API_ROUTER_H

#include "http/server.h"

/* Registers the route templates with the metrics; call once at start. */
void router_init(void);

/* The http_handler of the service. */
void router_handle(struct http_request *req);

#endif
