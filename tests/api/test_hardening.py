"""Hostile and careless clients: limits, framing, slow senders, floods.

Most tests talk raw HTTP over a socket, because the point is what the
server does with requests that a well-behaved client library would never
send.  Clients that must count as different addresses bind to other
loopback addresses (127.0.0.0/8 all reaches the server on 127.0.0.1).
Time bounds are generous: they tell "answers" from "hangs", nothing
finer.
"""
import json
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import BIN, assert_json_error

# How long a test waits for something that should happen "at once".
PROMPT = 5.0


def connect(server, source=None, timeout=PROMPT):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if source is not None:
        sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.port))
    return sock


def read_all(sock, timeout=PROMPT):
    """Everything the server sends until it closes (or `timeout` passes)."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    closed = False
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        data += chunk
    return data, closed


def parse_responses(data):
    """Splits a byte stream into (status, headers, body) responses."""
    responses = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, "incomplete response head: %r" % data[:200]
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if status == 100:
            responses.append((status, headers, b""))
            data = rest
            continue
        length = int(headers.get("content-length", "0"))
        responses.append((status, headers, rest[:length]))
        data = rest[length:]
    return responses


def exchange(server, raw, source=None, timeout=PROMPT):
    """Sends raw bytes; returns the parsed responses and whether it closed."""
    sock = connect(server, source, timeout)
    try:
        sock.sendall(raw)
        data, closed = read_all(sock, timeout)
    finally:
        sock.close()
    return parse_responses(data), closed


def assert_raw_json_error(response, status):
    code, headers, body = response
    assert code == status, (code, body)
    assert headers["content-type"].startswith("application/json")
    message = json.loads(body)["message"]
    assert isinstance(message, str) and message
    return message


def post_head(keys, user, extra=""):
    return ("POST /api/me/thoughts/ HTTP/1.1\r\nHost: t\r\n"
            "Authorization: Bearer %s\r\n%s" % (keys.token(user), extra))


SMUGGLED = b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n"


# ---- header size ------------------------------------------------------


def test_oversized_headers_are_431_json(server):
    r = server.get("/api/thoughts/", headers={"X-Filler": "a" * 20000})
    assert_json_error(r, 431)


def test_many_headers_adding_up_past_the_limit_are_431(server):
    headers = {"X-Filler-%d" % i: "b" * 100 for i in range(200)}
    assert_json_error(server.get("/api/thoughts/", headers=headers), 431)


def test_oversized_url_is_431_json(server):
    r = server.get("/api/thoughts/?search=" + "c" * 20000)
    assert_json_error(r, 431)


def test_headers_under_the_limit_are_served(server):
    r = server.get("/livez", headers={"X-Filler": "d" * 10000})
    assert r.status_code == 200


def test_header_limit_is_configurable(start_server):
    srv = start_server({"MAX_HEADER_BYTES": "2048"})
    assert srv.get("/livez", headers={"X-Filler": "e" * 1000}).status_code \
        == 200
    r = srv.get("/livez", headers={"X-Filler": "e" * 3000})
    body = assert_json_error(r, 431)
    assert "2048" in body["message"]


# ---- body size --------------------------------------------------------


@pytest.fixture
def small_body_server(start_server):
    return start_server({"MAX_BODY_BYTES": "2048"})


def test_declared_body_over_limit_is_413(small_body_server, keys, user):
    r = small_body_server.post("/api/me/thoughts/", headers=keys.header(user),
                               json={"text": "f" * 5000})
    body = assert_json_error(r, 413)
    assert "2048" in body["message"]


def test_chunked_body_over_limit_is_413(small_body_server, keys, user):
    piece = b"g" * 1000
    raw = (post_head(keys, user, "Content-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n").encode())
    raw += b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(4))
    raw += b"0\r\n\r\n"
    responses, _ = exchange(small_body_server, raw)
    assert len(responses) == 1
    assert_raw_json_error(responses[0], 413)


def test_chunked_body_far_over_limit_is_cut_off(small_body_server, keys,
                                                user):
    # Far past the limit the server stops reading and hangs up.
    sock = connect(small_body_server)
    sock.sendall(post_head(keys, user, "Transfer-Encoding: chunked\r\n\r\n")
                 .encode())
    piece = b"h" * 4096
    try:
        for _ in range(64):
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = read_all(sock)
    sock.close()
    assert closed
    for response in parse_responses(data):
        assert_raw_json_error(response, 413)
    assert small_body_server.get("/livez").status_code == 200


def test_expect_continue_over_limit_is_413_without_continue(
        small_body_server, keys, user):
    raw = post_head(keys, user, "Content-Type: application/json\r\n"
                    "Content-Length: 999999\r\n"
                    "Expect: 100-continue\r\n\r\n").encode()
    responses, closed = exchange(small_body_server, raw)
    assert len(responses) == 1
    assert_raw_json_error(responses[0], 413)
    assert closed


def test_expect_continue_within_limit_is_served(server, keys, user):
    body = json.dumps({"text": "after continue"}).encode()
    sock = connect(server)
    sock.sendall(post_head(keys, user, "Content-Type: application/json\r\n"
                           "Content-Length: %d\r\nExpect: 100-continue\r\n"
                           "Connection: close\r\n\r\n" % len(body)).encode())
    first = sock.recv(1024)
    assert first.startswith(b"HTTP/1.1 100")
    sock.sendall(body)
    data, _ = read_all(sock)
    sock.close()
    responses = parse_responses(first + data)
    assert [r[0] for r in responses] == [100, 201]
    assert json.loads(responses[1][2])["text"] == "after continue"


def test_body_over_limit_with_a_request_inside_is_not_run(small_body_server,
                                                          keys, user):
    raw = post_head(keys, user, "Content-Length: 100000\r\n\r\n").encode()
    raw += SMUGGLED * 10
    responses, closed = exchange(small_body_server, raw)
    assert len(responses) == 1
    assert_raw_json_error(responses[0], 413)
    assert closed


# ---- framing ------------------------------------------------------------


@pytest.mark.parametrize("framing", [
    "Content-Length: 5\r\nContent-Length: 40\r\n",
    "Content-Length: 40\r\nContent-Length: 5\r\n",
    "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Transfer-Encoding: chunked, chunked\r\n",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
    "Transfer-Encoding : chunked\r\nContent-Length: 5\r\n",
    "Content-Length : 5\r\n",
], ids=["cl-cl", "cl-cl-reversed", "te-cl", "cl-te", "gzip", "gzip-chunked",
        "chunked-twice", "two-te-headers", "space-before-colon",
        "space-in-cl-name"])
def test_ambiguous_framing_is_400_and_closed(server, keys, user, framing):
    raw = post_head(keys, user, framing + "\r\n").encode()
    raw += b"0\r\n\r\n" + SMUGGLED
    responses, closed = exchange(server, raw)
    assert len(responses) == 1, responses
    assert_raw_json_error(responses[0], 400)
    assert closed


def test_repeated_equal_content_length_is_accepted(server, keys, user):
    body = b"text=twice"
    raw = post_head(keys, user, "Content-Type: application/x-www-form-"
                    "urlencoded\r\nContent-Length: %d\r\nContent-Length: %d"
                    "\r\nConnection: close\r\n\r\n" % (len(body), len(body)))
    responses, _ = exchange(server, raw.encode() + body)
    assert [r[0] for r in responses] == [201]


@pytest.mark.parametrize("length", ["-1", "1x", "5, 5", "99999999999999999999"])
def test_malformed_content_length_is_refused(server, keys, user, length):
    # libmicrohttpd answers these itself (see docs/KNOWN_ISSUES.md); what
    # matters is a 4xx, a closed connection and nothing run after it.
    raw = post_head(keys, user, "Content-Length: %s\r\n\r\n" % length)
    sock = connect(server)
    sock.sendall(raw.encode() + b"hello" + SMUGGLED)
    data, closed = read_all(sock)
    sock.close()
    assert data.startswith(b"HTTP/1.1 4")
    assert b'"status": "ok"' not in data
    assert closed


def test_a_request_inside_a_body_is_only_text(server, keys, user):
    text = SMUGGLED.decode() * 3
    body = json.dumps({"text": text}).encode()
    raw = post_head(keys, user, "Content-Type: application/json\r\n"
                    "Content-Length: %d\r\n\r\n" % len(body)).encode()
    sock = connect(server)
    sock.sendall(raw + body)
    data, _ = read_all(sock, timeout=1.5)
    sock.close()
    responses = parse_responses(data)
    assert [r[0] for r in responses] == [201]
    assert json.loads(responses[0][2])["text"] == text


def test_body_in_many_small_pieces_is_assembled(server, keys, user):
    text = "piece by piece " * 10
    body = json.dumps({"text": text}).encode()
    sock = connect(server)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(post_head(keys, user, "Content-Type: application/json\r\n"
                           "Content-Length: %d\r\nConnection: close\r\n\r\n"
                           % len(body)).encode())
    for i in range(len(body)):
        sock.sendall(body[i:i + 1])
        if i % 16 == 0:
            time.sleep(0.005)
    data, _ = read_all(sock)
    sock.close()
    responses = parse_responses(data)
    assert [r[0] for r in responses] == [201]
    assert json.loads(responses[0][2])["text"] == text


def test_chunked_body_in_one_byte_chunks_is_assembled(server, keys, user):
    text = "chunk by chunk"
    body = json.dumps({"text": text}).encode()
    sock = connect(server)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(post_head(keys, user, "Content-Type: application/json\r\n"
                           "Transfer-Encoding: chunked\r\n"
                           "Connection: close\r\n\r\n").encode())
    for i in range(len(body)):
        sock.sendall(b"1\r\n" + body[i:i + 1] + b"\r\n")
        time.sleep(0.002)
    sock.sendall(b"0\r\n\r\n")
    data, _ = read_all(sock)
    sock.close()
    responses = parse_responses(data)
    assert [r[0] for r in responses] == [201]
    assert json.loads(responses[0][2])["text"] == text


def test_pipelined_requests_are_answered_in_order(server):
    raw = (b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n"
           b"GET /api/thoughts/0/ HTTP/1.1\r\nHost: t\r\n\r\n"
           b"GET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    responses, closed = exchange(server, raw)
    assert [r[0] for r in responses] == [200, 404, 200]
    assert closed


@pytest.mark.parametrize("path", ["/api/thoughts/", "/api/thoughts/?search=x",
                                  "/api/me/thoughts/"])
def test_head_of_a_streamed_listing_sends_no_body(server, keys, path):
    # A chunked terminator after a HEAD answer would be read as the start
    # of the next response.
    raw = ("HEAD %s HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s\r\n\r\n"
           "GET /livez HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
           % (path, keys.token("head-reader"))).encode()
    responses, closed = exchange(server, raw)
    assert [r[0] for r in responses] == [200, 200]
    assert "transfer-encoding" not in responses[0][1]
    assert responses[0][2] == b""
    assert json.loads(responses[1][2]) is not None
    assert closed


def test_refused_chunked_body_closes_the_connection(small_body_server, keys,
                                                    user):
    # The 413 comes once the body is in; nothing pipelined after it runs.
    piece = b"g" * 1000
    raw = (post_head(keys, user, "Content-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n").encode())
    raw += b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(4))
    raw += b"0\r\n\r\n" + SMUGGLED
    responses, closed = exchange(small_body_server, raw)
    assert len(responses) == 1
    assert_raw_json_error(responses[0], 413)
    assert responses[0][1].get("connection") == "close"
    assert closed


# ---- JSON bodies ----------------------------------------------------------


@pytest.mark.parametrize("body", [
    "[" * 100000,
    '{"text": ' + "[" * 100000,
    '{"text": ' + '{"a": ' * 50000 + "1" + "}" * 50000 + "}",
], ids=["arrays", "inside-object", "objects"])
def test_deeply_nested_json_is_refused(server, keys, user, body):
    started = time.monotonic()
    r = server.post("/api/me/thoughts/", headers={
        **keys.header(user), "Content-Type": "application/json"}, data=body)
    assert_json_error(r, 400)
    assert time.monotonic() - started < PROMPT
    assert server.get("/livez").status_code == 200


def test_nul_escape_is_refused_not_truncated(server, keys, user):
    r = server.post("/api/me/thoughts/", headers={
        **keys.header(user), "Content-Type": "application/json"},
        data='{"text": "before\\u0000after"}')
    body = assert_json_error(r, 400)
    assert "text" in body["errors"]
    mine = server.get("/api/me/thoughts/", headers=keys.header(user)).json()
    assert mine == []


@pytest.mark.parametrize("how", ["form", "multipart", "query"])
def test_nul_in_form_or_query_is_refused_not_truncated(server, keys, user,
                                                       how):
    path = "/api/me/thoughts/"
    kwargs = {}
    if how == "form":
        kwargs["data"] = "text=before%00after"
        kwargs["headers"] = {"Content-Type":
                             "application/x-www-form-urlencoded"}
    elif how == "multipart":
        kwargs["files"] = {"text": (None, b"before\x00after")}
    else:
        path += "?text=before%00after"
    headers = {**keys.header(user), **kwargs.pop("headers", {})}
    r = server.post(path, headers=headers, **kwargs)
    body = assert_json_error(r, 400)
    assert "text" in body["errors"]
    mine = server.get("/api/me/thoughts/", headers=keys.header(user)).json()
    assert mine == []


@pytest.mark.parametrize("number", [
    "123456789012345678901234567890", "-98765432109876543210987654321",
    "1e999", "-1e999",
])
def test_overflowing_numbers_are_errors(server, keys, user, number):
    r = server.post("/api/me/thoughts/", headers={
        **keys.header(user), "Content-Type": "application/json"},
        data='{"text": "fine", "n": %s}' % number)
    assert_json_error(r, 400)


# ---- slow clients -------------------------------------------------------


def trickle(sockets, stop, interval=0.5):
    """Sends one more header line on every socket until stopped."""
    n = 0
    while not stop.is_set():
        for sock in sockets:
            try:
                sock.send(b"X-Slow-%d: 1\r\n" % n)
            except OSError:
                pass
        n += 1
        stop.wait(interval)


def open_trickling(server, count, sources):
    sockets = []
    for i in range(count):
        sock = connect(server, sources[i % len(sources)])
        sock.sendall(b"GET /api/thoughts/ HTTP/1.1\r\nHost: t\r\n")
        sockets.append(sock)
    return sockets


def test_trickling_clients_do_not_delay_others(server, keys, user):
    sources = ["127.0.0.%d" % i for i in range(20, 24)]
    sockets = open_trickling(server, 300, sources)
    stop = threading.Event()
    feeder = threading.Thread(target=trickle, args=(sockets, stop))
    feeder.start()
    try:
        time.sleep(1)
        started = time.monotonic()
        created = server.post("/api/me/thoughts/", headers=keys.header(user),
                              json={"text": "through the crowd"}, timeout=PROMPT)
        listed = server.get("/api/me/thoughts/", headers=keys.header(user),
                            timeout=PROMPT)
        assert created.status_code == 201
        assert listed.status_code == 200 and len(listed.json()) == 1
        assert time.monotonic() - started < PROMPT
    finally:
        stop.set()
        feeder.join()
        for sock in sockets:
            sock.close()


@pytest.fixture
def impatient_server(start_server):
    return start_server({"REQUEST_TIMEOUT": "2"})


def test_slow_headers_get_408_and_close(impatient_server):
    sock = connect(impatient_server, timeout=15)
    sock.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n")
    started = time.monotonic()
    data = b""
    closed = False
    for n in range(40):
        try:
            sock.send(b"X-Slow-%d: 1\r\n" % n)
        except OSError:
            closed = True
            break
        time.sleep(0.25)
    more, closed_now = read_all(sock, timeout=10)
    sock.close()
    data += more
    assert closed or closed_now
    assert time.monotonic() - started < 12
    responses = parse_responses(data)
    assert len(responses) == 1
    assert_raw_json_error(responses[0], 408)


def test_slow_body_gets_408_and_close(impatient_server, keys, user):
    sock = connect(impatient_server, timeout=15)
    sock.sendall(post_head(keys, user, "Content-Type: application/json\r\n"
                           "Content-Length: 100\r\n\r\n{\"te").encode())
    data, closed = read_all(sock, timeout=10)
    sock.close()
    assert closed
    responses = parse_responses(data)
    assert len(responses) == 1
    assert_raw_json_error(responses[0], 408)


def test_silent_connection_is_closed(impatient_server):
    sock = connect(impatient_server, timeout=15)
    data, closed = read_all(sock, timeout=10)
    sock.close()
    assert closed and data == b""


def test_keep_alive_connection_serves_before_its_deadline(impatient_server):
    sock = connect(impatient_server)
    for _ in range(3):
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
        head = sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 200")
        time.sleep(0.5)
    sock.close()


# ---- connection limits ------------------------------------------------


def refused(sock):
    """True when the server closes a fresh connection without answering."""
    try:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n\r\n")
        data, closed = read_all(sock, timeout=PROMPT)
    except (ConnectionResetError, BrokenPipeError):
        return True
    return closed and data == b""


def test_connections_per_client_are_limited(start_server):
    srv = start_server({"MAX_CONNECTIONS_PER_CLIENT": "5"})
    held = [connect(srv, "127.0.0.30") for _ in range(5)]
    for sock in held:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n")
    time.sleep(0.3)
    extra = connect(srv, "127.0.0.30")
    assert refused(extra)
    extra.close()
    # Another address is not affected, nor is the first once it lets go.
    other = connect(srv, "127.0.0.31")
    assert not refused(other)
    other.close()
    for sock in held:
        sock.close()
    time.sleep(0.5)
    again = connect(srv, "127.0.0.30")
    assert not refused(again)
    again.close()


def test_total_connections_are_limited(start_server):
    # Past the limit the server stops accepting: a new connection waits
    # in the kernel's queue and is served once a slot frees up.
    srv = start_server({"MAX_CONNECTIONS": "8"})
    held = [connect(srv, "127.0.0.%d" % (40 + i)) for i in range(8)]
    for sock in held:
        sock.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n")
    time.sleep(0.3)
    extra = connect(srv, "127.0.0.60")
    extra.sendall(b"GET /livez HTTP/1.1\r\nHost: t\r\n"
                  b"Connection: close\r\n\r\n")
    data, closed = read_all(extra, timeout=1)
    assert data == b"" and not closed
    for sock in held:
        sock.close()
    data, closed = read_all(extra, timeout=PROMPT)
    extra.close()
    assert [r[0] for r in parse_responses(data)] == [200]


# ---- writers at once ----------------------------------------------------


def test_fifty_writers_at_once_all_get_201(server, keys, user):
    barrier = threading.Barrier(50)
    results = [None] * 50

    def write(i):
        session = requests.Session()
        header = keys.header(user)
        barrier.wait()
        r = session.post(server.url + "/api/me/thoughts/", headers=header,
                         json={"text": "writer %d" % i}, timeout=30)
        results[i] = (r.status_code, r.text)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(code == 201 for code, _ in results), results
    assert not any("locked" in text for _, text in results)
    stored = server.get("/api/me/thoughts/", headers=keys.header(user)).json()
    assert sorted(t["text"] for t in stored) == \
        sorted("writer %d" % i for i in range(50))
    ids = [json.loads(text)["id"] for _, text in results]
    assert sorted(ids) == sorted(t["id"] for t in stored)


# ---- settings -----------------------------------------------------------


def test_help_lists_every_limit():
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True,
                         timeout=10)
    text = out.stdout + out.stderr
    for name in ["MAX_BODY_BYTES", "MAX_HEADER_BYTES", "MAX_CONNECTIONS",
                 "MAX_CONNECTIONS_PER_CLIENT", "CONNECTION_TIMEOUT",
                 "REQUEST_TIMEOUT"]:
        assert name in text


@pytest.mark.parametrize("setting", [
    {"MAX_HEADER_BYTES": "10"}, {"MAX_CONNECTIONS_PER_CLIENT": "-1"},
    {"REQUEST_TIMEOUT": "0"},
])
def test_bad_limits_stop_start_up(tmp_path, setting):
    env = {"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), **setting}
    out = subprocess.run([BIN, "serve"], env=env, capture_output=True,
                         text=True, timeout=10)
    assert out.returncode == 3
    assert next(iter(setting)) in out.stderr
