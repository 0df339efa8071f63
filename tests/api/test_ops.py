"""Operations (issue 7): health probes, Prometheus metrics, request ids
and JSON logs."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import BIN, assert_json_error, wait_in_flight, wait_refused

ROUTE_TEMPLATES = {
    "/", "/swagger.json", "/openapi.json", "/swaggerui/swagger-ui-bundle.js",
    "/swaggerui/swagger-ui.css", "/swaggerui/favicon-32x32.png",
    "/api/thoughts/", "/api/thoughts/{id}/", "/api/me/thoughts/",
    "/admin/thoughts/{id}/", "/livez", "/healthz", "/readyz", "/metrics",
    "unmatched",
}
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
METHOD_LABELS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                 "other"}


def is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


# Every label the service may use, and the values it may take: none of
# them can carry a raw path, an id or a user name.
LABEL_RULES = {
    "route": lambda v: v in ROUTE_TEMPLATES,
    "method": lambda v: v in METHOD_LABELS,
    "status": lambda v: re.fullmatch(r"[1-5]\d\d|other", v) is not None,
    "le": is_float,
    "version": lambda v: re.fullmatch(r"\d+\.\d+\.\d+", v) is not None,
    "engine": lambda v: v in ("SQLITE", "POSTGRESQL"),
}


def metrics(srv):
    r = srv.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    return list(text_string_to_metric_families(r.text))


def samples(srv, name):
    """{frozenset(labels): value} for every sample called `name`."""
    out = {}
    for family in metrics(srv):
        for s in family.samples:
            if s.name == name:
                out[frozenset(s.labels.items())] = s.value
    return out


def requests_total(srv, route, method, status):
    key = frozenset({"route": route, "method": method,
                     "status": str(status)}.items())
    return samples(srv, "thoughts_http_requests_total").get(key, 0)


def label_sets(srv):
    return {(s.name, frozenset(s.labels.items()))
            for family in metrics(srv) for s in family.samples}


def wait_for_log(srv, predicate, stream="stdout", timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        text = srv.stdout() if stream == "stdout" else srv.stderr()
        lines = [line for line in text.splitlines() if predicate(line)]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


# ---- probes ------------------------------------------------------------

@pytest.mark.parametrize("path", ["/livez", "/healthz", "/readyz"])
def test_probes_answer_200_json(server, path):
    r = server.get(path)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["status"] in ("ok", "ready")


def test_probes_need_no_token_even_with_admin_auth(server):
    for path in ("/livez", "/healthz", "/readyz", "/metrics"):
        assert server.get(path).status_code == 200


# ---- metrics -----------------------------------------------------------

def test_metrics_parse_and_have_the_expected_families(server):
    server.get("/api/thoughts/")
    families = {f.name: f for f in metrics(server)}
    assert families["thoughts_http_requests"].type == "counter"
    assert families["thoughts_http_request_duration_seconds"].type == \
        "histogram"
    assert families["thoughts_http_requests_in_flight"].type == "gauge"
    assert families["thoughts_db_errors"].type == "counter"
    assert families["thoughts_db_reconnects"].type == "counter"
    info = families["thoughts_build_info"].samples[0]
    assert info.labels["engine"] in ("SQLITE", "POSTGRESQL")
    assert re.match(r"^\d+\.\d+\.\d+$", info.labels["version"])


def test_counters_move_with_traffic(start_server, keys, user):
    srv = start_server()
    before_list = requests_total(srv, "/api/thoughts/", "GET", 200)
    before_missing = requests_total(srv, "/api/thoughts/{id}/", "GET", 404)
    before_post = requests_total(srv, "/api/me/thoughts/", "POST", 201)
    before_401 = requests_total(srv, "/api/me/thoughts/", "GET", 401)
    before_unmatched = requests_total(srv, "unmatched", "GET", 404)
    for _ in range(5):
        srv.get("/api/thoughts/")
    for i in range(3):
        srv.get("/api/thoughts/%d/" % (900000 + i))
    srv.post("/api/me/thoughts/", json={"text": "counted"},
             headers=keys.header(user))
    srv.get("/api/me/thoughts/")
    srv.get("/no/such/path")
    srv.request("BREW", "/api/thoughts/")
    assert requests_total(srv, "/api/thoughts/", "GET", 200) == \
        before_list + 5
    assert requests_total(srv, "/api/thoughts/{id}/", "GET", 404) == \
        before_missing + 3
    assert requests_total(srv, "/api/me/thoughts/", "POST", 201) == \
        before_post + 1
    assert requests_total(srv, "/api/me/thoughts/", "GET", 401) == \
        before_401 + 1
    assert requests_total(srv, "unmatched", "GET", 404) == \
        before_unmatched + 1
    assert requests_total(srv, "/api/thoughts/", "other", 405) == 1

    counts = samples(srv, "thoughts_http_request_duration_seconds_count")
    key = frozenset({"route": "/api/thoughts/"}.items())
    assert counts[key] >= 5
    buckets = samples(srv, "thoughts_http_request_duration_seconds_bucket")
    inf = frozenset({"route": "/api/thoughts/", "le": "+Inf"}.items())
    assert buckets[inf] == counts[key]


def test_histogram_buckets_are_cumulative(server):
    server.get("/api/thoughts/")
    by_route = {}
    for labels, value in samples(
            server, "thoughts_http_request_duration_seconds_bucket").items():
        labels = dict(labels)
        le = float(labels["le"])
        by_route.setdefault(labels["route"], []).append((le, value))
    assert by_route
    for series in by_route.values():
        values = [v for _, v in sorted(series)]
        assert values == sorted(values)


def test_label_cardinality_stays_bounded(start_server, keys):
    srv = start_server()
    names = ["card-user-%d" % i for i in range(5)]
    for name in names:
        srv.post("/api/me/thoughts/", json={"text": "x"},
                 headers=keys.header(name))
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=15)

    def get(path):
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status

    metrics(srv)  # the scrape's own series exist from here on
    for n in range(100):
        get("/api/thoughts/%d/" % n)
        get("/unknown/%d" % n)
        get("/api/thoughts/%d" % n)  # 308
    small = label_sets(srv)
    for n in range(100, 10000):
        get("/api/thoughts/%d/" % n)
    for n in range(100, 300):
        get("/unknown/%d" % n)
        get("/api/thoughts/%d" % n)
    conn.close()
    large = label_sets(srv)
    assert large == small  # not one new series for 9,900 new ids
    series = {name for name, _ in large}
    assert "thoughts_http_requests_total" in series

    for _, labels in large:
        for key, value in labels:
            assert key in LABEL_RULES, key
            assert LABEL_RULES[key](value), (key, value)
            assert not value.startswith("card-user"), value


# ---- request ids -------------------------------------------------------

def access_line_with(srv, request_id):
    return wait_for_log(srv, lambda line: request_id in line)


def test_request_id_sent_in_is_returned_and_logged(server):
    rid = "client-chosen.id_42:abc"
    r = server.get("/api/thoughts/", headers={"X-Request-ID": rid})
    assert r.headers["X-Request-ID"] == rid
    lines = access_line_with(server, rid)
    assert len(lines) == 1
    assert '"GET /api/thoughts/" 200' in lines[0]


def test_request_id_on_errors_too(server):
    r = server.get("/api/me/thoughts/", headers={"X-Request-ID": "err-1-x"})
    assert r.status_code == 401
    assert r.headers["X-Request-ID"] == "err-1-x"
    r = server.get("/nothing", headers={"X-Request-ID": "err-2-x"})
    assert r.headers["X-Request-ID"] == "err-2-x"


def test_request_id_is_made_when_none_is_sent(server):
    ids = {server.get("/livez").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5
    for rid in ids:
        assert GENERATED_ID.match(rid), rid
        assert access_line_with(server, rid)


@pytest.mark.parametrize("hostile", [
    "x" * 129, "x" * 5000, "has space", "semi;colon", "quote\"d",
    "new\\nline", "\u00e9t\u00e9", "<script>", "a/b", "",
])
def test_hostile_request_id_is_replaced(server, hostile):
    r = server.get("/livez", headers={"X-Request-ID": hostile.encode()})
    assert r.status_code == 200
    rid = r.headers["X-Request-ID"]
    assert rid != hostile
    assert GENERATED_ID.match(rid)


@pytest.mark.parametrize("raw", [b"abc\x01def", b"abc\x1b[31mred",
                                 b"abc\x7fdel", b"tab\there"])
def test_request_id_with_control_characters_is_replaced(server, raw):
    with socket.create_connection(("127.0.0.1", server.port),
                                  timeout=10) as s:
        s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Request-ID: " + raw +
                  b"\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    head = reply.split(b"\r\n\r\n", 1)[0]
    match = re.search(rb"\r\nX-Request-ID: ([^\r\n]*)", head)
    assert match, head
    assert GENERATED_ID.match(match.group(1).decode())
    assert raw not in server.stdout().encode()


def test_request_id_of_128_characters_is_kept(server):
    rid = "A1-" + "z" * 125
    assert server.get("/livez", headers={"X-Request-ID": rid}
                      ).headers["X-Request-ID"] == rid


def test_debug_lines_carry_the_request_id(server):
    rid = "debug-line-id-7"
    server.get("/api/me/thoughts/", headers={"X-Request-ID": rid,
                                             "Authorization": "Bearer x.y.z"})
    lines = wait_for_log(server, lambda line: rid in line, "stderr")
    assert any("401 for GET /api/me/thoughts/" in line for line in lines)


# ---- JSON logs ---------------------------------------------------------

def json_lines(text, only_objects=False):
    lines = [line for line in text.splitlines() if line.strip()]
    if only_objects:
        lines = [line for line in lines if line.startswith("{")]
    return [json.loads(line) for line in lines]


def test_json_logs(start_server, keys, user):
    srv = start_server({"LOG_FORMAT": "json"})
    token = keys.token(user)
    srv.post("/api/me/thoughts/", json={"text": "json logged"},
             headers={"Authorization": "Bearer " + token,
                      "X-Request-ID": "json-req-1"})
    srv.get("/api/thoughts/999999/", headers={"X-Request-ID": "json-req-2"})
    bad = keys.token(user, lifetime=-5)
    srv.get("/api/me/thoughts/", headers={"Authorization": "Bearer " + bad,
                                          "X-Request-ID": "json-req-3"})
    for rid in ("json-req-1", "json-req-2", "json-req-3"):
        assert wait_for_log(srv, lambda line, rid=rid: rid in line)

    access = json_lines(srv.stdout())
    assert access
    for entry in access:
        for key in ("time", "level", "message", "request_id", "method",
                    "route", "path", "status", "duration_ms", "bytes"):
            assert key in entry, (key, entry)
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                        entry["time"])
        assert isinstance(entry["status"], int)
        assert isinstance(entry["duration_ms"], (int, float))
    by_id = {e["request_id"]: e for e in access}
    post = by_id["json-req-1"]
    assert (post["method"], post["route"], post["path"], post["status"]) == \
        ("POST", "/api/me/thoughts/", "/api/me/thoughts/", 201)
    missing = by_id["json-req-2"]
    assert missing["route"] == "/api/thoughts/{id}/"
    assert missing["path"] == "/api/thoughts/999999/"
    assert missing["status"] == 404
    assert by_id["json-req-3"]["status"] == 401

    messages = json_lines(srv.stderr(), only_objects=True)
    assert messages
    for entry in messages:
        assert {"time", "level", "message"} <= set(entry)
        assert entry["level"] in ("error", "warning", "info", "debug")
    refused = [m for m in messages if m.get("request_id") == "json-req-3"]
    assert refused and "expired" in refused[0]["message"]

    everything = srv.stdout() + srv.stderr()
    for t in (token, bad):
        assert t not in everything
        assert t.split(".")[2] not in everything


def test_json_access_log_escapes_hostile_paths(start_server):
    srv = start_server({"LOG_FORMAT": "json"})
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"GET /x%22%0a%ff%1b HTTP/1.1\r\nHost: x\r\n"
                  b"X-Request-ID: hostile-path\r\nConnection: close\r\n\r\n")
        while s.recv(65536):
            pass
    assert wait_for_log(srv, lambda line: "hostile-path" in line)
    entries = [e for e in json_lines(srv.stdout())
               if e["request_id"] == "hostile-path"]
    assert len(entries) == 1
    assert entries[0]["status"] == 404
    assert entries[0]["route"] == "unmatched"


def test_every_log_line_is_json(start_server, keys, user):
    srv = start_server({"LOG_FORMAT": "json"})
    srv.post("/api/me/thoughts/", json={"text": "json"},
             headers=keys.header(user))
    srv.get("/api/me/thoughts/", headers={"Authorization": "Bearer x"})
    assert srv.stop() == 0
    for line in (srv.stdout() + srv.stderr()).splitlines():
        assert isinstance(json.loads(line), dict), line


@pytest.mark.parametrize("args,env", [
    (["serve"], {"PORT": "abc"}),
    (["--env-file", "/nonexistent/settings.env", "serve"], {}),
])
def test_json_logs_from_the_first_line(tmp_path, args, env):
    # A configuration error is the one line a collector most needs.
    full = {k: v for k, v in os.environ.items() if k != "PORT"}
    full.update(env, LOG_FORMAT="json", DATA_DIR=str(tmp_path))
    r = subprocess.run([BIN, *args], env=full, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 3
    lines = json_lines(r.stderr)
    assert len(lines) == 1
    assert lines[0]["level"] == "error"
    assert ("PORT" if "PORT" in env else "settings.env") in \
        lines[0]["message"]


def test_json_log_messages_without_a_request(start_server):
    srv = start_server({"LOG_FORMAT": "json"})
    messages = json_lines(srv.stderr(), only_objects=True)
    summary = [m for m in messages if m["message"].startswith("setting ")]
    assert summary
    assert all("request_id" not in m for m in summary)


def read_to_close(conn):
    reply = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return reply
        reply += chunk


def test_readyz_is_503_while_shutting_down(start_server):
    # While a stop is pending, readiness says no so that balancers drain.
    srv = start_server()
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    slow.sendall(b"POST /api/me/thoughts/ HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Length: 2\r\nConnection: close\r\n\r\n{")
    keep = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    keep.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
    assert keep.recv(65536).startswith(b"HTTP/1.1 200")
    wait_in_flight(srv, 1)
    srv.proc.send_signal(signal.SIGTERM)
    wait_refused(srv)  # the stop has begun
    keep.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n"
                 b"Connection: close\r\n\r\n")
    reply = read_to_close(keep)
    keep.close()
    assert reply.startswith(b"HTTP/1.1 503"), reply
    assert b"\r\nRetry-After: " in reply
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["message"]
    slow.sendall(b"}")  # let the request in flight finish
    assert read_to_close(slow).startswith(b"HTTP/1.1 401")
    slow.close()
    assert srv.proc.wait(timeout=20) == 0


def test_metrics_is_not_json_but_errors_still_are(server):
    assert_json_error(server.request("POST", "/metrics"), 405)


# ---- log lines cannot be forged ----------------------------------------

FORGED = b"2026-01-01T00:00:00.000Z error   FORGED"


def abandon_request(srv, path):
    """Sends a request line and half a body, then hangs up: the server
    logs that the request ended early, naming its path."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 100\r\n\r\nabc")
        wait_in_flight(srv, 1)


