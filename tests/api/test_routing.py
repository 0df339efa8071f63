"""Paths, methods and limits: 308, 404, 405, 413, HEAD and error bodies."""
import json
import socket

import pytest
import requests

from conftest import assert_json_error

# Every route the service answers, with the methods it supports.
ROUTES = {
    "/api/thoughts/": {"GET", "HEAD"},
    "/api/thoughts/1/": {"GET", "HEAD"},
    "/api/me/thoughts/": {"GET", "HEAD", "POST"},
    "/admin/thoughts/1/": {"DELETE"},
    "/": {"GET", "HEAD"},
    "/swagger.json": {"GET", "HEAD"},
    "/openapi.json": {"GET", "HEAD"},
    "/livez": {"GET", "HEAD"},
    "/healthz": {"GET", "HEAD"},
    "/readyz": {"GET", "HEAD"},
    "/metrics": {"GET", "HEAD"},
}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


# ---- trailing slashes --------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "DELETE", "PUT"])
@pytest.mark.parametrize("path", ["/api/thoughts", "/api/thoughts/1",
                                  "/api/thoughts/0", "/api/me/thoughts",
                                  "/admin/thoughts/7"])
def test_path_without_trailing_slash_is_308(server, path, method):
    r = server.request(method, path)
    assert r.status_code == 308, r.text
    assert r.headers["Location"] == path + "/"
    if method != "HEAD":
        assert_json_error(r, 308)


def test_redirect_keeps_the_query_string(server):
    r = server.get("/api/thoughts?search=a%20b&x=%C3%A9")
    assert r.status_code == 308
    assert r.headers["Location"] == "/api/thoughts/?search=a%20b&x=%C3%A9"


def test_redirect_keeps_post_text_in_query(server, keys, user):
    r = server.post("/api/me/thoughts?text=redirected",
                    headers=keys.header(user))
    assert r.status_code == 308
    assert r.headers["Location"] == "/api/me/thoughts/?text=redirected"
    followed = server.post(r.headers["Location"], headers=keys.header(user))
    assert followed.status_code == 201
    assert followed.json()["text"] == "redirected"


def test_clients_that_follow_redirects_get_the_listing(server):
    r = requests.get(server.url + "/api/thoughts", timeout=10)
    assert r.status_code == 200
    assert isinstance(r.json(), list)
    assert r.history and r.history[0].status_code == 308


# ---- unknown paths -----------------------------------------------------

@pytest.mark.parametrize("path", [
    "/nothing", "/nothing/", "/api", "/api/", "/api/thought/",
    "/api/thoughts/1/extra/", "/API/thoughts/", "/api//thoughts/",
    "/admin/", "/admin/thoughts/", "/api/me/", "/livez/", "/metrics/",
    "/swagger.json/", "/api/me/thoughts/1/", "/swaggerui/",
])
def test_unknown_path_is_404_json(server, path):
    for method in ("GET", "POST", "DELETE"):
        assert_json_error(server.request(method, path), 404)


def test_unknown_path_head_is_404_without_body(server):
    r = server.request("HEAD", "/nothing")
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.content == b""


# ---- methods -----------------------------------------------------------

def unsupported():
    for path, allowed in ROUTES.items():
        for method in METHODS + ["FOO"]:
            if method not in allowed:
                yield path, method


@pytest.mark.parametrize("path,method", list(unsupported()))
def test_unsupported_method_is_405_with_allow(server, keys, path, method):
    r = server.request(method, path, headers=keys.header("root",
                                                         admin=True))
    assert r.status_code == 405, r.text
    allow = {m.strip() for m in r.headers["Allow"].split(",")}
    assert allow == ROUTES[path] | {"OPTIONS"}
    if method != "HEAD":
        assert_json_error(r, 405)


@pytest.mark.parametrize("path", list(ROUTES))
def test_options_lists_the_methods(server, path):
    r = server.request("OPTIONS", path)
    assert r.status_code in (200, 204)
    allow = {m.strip() for m in r.headers["Allow"].split(",")}
    assert allow == ROUTES[path] | {"OPTIONS"}


