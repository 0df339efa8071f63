"""The OpenAPI document (issue 5) against the running server.

docs/openapi.json is what clients read; these tests hold the server to
it: the document is served as is, every documented operation answers
with a documented status and a body of the documented shape, and no
route the router serves is missing from it.
"""
import copy
import json
import re

import pytest

from conftest import REPO

DOC_PATH = REPO / "docs" / "openapi.json"
ROUTER = REPO / "src" / "api" / "router.c"
METHODS = ("get", "post", "delete")

# Routes the router serves that are not API operations: the static files
# the documentation page loads.
NOT_OPERATIONS = {"/swaggerui/swagger-ui-bundle.js",
                  "/swaggerui/swagger-ui.css",
                  "/swaggerui/favicon-32x32.png"}


@pytest.fixture(scope="module")
def doc():
    return json.loads(DOC_PATH.read_text())


def resolve(doc, node):
    """Follows local $refs until node is not one."""
    while isinstance(node, dict) and "$ref" in node:
        assert node["$ref"].startswith("#/"), node["$ref"]
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def check(doc, schema, value, where="$"):
    """Validates value against the subset of JSON Schema the document
    uses; returns a list of problems."""
    schema = resolve(doc, schema)
    problems = []
    kind = schema.get("type")
    types = {"object": dict, "array": list, "string": str,
             "boolean": bool, "number": (int, float)}
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return ["%s: %r is not an integer" % (where, value)]
        if "minimum" in schema and value < schema["minimum"]:
            problems.append("%s: %r is below the minimum" % (where, value))
    elif kind is not None:
        if not isinstance(value, types[kind]) or (
                kind == "number" and isinstance(value, bool)):
            return ["%s: %r is not of type %s" % (where, value, kind)]
    if "enum" in schema and value not in schema["enum"]:
        problems.append("%s: %r is not one of %s" % (where, value,
                                                     schema["enum"]))
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            problems.append("%s: shorter than minLength" % where)
        if len(value) > schema.get("maxLength", len(value)):
            problems.append("%s: longer than maxLength" % where)
        if "pattern" in schema and not re.search(schema["pattern"], value):
            problems.append("%s: %r does not match %s" % (
                where, value, schema["pattern"]))
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                problems.append("%s: %s is missing" % (where, name))
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                problems += check(doc, properties[name], item,
                                  "%s.%s" % (where, name))
            elif isinstance(extra, dict):
                problems += check(doc, extra, item, "%s.%s" % (where, name))
            elif extra is False:
                problems.append("%s: %s is not documented" % (where, name))
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            problems += check(doc, schema["items"], item,
                              "%s[%d]" % (where, i))
    return problems


def operations(doc):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def router_table():
    """{pattern: {methods}} from the route table in src/api/router.c."""
    source = ROUTER.read_text()
    table = source[source.index("static const struct route routes[]"):]
    table = table[:table.index("};")]
    routes = {}
    for pattern, get, post, delete in re.findall(
            r'\{\s*"([^"]+)",\s*(\w+),\s*(\w+),\s*(\w+)\s*\}', table):
        routes[pattern] = {m for m, fn in (("get", get), ("post", post),
                                           ("delete", delete))
                           if fn != "NULL"}
    assert routes, "the route table was not found in router.c"
    return routes


# ---- the document itself -----------------------------------------------

def test_document_is_served_as_is(server, doc):
    for path in ("/swagger.json", "/openapi.json"):
        r = server.get(path)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json() == doc
    assert server.get("/swagger.json").content == \
        server.get("/openapi.json").content


def test_document_basics(doc):
    assert doc["openapi"].startswith("3.")
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for path, method, op in operations(doc):
        assert op.get("summary"), (path, method)
        assert op["responses"], (path, method)
        assert "security" in op, (path, method)
        for code in op["responses"]:
            assert re.fullmatch(r"[1-5]\d\d", code), (path, method, code)