def test_messages_naming_a_hostile_path_stay_one_line(server):
    marker = b"/forge-" + str(time.monotonic_ns()).encode()
    abandon_request(server, marker + b"%0a" + FORGED.replace(b" ", b"%20")
                    + b"%ff%c2%85")
    lines = wait_for_log(server, lambda line: marker.decode() in line,
                         "stderr")
    assert len(lines) == 1, lines
    assert "ended early" in lines[0]
    assert "\\x0a" in lines[0] and "\\xff" in lines[0]
    assert not any(line.startswith(FORGED.decode())
                   for line in server.stderr().splitlines())


def test_json_lines_survive_bytes_that_are_not_utf8(start_server):
    srv = start_server({"LOG_FORMAT": "json"})
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"G\xffT /livez HTTP/1.1\r\nHost: x\r\n"
                  b"X-Request-ID: bad-method\r\nConnection: close\r\n\r\n")
        while s.recv(65536):
            pass
    abandon_request(srv, b"/caf%c3%a9/%ff%0a")
    assert srv.stop() == 0
    access = {e["request_id"]: e for e in json_lines(srv.stdout())}
    assert access["bad-method"]["method"] == "G\\xffT"
    assert access["bad-method"]["status"] == 405
    messages = json_lines(srv.stderr(), only_objects=True)
    early = [m for m in messages if "ended early" in m["message"]]
    assert len(early) == 1
    assert "/café/\\xff\\x0a" in early[0]["message"]