def test_405_comes_before_authentication(server):
    r = server.request("PUT", "/api/me/thoughts/")
    assert r.status_code == 405
    assert "WWW-Authenticate" not in r.headers


# ---- ids ---------------------------------------------------------------

@pytest.mark.parametrize("segment", [
    "abc", "-1", "+1", "1.5", "1e3", "0x10", " 1", "1 ", "%201", "%2B1",
    "\u0661", "\uff11", "１", "1a", "a1", "",
    "9223372036854775808", "18446744073709551616",
    "99999999999999999999999999999999999999",
])
def test_ids_that_are_not_non_negative_integers_are_404(server, keys,
                                                        segment):
    assert_json_error(server.get("/api/thoughts/%s/" % segment), 404)
    r = server.delete("/admin/thoughts/%s/" % segment,
                      headers=keys.header("root", admin=True))
    assert_json_error(r, 404)


def raw_exchange(server, data):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


@pytest.mark.parametrize("target", [
    "http://example.test/api/thoughts/%d/",
    "HTTP://example.test:8000/api/thoughts/%d/?x=1",
])
def test_absolute_form_request_target_is_served(server, keys, user, target):
    # RFC 9112 section 3.2.2: servers accept the absolute form proxies use.
    row = server.post("/api/me/thoughts/", json={"text": "absolute"},
                      headers=keys.header(user)).json()
    out = raw_exchange(server, ("GET %s HTTP/1.1\r\nHost: example.test\r\n"
                                "Connection: close\r\n\r\n"
                                % (target % row["id"])).encode())
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), out[:200]
    assert json.loads(body) == row


def test_absolute_form_without_a_slash_redirects(server):
    out = raw_exchange(server, b"GET http://example.test/api/thoughts "
                       b"HTTP/1.1\r\nHost: example.test\r\n"
                       b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 308")
    assert b"\r\nLocation: /api/thoughts/\r\n" in out


@pytest.mark.parametrize("suffix", ["%00junk/", "%00/", "%00"])
def test_encoded_nul_in_a_path_never_cuts_it_short(server, keys, user,
                                                   suffix):
    # The library decodes the path into a C string: "%00" must not turn
    # "/admin/thoughts/5/%00junk/" into "/admin/thoughts/5/".
    r = server.post("/api/me/thoughts/", json={"text": "kept whole"},
                    headers=keys.header(user))
    row = r.json()
    path = "/admin/thoughts/%d/%s" % (row["id"], suffix)
    r = server.delete(path, headers=keys.header("root", admin=True))
    assert_json_error(r, 400)
    assert "NUL" in r.json()["message"]
    assert server.get("/api/thoughts/%d/" % row["id"]).json() == row
    assert_json_error(server.get("/%00/"), 400)
    assert server.get("/api/thoughts/", params={"search": "%00"}).status_code \
        == 200


@pytest.mark.parametrize("segment", ["0", "2147483648", "9223372036854775807",
                                     "000000000000000000000000000001234567"])
def test_large_but_valid_ids_are_clean_404s(server, segment):
    # Larger than PostgreSQL's integer column, or padded: still never 500.
    assert_json_error(server.get("/api/thoughts/%s/" % segment), 404)


def test_id_with_leading_zeros_finds_the_thought(server, keys, user):
    row = server.post("/api/me/thoughts/", json={"text": "padded"},
                      headers=keys.header(user)).json()
    r = server.get("/api/thoughts/000%d/" % row["id"])
    assert r.status_code == 200
    assert r.json() == row


# ---- body limit --------------------------------------------------------

@pytest.fixture
def small_limit(start_server):
    return start_server({"MAX_BODY_BYTES": "1024"})


def body_of(size):
    text = '{"text": "x"}'
    return (text + " " * (size - len(text))).encode()


def test_body_at_the_limit_is_accepted(small_limit, keys, user):
    r = small_limit.post("/api/me/thoughts/", data=body_of(1024),
                         headers={**keys.header(user),
                                  "Content-Type": "application/json"})
    assert r.status_code == 201, r.text


def test_body_over_the_limit_is_413(small_limit, keys, user):
    headers = {**keys.header(user), "Content-Type": "application/json"}
    r = small_limit.post("/api/me/thoughts/", data=body_of(1025),
                         headers=headers)
    body = assert_json_error(r, 413)
    assert "1024" in body["message"]
    assert small_limit.get("/api/me/thoughts/",
                           headers=keys.header(user)).json() == []


def test_chunked_body_over_the_limit_is_413(small_limit, keys, user):
    headers = {**keys.header(user), "Content-Type": "application/json"}

    def chunks():
        yield b'{"text": "x"'
        for _ in range(3):
            yield b" " * 600
        yield b"}"

    r = small_limit.post("/api/me/thoughts/", data=chunks(), headers=headers)
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert_json_error(r, 413)


def test_body_limit_applies_without_a_token_and_on_any_route(small_limit):
    assert_json_error(small_limit.post("/api/me/thoughts/",
                                       data=body_of(5000)), 413)
    assert_json_error(small_limit.request("GET", "/api/thoughts/",
                                          data=body_of(5000)), 413)


def test_server_keeps_serving_after_413(small_limit):
    small_limit.post("/api/me/thoughts/", data=body_of(3000))
    assert small_limit.get("/livez").status_code == 200


def test_default_limit_is_one_mebibyte(server, keys, user):
    headers = {**keys.header(user), "Content-Type": "application/json"}
    ok = server.post("/api/me/thoughts/", data=body_of(1024 * 1024),
                     headers=headers)
    assert ok.status_code == 201, ok.text
    over = server.post("/api/me/thoughts/", data=body_of(1024 * 1024 + 1),
                       headers=headers)
    assert_json_error(over, 413)


# ---- HEAD and error bodies ---------------------------------------------

@pytest.mark.parametrize("path", ["/api/thoughts/", "/", "/swagger.json",
                                  "/livez", "/readyz", "/metrics"])
def test_head_is_get_without_the_body(server, path):
    get = server.get(path)
    head = server.request("HEAD", path)
    assert get.status_code == head.status_code == 200
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.content == b""


def test_head_one_thought(server, keys, user):
    row = server.post("/api/me/thoughts/", json={"text": "head me"},
                      headers=keys.header(user)).json()
    get = server.get("/api/thoughts/%d/" % row["id"])
    head = server.request("HEAD", "/api/thoughts/%d/" % row["id"])
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]


