/*
 * api/assets: files built into the binary, so that the service needs
 * nothing from outside to serve its documentation: the OpenAPI document
 * (docs/openapi.json) and Swagger UI (third_party/swagger-ui/).
 */
#ifndef API_ASSETS_H
#define API_ASSETS_H

#include <stddef.h>

struct asset {
    const char *path; /* the URL path it is served at */
    const char *content_type;
    const unsigned char *data;
    const unsigned char *end; /* one past the last byte */
};

/* The asset served at `path`, or NULL. */
const struct asset *assets_find(const char *path);

#endif
