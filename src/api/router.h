/*
 * api/router: maps a request to its handler by path and method.
 *
 * Unknown paths are 404; a known path without its trailing slash is 308
 * to the slashed one; a method the path does not support is 405 with an
 * Allow header; OPTIONS answers with Allow.
 */
#ifndef API_ROUTER_H
#define API_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "http/server.h"

/* Registers the route templates with the metrics; call once at start. */
void router_init(void);

enum router_outcome {
    ROUTER_FOUND,     /* *route is the table index, *id the {id} if any */
    ROUTER_REDIRECT,  /* known with a trailing slash added: 308 */
    ROUTER_NOT_FOUND, /* unknown, or an {id} too large for int64_t: 404 */
};

/*
 * Matches a decoded path[0..len) (no NUL needed) against the route
 * table.  Pure: it touches no request, so the fuzzers call it directly.
 */
enum router_outcome router_match(const char *path, size_t len, int *route,
                                 int64_t *id);

/* The http_handler of the service. */
void router_handle(struct http_request *req);

#endif