def test_head_on_me_needs_a_token(server, keys, user):
    r = server.request("HEAD", "/api/me/thoughts/")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    r = server.request("HEAD", "/api/me/thoughts/",
                       headers=keys.header(user))
    assert r.status_code == 200


def test_head_does_not_create(server, keys, user):
    server.request("HEAD", "/api/me/thoughts/?text=no",
                   headers=keys.header(user))
    assert server.get("/api/me/thoughts/", headers=keys.header(user)).json() \
        == []


def raw_request(server, data):
    with socket.create_connection(("127.0.0.1", server.port),
                                  timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_every_error_is_json_with_a_message(server, keys, user):
    responses = [
        server.get("/nothing"),                              # 404
        server.get("/api/thoughts/987654321/"),              # 404
        server.get("/api/thoughts"),                         # 308
        server.request("PUT", "/api/thoughts/"),             # 405
        server.get("/api/me/thoughts/"),                     # 401
        server.delete("/admin/thoughts/1/",
                      headers=keys.header(user)),            # 403
        server.post("/api/me/thoughts/", json={"text": ""},
                    headers=keys.header(user)),              # 400
        server.get("/api/thoughts/?search=%FF"),             # 400
    ]
    for r in responses:
        assert r.status_code >= 300
        assert_json_error(r, r.status_code)


def test_request_line_with_raw_query_characters(server):
    reply = raw_request(server, b"GET /api/thoughts/?search=%ZZ HTTP/1.1\r\n"
                                b"Host: x\r\nConnection: close\r\n\r\n")
    status = int(reply.split(b" ", 2)[1])
    assert status in (200, 400)
    assert b"application/json" in reply
