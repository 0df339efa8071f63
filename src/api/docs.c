/*
 * api/docs: Swagger UI at / and the embedded files behind it.
 *
 * The page is ours; the script and style are swagger-ui-dist's, served
 * from the binary under /swaggerui/.  URLs are relative so the page also
 * works behind a proxy that mounts the service under a prefix.
 */
#include "api/docs.h"

#include "api/assets.h"
#include "api/respond.h"

static const char page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<title>Thoughts Backend API</title>\n"
    "<link rel=\"stylesheet\" href=\"swaggerui/swagger-ui.css\">\n"
    "<link rel=\"icon\" type=\"image/png\" "
    "href=\"swaggerui/favicon-32x32.png\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"swagger-ui\"></div>\n"
    "<script src=\"swaggerui/swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "window.ui = SwaggerUIBundle({\n"
    "  url: \"swagger.json\",\n"
    "  dom_id: \"#swagger-ui\",\n"
    "  deepLinking: true,\n"
    "  persistAuthorization: true\n"
    "});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

void docs_send_page(struct http_request *req)
{
    http_respond(req, 200, "text/html; charset=utf-8", page, sizeof(page) - 1);
}

void docs_send_asset(struct http_request *req)
{
    const struct asset *a = assets_find(http_path(req));

    if (a == NULL) {
        api_send_error(req, 404,
                       "The requested URL was not found on the server");
        return;
    }
    http_add_header(req, "Cache-Control", "public, max-age=3600");
    http_respond(req, 200, a->content_type, (const char *)a->data,
                 (size_t)(a->end - a->data));
}
