/*
 * api/assets: the embedded files.  The assembler's .incbin copies each
 * file into read-only data at build time; the Makefile makes this object
 * depend on them.  Paths are relative to the repository root, where make
 * runs.
 */
#include "api/assets.h"

#include <string.h>

#define EMBED(name, file)                                                      \
    __asm__(".section .rodata\n"                                               \
            ".balign 16\n"                                                     \
            ".global " #name "\n" #name ":\n"                                  \
            ".incbin \"" file "\"\n"                                           \
            ".global " #name "_end\n" #name "_end:\n"                          \
            ".byte 0\n"                                                        \
            ".previous\n");                                                    \
    extern const unsigned char name[], name##_end[]

EMBED(asset_openapi, "docs/openapi.json");
EMBED(asset_swagger_js, "third_party/swagger-ui/swagger-ui-bundle.js");
EMBED(asset_swagger_css, "third_party/swagger-ui/swagger-ui.css");
EMBED(asset_favicon, "third_party/swagger-ui/favicon-32x32.png");

#define ASSET(url, type, name)                                                 \
    {                                                                          \
        url, type, name, name##_end                                            \
    }

static const struct asset assets[] = {
    ASSET("/swagger.json", "application/json", asset_openapi),
    ASSET("/openapi.json", "application/json", asset_openapi),
    ASSET("/swaggerui/swagger-ui-bundle.js", "text/javascript",
          asset_swagger_js),
    ASSET("/swaggerui/swagger-ui.css", "text/css", asset_swagger_css),
    ASSET("/swaggerui/favicon-32x32.png", "image/png", asset_favicon),
};

const struct asset *assets_find(const char *path)
{
    for (size_t i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
        if (strcmp(assets[i].path, path) == 0)
            return &assets[i];
    }
    return NULL;
}
