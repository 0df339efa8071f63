/*
 * fuzz_route: matching a decoded path against the route table.  A match
 * must name a real route and a non-negative id; a redirect must match
 * once the slash is added.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/router.h"
#include "core/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, so that reading one byte too far is caught. */
    char *path = xmalloc(size > 0 ? size : 1);
    int route = -1;
    int64_t id = 0;

    memcpy(path, data, size);
    enum router_outcome r = router_match(path, size, &route, &id);
    if (r == ROUTER_FOUND && (route < 0 || id < 0))
        abort();
    if (r == ROUTER_REDIRECT) {
        char *slashed = xmalloc(size + 1);
        memcpy(slashed, path, size);
        slashed[size] = '/';
        if (router_match(slashed, size + 1, &route, &id) != ROUTER_FOUND)
            abort();
        free(slashed);
    }
    free(path);
    return 0;
}