def test_every_ref_resolves(doc):
    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(doc, node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(doc)


def test_every_route_is_documented(doc):
    routes = router_table()
    for pattern, methods in routes.items():
        if pattern in NOT_OPERATIONS:
            continue
        assert pattern in doc["paths"], "%s is not documented" % pattern
        documented = {m for m in METHODS if m in doc["paths"][pattern]}
        assert documented == methods, pattern
    for path in doc["paths"]:
        assert path in routes, "%s is documented but not served" % path


def test_route_probe_agrees_with_the_document(server, doc):
    """The same check from the outside, for the routes we know of."""
    for path in ("/api/thoughts/", "/api/thoughts/1/", "/api/me/thoughts/",
                 "/admin/thoughts/1/", "/", "/swagger.json", "/openapi.json",
                 "/livez", "/healthz", "/readyz", "/metrics"):
        template = re.sub(r"/1/$", "/{id}/", path)
        assert template in doc["paths"], template
        r = server.request("OPTIONS", path)
        allow = {m.strip().lower() for m in r.headers["Allow"].split(",")}
        documented = {m for m in METHODS if m in doc["paths"][template]}
        assert allow & set(METHODS) == documented, path


def test_documented_errors_are_error_objects(doc):
    # Every documented error response is the Error object as JSON.
    for path, method, op in operations(doc):
        for code, response in op["responses"].items():
            if int(code) < 400:
                continue
            response = resolve(doc, response)
            schema = response["content"]["application/json"]["schema"]
            assert resolve(doc, schema) is resolve(
                doc, {"$ref": "#/components/schemas/Error"}), (path, code)


# ---- calling every documented operation --------------------------------

@pytest.fixture
def thought(server, keys, user):
    r = server.post("/api/me/thoughts/", json={"text": "documented"},
                    headers=keys.header(user))
    assert r.status_code == 201
    return r.json()


def call(server, keys, user, path, method, op, thought_id):
    url = path.replace("{id}", str(thought_id))
    headers = {}
    if op.get("security"):
        headers = keys.header(user, admin=path.startswith("/admin/"))
    kwargs = {"headers": headers}
    if method == "post":
        kwargs["json"] = {"text": "sent by the docs test"}
    return server.request(method.upper(), url, **kwargs)


def assert_matches(doc, op, response, where):
    codes = op["responses"]
    assert str(response.status_code) in codes, (
        "%s answered %d, documented: %s" % (where, response.status_code,
                                            sorted(codes)))
    documented = resolve(doc, codes[str(response.status_code)])
    content = documented.get("content")
    if not content:
        assert response.content == b"", where
        return
    media = response.headers["Content-Type"].split(";")[0].strip()
    assert media in content, (where, media, list(content))
    if media == "application/json":
        problems = check(doc, content[media]["schema"], response.json())
        assert problems == [], (where, problems)


def test_every_documented_operation_answers_as_documented(server, doc, keys,
                                                          user, thought):
    for path, method, op in operations(doc):
        where = "%s %s" % (method.upper(), path)
        thought_id = thought["id"]
        if method == "delete":
            doomed = server.post("/api/me/thoughts/", json={"text": "x"},
                                 headers=keys.header(user)).json()
            thought_id = doomed["id"]
        r = call(server, keys, user, path, method, op, thought_id)
        assert r.status_code < 300, (where, r.status_code, r.text)
        assert_matches(doc, op, r, where)


def test_thought_bodies_have_the_documented_key_order(server, doc, keys,
                                                      user, thought):
    schema = doc["components"]["schemas"]["Thought"]
    order = schema["required"]
    assert order == ["id", "username", "text", "timestamp"]
    for path in ("/api/thoughts/%d/" % thought["id"],):
        pairs = json.loads(server.get(path).text,
                           object_pairs_hook=lambda p: p)
        assert [k for k, _ in pairs] == order
    rows = json.loads(server.get("/api/me/thoughts/",
                                 headers=keys.header(user)).text,
                      object_pairs_hook=lambda p: p)
    assert rows and all([k for k, _ in row] == order for row in rows)


def error_cases(keys, user):
    """Requests that fail, for each documented operation."""
    missing = 987654321
    return [
        ("/api/thoughts/", "get", {"params": {"search": b"\xff"}}),
        ("/api/thoughts/{id}/", "get", {"id": missing}),
        ("/api/me/thoughts/", "get", {}),
        ("/api/me/thoughts/", "get",
         {"headers": keys.header("u" * 51)}),
        ("/api/me/thoughts/", "post", {"json": {"text": "no token"}}),
        ("/api/me/thoughts/", "post",
         {"headers": keys.header(user), "json": {"text": ""}}),
        ("/api/me/thoughts/", "post",
         {"headers": keys.header(user), "data": b"{",
          "ctype": "application/json"}),
        ("/admin/thoughts/{id}/", "delete", {"id": 1}),
        ("/admin/thoughts/{id}/", "delete",
         {"id": 1, "headers": keys.header(user)}),
        ("/admin/thoughts/{id}/", "delete",
         {"id": "abc", "headers": keys.header(user, admin=True)}),
    ]


def test_documented_errors_are_the_ones_the_server_gives(server, doc, keys,
                                                         user):
    for path, method, case in error_cases(keys, user):
        case = copy.deepcopy(case)
        op = doc["paths"][path][method]
        url = path.replace("{id}", str(case.pop("id", 1)))
        headers = case.pop("headers", {})
        if "ctype" in case:
            headers["Content-Type"] = case.pop("ctype")
        r = server.request(method.upper(), url, headers=headers, **case)
        where = "%s %s (%s)" % (method.upper(), url, r.status_code)
        assert r.status_code >= 400, where
        assert_matches(doc, op, r, where)
        if r.status_code == 401:
            assert r.headers["WWW-Authenticate"] == "Bearer"


def test_too_large_is_documented(start_server, doc, keys, user):
    srv = start_server({"MAX_BODY_BYTES": "1024"})
    op = doc["paths"]["/api/me/thoughts/"]["post"]
    r = srv.post("/api/me/thoughts/", data=b"{" + b" " * 2000 + b"}",
                 headers={**keys.header(user),
                          "Content-Type": "application/json"})
    assert_matches(doc, op, r, "POST too large")


def test_readyz_503_is_documented(doc):
    op = doc["paths"]["/readyz"]["get"]
    assert "503" in op["responses"]
    unavailable = resolve(doc, op["responses"]["503"])
    assert "Retry-After" in unavailable["headers"]


def test_request_body_schema_accepts_what_the_server_accepts(doc, server,
                                                            keys, user):
    op = doc["paths"]["/api/me/thoughts/"]["post"]
    content = op["requestBody"]["content"]
    assert set(content) == {"application/json",
                            "application/x-www-form-urlencoded",
                            "multipart/form-data"}
    schema = resolve(doc, content["application/json"]["schema"])
    longest = "x" * schema["properties"]["text"]["maxLength"]
    assert check(doc, schema, {"text": longest}) == []
    r = server.post("/api/me/thoughts/", json={"text": longest},
                    headers=keys.header(user))
    assert r.status_code == 201
    too_long = longest + "x"
    assert check(doc, schema, {"text": too_long}) != []
    r = server.post("/api/me/thoughts/", json={"text": too_long},
                    headers=keys.header(user))
    assert r.status_code == 400


def test_metrics_content_type_is_documented(server, doc):
    op = doc["paths"]["/metrics"]["get"]
    r = server.get("/metrics")
    assert_matches(doc, op, r, "GET /metrics")
