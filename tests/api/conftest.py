"""Shared fixtures of the black-box API tests.

The suite runs the built binary (THOUGHTS_BIN) as a real server on a free
loopback port and talks to it over HTTP.  THOUGHTS_TEST_ENGINE picks the
database: "sqlite" (the default; each server gets its own file) or
"postgresql" (THOUGHTS_TEST_PG_HOST and THOUGHTS_TEST_PG_PORT name a
cluster with trust authentication and a database "thoughts", as
scripts/test-api starts one).  Every test uses its own user names, so
tests never depend on each other's rows.

THOUGHTS_WRAPPER, when set, is a command line the server runs under, for
example "valgrind --error-exitcode=99 --leak-check=full"; a wrapper that
reports errors through the exit status fails the test that stops the
server.  Servers are then given longer to start.
"""
import base64
import json
import os
import pathlib
import re
import shlex
import signal
import socket
import subprocess
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("THOUGHTS_BIN", str(REPO / "build" / "thoughts-backend"))
ENGINE = os.environ.get("THOUGHTS_TEST_ENGINE", "sqlite")
WRAPPER = shlex.split(os.environ.get("THOUGHTS_WRAPPER", ""))
READY_TIMEOUT = 120.0 if WRAPPER else 15.0
STOP_TIMEOUT = 120.0 if WRAPPER else 20.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_env(data_dir):
    """The settings that point a server at the engine under test."""
    if ENGINE == "postgresql":
        return {
            "DATABASE_ENGINE": "POSTGRESQL",
            "POSTGRES_HOST": os.environ.get("THOUGHTS_TEST_PG_HOST",
                                            "127.0.0.1"),
            "POSTGRES_PORT": os.environ.get("THOUGHTS_TEST_PG_PORT", "5432"),
            "POSTGRES_DB": "thoughts",
            "POSTGRES_USER": "postgres",
        }
    return {"DATABASE_ENGINE": "SQLITE",
            "SQLITE_PATH": str(data_dir / "thoughts.db")}


class Keys:
    """An RSA key pair written as PEM files, and tokens signed with it."""

    def __init__(self, directory):
        self.private = rsa.generate_private_key(public_exponent=65537,
                                                key_size=2048)
        self.private_pem = self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        self.public_pem = self.private.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        directory.mkdir(parents=True, exist_ok=True)
        self.private_file = directory / "private.pem"
        self.public_file = directory / "public.pem"
        self.private_file.write_bytes(self.private_pem)
        self.public_file.write_bytes(self.public_pem)

    def token(self, username="alice", lifetime=3600, algorithm="RS256",
              **claims):
        payload = {"exp": int(time.time()) + lifetime}
        if username is not None:
            payload["username"] = username
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.private_pem, algorithm=algorithm)

    def header(self, username="alice", **claims):
        return {"Authorization": "Bearer " + self.token(username, **claims)}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header, payload, signature=b""):
    """A token built by hand, for algorithms no library will sign."""
    return ".".join([b64url(json.dumps(header).encode()),
                     b64url(json.dumps(payload).encode()), b64url(signature)])


class Server:
    """One running thoughts-backend process."""

    def __init__(self, data_dir, keys, env=None, args=("serve",)):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("POSTGRES_", "DATABASE_"))}
        self.env.update(engine_env(data_dir))
        self.env.update({
            "PORT": str(self.port),
            "BIND_ADDRESS": "127.0.0.1",
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "debug",
            "WORKERS": "4",
        })
        if keys is not None:
            self.env["PUBLIC_KEY_FILE"] = str(keys.public_file)
            self.env["PRIVATE_KEY_FILE"] = str(keys.private_file)
        self.env.update(env or {})
        self.stdout_path = data_dir / "stdout.log"
        self.stderr_path = data_dir / "stderr.log"
        self.proc = subprocess.Popen(
            [*WRAPPER, BIN, *args], env=self.env,
            stdout=open(self.stdout_path, "wb"),
            stderr=open(self.stderr_path, "wb"))
        try:
            self.wait_ready()
        except BaseException:
            # Not handed to a fixture yet, so nobody else would stop it.
            self.proc.kill()
            self.proc.wait()
            raise

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited with %s: %s" % (
                    self.proc.returncode, self.stderr()))
            try:
                requests.get(self.url + "/livez", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("server did not answer within %.0f s" % timeout)

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def stdout(self):
        return self.stdout_path.read_text(errors="replace")

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 15)
        kwargs.setdefault("allow_redirects", False)
        return requests.request(method, self.url + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def server(tmp_path_factory, keys):
    """The suite's main server; it must stop cleanly at the end."""
    srv = Server(tmp_path_factory.mktemp("server"), keys)
    yield srv
    assert srv.stop() == 0, srv.stderr()


@pytest.fixture
def start_server(tmp_path, keys):
    """Starts extra servers with their own settings; stops them after."""
    started = []

    def start(env=None, with_keys=True, data_dir=None, args=("serve",)):
        directory = data_dir or tmp_path / ("server%d" % len(started))
        srv = Server(directory, keys if with_keys else None, env, args)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        assert srv.stop() == 0, srv.stderr()


@pytest.fixture
def user():
    """A user name no other test uses."""
    return "user-" + uuid.uuid4().hex[:12]


@pytest.fixture
def insert_row(server):
    """Inserts a row with plain SQL, as the original's users do by hand."""

    def insert(username, text, timestamp=None):
        if ENGINE == "postgresql":
            import psycopg2
            conn = psycopg2.connect(
                host=server.env["POSTGRES_HOST"],
                port=server.env["POSTGRES_PORT"], dbname="thoughts",
                user="postgres")
            with conn, conn.cursor() as cur:
                if timestamp is None:
                    cur.execute("INSERT INTO thought_model (username, text) "
                                "VALUES (%s, %s) RETURNING id",
                                (username, text))
                else:
                    cur.execute("INSERT INTO thought_model (username, text, "
                                "timestamp) VALUES (%s, %s, %s) RETURNING id",
                                (username, text, timestamp))
                row_id = cur.fetchone()[0]
            conn.close()
            return row_id
        import sqlite3
        conn = sqlite3.connect(server.env["SQLITE_PATH"], timeout=10)
        with conn:
            if timestamp is None:
                cur = conn.execute("INSERT INTO thought_model (username, text)"
                                   " VALUES (?, ?)", (username, text))
            else:
                cur = conn.execute("INSERT INTO thought_model (username, "
                                   "text, timestamp) VALUES (?, ?, ?)",
                                   (username, text, timestamp))
            row_id = cur.lastrowid
        conn.close()
        return row_id

    return insert


def assert_json_error(response, status):
    """Every error is JSON with a message."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body.get("message"), str) and body["message"]
    return body


def wait_in_flight(srv, count, timeout=15.0):
    """Waits until `count` requests besides the scrape are in flight."""
    deadline = time.monotonic() + timeout
    while True:
        text = srv.get("/metrics").text
        now = int(re.search(r"^thoughts_http_requests_in_flight (\d+)$",
                            text, re.M).group(1))
        if now - 1 >= count:
            return
        assert time.monotonic() < deadline, "requests never in flight"
        time.sleep(0.05)


def wait_refused(srv, timeout=15.0):
    """Waits until the server no longer accepts connections."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(srv.url + "/livez", timeout=2)
        except requests.ConnectionError:
            return
        assert time.monotonic() < deadline, "still accepting connections"
        time.sleep(0.05)
