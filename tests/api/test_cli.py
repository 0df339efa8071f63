"""The command line: help, version, exit codes, init-db, token, env files,
the development key pair, signals, the access log and the summary."""
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time

import jwt
import pytest
import requests

from conftest import (BIN, ENGINE, REPO, engine_env, wait_in_flight,
                      wait_refused)

# Settings the service must read (the contract and the README name them);
# --help lists each one, and perhaps more.
SETTINGS = [
    "DATABASE_ENGINE", "SQLITE_PATH", "DATA_DIR", "POSTGRES_HOST",
    "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD",
    "BIND_ADDRESS", "PORT", "WORKERS", "MAX_BODY_BYTES", "MAX_CONNECTIONS",
    "CONNECTION_TIMEOUT", "SHUTDOWN_TIMEOUT", "PUBLIC_KEY",
    "PUBLIC_KEY_FILE", "PRIVATE_KEY_FILE", "ADMIN_AUTH", "LOG_LEVEL",
    "LOG_FORMAT", "ACCESS_LOG",
]

EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, EXIT_CONFIG = 0, 1, 2, 3


def help_settings():
    """The setting names --help lists, in its order."""
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True,
                         env={"PATH": os.environ.get("PATH", "")},
                         timeout=10).stdout
    return re.findall(r"^  ([A-Z][A-Z0-9_]+) ", out, re.M)


ALL_SETTINGS = set(SETTINGS) | set(help_settings())


def clean_env(**extra):
    """The caller's environment without any of the service's settings."""
    env = {k: v for k, v in os.environ.items()
           if k not in ALL_SETTINGS and not k.startswith("POSTGRES_")}
    env.update(extra)
    return env


def run(args, env=None, timeout=30, **kwargs):
    return subprocess.run([BIN, *args], env=env if env is not None else
                          clean_env(), capture_output=True, text=True,
                          timeout=timeout, **kwargs)


# ---- help and version --------------------------------------------------

def test_help_lists_every_setting(tmp_path):
    r = run(["--help"], cwd=tmp_path)
    assert r.returncode == EXIT_OK
    for name in SETTINGS:
        assert re.search(r"^\s+%s\s" % name, r.stdout, re.M), name
    for command in ("serve", "init-db", "token", "--env-file"):
        assert command in r.stdout
    assert r.stderr == ""
    assert not (tmp_path / "data").exists()  # --help touches nothing


def test_help_shows_the_defaults(tmp_path):
    out = run(["--help"], cwd=tmp_path).stdout
    for default in ("SQLITE", "8000", "1048576", "localhost", "5432"):
        assert "default: %s" % default in out


def test_every_setting_the_readme_documents_is_in_help():
    readme = (REPO / "README.md").read_text()
    table = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, re.M))
    assert "PORT" in table and "ADMIN_AUTH" in table
    listed = help_settings()
    assert table <= set(listed)
    assert len(listed) == len(set(listed))


def test_help_after_env_file(tmp_path):
    env_file = tmp_path / "settings.env"
    env_file.write_text("PORT=1234\n")
    r = run(["--env-file", str(env_file), "--help"])
    assert r.returncode == EXIT_OK
    assert "PORT" in r.stdout


def test_version():
    r = run(["--version"])
    assert r.returncode == EXIT_OK
    assert re.fullmatch(r"thoughts-backend \d+\.\d+\.\d+\n", r.stdout)


# ---- exit codes --------------------------------------------------------

@pytest.mark.parametrize("args", [
    ["bogus"], ["serve", "extra"], ["init-db", "extra"], ["--env-file"],
    ["token"], ["token", ""], ["token", "alice", "--ttl"],
    ["token", "alice", "--ttl", "abc"], ["token", "alice", "--ttl", "0"],
    ["token", "alice", "--ttl", "-5"], ["token", "alice", "bob"],
    ["token", "alice", "--bogus"], ["--verbose"],
])
def test_bad_command_line_exits_2(tmp_path, args):
    r = run(args, env=clean_env(DATA_DIR=str(tmp_path)))
    assert r.returncode == EXIT_USAGE, (r.stdout, r.stderr)
    assert r.stderr.strip()
    assert r.stdout == ""


@pytest.mark.parametrize("name,value", [
    ("PORT", "abc"), ("PORT", "0"), ("PORT", "65536"), ("PORT", "80x"),
    ("PORT", ""), ("WORKERS", "0"), ("WORKERS", "-1"),
    ("DATABASE_ENGINE", "MYSQL"), ("DATABASE_ENGINE", ""),
    ("ADMIN_AUTH", "maybe"), ("LOG_LEVEL", "verbose"),
    ("LOG_FORMAT", "xml"), ("ACCESS_LOG", "2"), ("MAX_BODY_BYTES", "10"),
    ("POSTGRES_PORT", "99999"), ("SHUTDOWN_TIMEOUT", "-1"),
    ("CONNECTION_TIMEOUT", "0"), ("MAX_CONNECTIONS", "0"),
    ("DATA_DIR", ""), ("WORKERS", "99999999999999999999"),
])
@pytest.mark.parametrize("command", ["serve", "init-db", "token"])
def test_bad_setting_exits_3_naming_the_variable(tmp_path, name, value,
                                                 command):
    args = [command] + (["alice"] if command == "token" else [])
    env = clean_env(DATA_DIR=str(tmp_path / "data"), PORT=str(free_port()))
    env[name] = value
    r = run(args, env=env)
    assert r.returncode == EXIT_CONFIG, (r.stdout, r.stderr)
    assert name in r.stderr
    assert r.stdout == ""
    assert not (tmp_path / "data").exists()


def test_secret_is_not_echoed_in_config_errors():
    # No setting is both secret and validated today; a bad POSTGRES_PORT
    # next to a password must still not print the password.
    r = run(["serve"], env=clean_env(POSTGRES_PASSWORD="hunter2-secret",
                                     POSTGRES_PORT="nope"))
    assert r.returncode == EXIT_CONFIG
    assert "hunter2-secret" not in r.stderr + r.stdout


def test_both_public_key_settings_exit_3(tmp_path, keys):
    env = clean_env(PUBLIC_KEY=keys.public_pem.decode(),
                    PUBLIC_KEY_FILE=str(keys.public_file),
                    DATA_DIR=str(tmp_path))
    r = run(["serve"], env=env)
    assert r.returncode == EXIT_CONFIG
    assert "PUBLIC_KEY" in r.stderr


def test_missing_env_file_exits_3(tmp_path):
    r = run(["--env-file", str(tmp_path / "nope.env"), "serve"])
    assert r.returncode == EXIT_CONFIG
    assert "nope.env" in r.stderr


def test_bad_env_file_line_exits_3(tmp_path):
    env_file = tmp_path / "bad.env"
    env_file.write_text("# fine\nPORT=8000\nthis is not a setting\n")
    r = run(["--env-file", str(env_file), "serve"])
    assert r.returncode == EXIT_CONFIG
    assert "line 3" in r.stderr


def test_unreadable_public_key_exits_1(tmp_path):
    env = clean_env(PUBLIC_KEY_FILE=str(tmp_path / "missing.pem"),
                    DATA_DIR=str(tmp_path), PORT=str(free_port()),
                    BIND_ADDRESS="127.0.0.1")
    env.update(engine_env(tmp_path))
    r = run(["serve"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert "PUBLIC_KEY_FILE" in r.stderr


def test_garbage_public_key_exits_1(tmp_path):
    env = clean_env(PUBLIC_KEY="not a pem", DATA_DIR=str(tmp_path),
                    PORT=str(free_port()), BIND_ADDRESS="127.0.0.1")
    env.update(engine_env(tmp_path))
    r = run(["serve"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert "PUBLIC_KEY" in r.stderr


def test_port_in_use_exits_1(tmp_path, keys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = clean_env(PORT=str(busy.getsockname()[1]),
                        BIND_ADDRESS="127.0.0.1", DATA_DIR=str(tmp_path),
                        PUBLIC_KEY_FILE=str(keys.public_file))
        env.update(engine_env(tmp_path))
        r = run(["serve"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert "listen" in r.stderr


def test_port_held_by_a_running_server_exits_1(tmp_path, keys, server):
    # A second server on the port of a running one must not share it (with
    # SO_REUSEPORT requests would land at random on either).
    env = clean_env(PORT=str(server.port), BIND_ADDRESS="127.0.0.1",
                    DATA_DIR=str(tmp_path),
                    PUBLIC_KEY_FILE=str(keys.public_file))
    env.update(engine_env(tmp_path))
    r = run(["serve"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert "listen" in r.stderr
    assert server.get("/livez").status_code == 200


@pytest.mark.parametrize("address", ["localhost", "0.0.0.0:80", "1.2.3",
                                     "::1%", ""])
def test_bad_bind_address_exits_3(tmp_path, keys, address):
    env = clean_env(PORT=str(free_port()), BIND_ADDRESS=address,
                    DATA_DIR=str(tmp_path / "data"),
                    PUBLIC_KEY_FILE=str(keys.public_file))
    env.update(engine_env(tmp_path / "data"))
    r = run(["serve"], env=env)
    assert r.returncode == EXIT_CONFIG, r.stderr
    assert "BIND_ADDRESS" in r.stderr
    assert not (tmp_path / "data").exists()  # stopped before any set-up


def test_ipv6_bind_address_is_accepted(tmp_path, keys):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    port = free_port()
    env = clean_env(PORT=str(port), BIND_ADDRESS="::1",
                    DATA_DIR=str(tmp_path),
                    PUBLIC_KEY_FILE=str(keys.public_file))
    env.update(engine_env(tmp_path))
    log = tmp_path / "stderr.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([BIN, "serve"], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 15
        while "listening on" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        r = requests.get("http://[::1]:%d/livez" % port, timeout=5)
        assert r.status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0


# ---- init-db -----------------------------------------------------------

def thought_model_columns(env):
    if ENGINE == "postgresql":
        import psycopg2
        conn = psycopg2.connect(host=env["POSTGRES_HOST"],
                                port=env["POSTGRES_PORT"], dbname="thoughts",
                                user="postgres")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = 'thought_model' "
                        "ORDER BY ordinal_position")
            names = [row[0] for row in cur.fetchall()]
        conn.close()
        return names
    conn = sqlite3.connect(env["SQLITE_PATH"])
    names = [row[1] for row in
             conn.execute("PRAGMA table_info(thought_model)")]
    conn.close()
    return names


def test_init_db_creates_the_schema(tmp_path):
    env = clean_env(DATA_DIR=str(tmp_path / "data"))
    env.update(engine_env(tmp_path / "data"))
    if ENGINE == "sqlite":
        # Missing directories are created, as serve creates DATA_DIR.
        env["SQLITE_PATH"] = str(tmp_path / "new" / "dir" / "thoughts.db")
    r = run(["init-db"], env=env)
    assert r.returncode == EXIT_OK, r.stderr
    assert "schema" in r.stderr
    assert thought_model_columns(env) == ["id", "username", "text",
                                          "timestamp"]
    # Running it again is harmless.
    assert run(["init-db"], env=env).returncode == EXIT_OK


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite file rules")
def test_init_db_keeps_existing_rows(tmp_path):
    path = tmp_path / "thoughts.db"
    env = clean_env(DATA_DIR=str(tmp_path), SQLITE_PATH=str(path))
    assert run(["init-db"], env=env).returncode == EXIT_OK
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO thought_model (username, text) "
                     "VALUES ('kept', 'still here')")
    conn.close()
    assert run(["init-db"], env=env).returncode == EXIT_OK
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT username, text FROM thought_model"
                        ).fetchall() == [("kept", "still here")]
    conn.close()


@pytest.mark.skipif(ENGINE != "postgresql", reason="PostgreSQL pass only")
def test_init_db_fails_when_the_database_is_unreachable(tmp_path):
    env = clean_env(DATA_DIR=str(tmp_path), DATABASE_ENGINE="POSTGRESQL",
                    POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=str(free_port()))
    r = run(["init-db"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert "database" in r.stderr


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite file rules")
def test_init_db_fails_when_the_file_cannot_be_made(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = clean_env(DATA_DIR=str(tmp_path),
                    SQLITE_PATH=str(blocker / "thoughts.db"))
    r = run(["init-db"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert r.stderr.strip()


# ---- token -------------------------------------------------------------

def token_env(keys, tmp_path):
    return clean_env(PUBLIC_KEY_FILE=str(keys.public_file),
                     PRIVATE_KEY_FILE=str(keys.private_file),
                     DATA_DIR=str(tmp_path))


def decode(keys, header_value):
    assert header_value.startswith("Bearer ")
    token = header_value[len("Bearer "):]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    return jwt.decode(token, keys.public_pem, algorithms=["RS256"])


def test_token_verifies_against_the_public_key(keys, tmp_path):
    r = run(["token", "alice"], env=token_env(keys, tmp_path))
    assert r.returncode == EXIT_OK, r.stderr
    assert r.stdout.endswith("\n") and r.stdout.count("\n") == 1
    claims = decode(keys, r.stdout.strip())
    assert claims["username"] == "alice"
    assert "admin" not in claims or claims["admin"] is not True
    assert abs(claims["exp"] - (time.time() + 3600)) < 60
    assert abs(claims["iat"] - time.time()) < 60


def test_token_admin_and_ttl(keys, tmp_path):
    r = run(["token", "root", "--admin", "--ttl", "120"],
            env=token_env(keys, tmp_path))
    assert r.returncode == EXIT_OK, r.stderr
    claims = decode(keys, r.stdout.strip())
    assert claims["username"] == "root" and claims["admin"] is True
    assert abs(claims["exp"] - (time.time() + 120)) < 60
    r = run(["token", "--admin", "root"], env=token_env(keys, tmp_path))
    assert decode(keys, r.stdout.strip())["admin"] is True


def test_token_with_a_unicode_username(keys, tmp_path):
    r = run(["token", "zoë-思"], env=token_env(keys, tmp_path))
    assert decode(keys, r.stdout.strip())["username"] == "zoë-思"


def test_token_is_not_signed_by_another_key(keys, tmp_path):
    from conftest import Keys
    other = Keys(tmp_path / "other")
    env = token_env(keys, tmp_path)
    env["PRIVATE_KEY_FILE"] = str(other.private_file)
    r = run(["token", "alice"], env=env)
    assert r.returncode == EXIT_OK
    with pytest.raises(jwt.InvalidSignatureError):
        decode(keys, r.stdout.strip())


def test_token_works_against_the_server(server, keys, tmp_path, user):
    env = token_env(keys, tmp_path)
    plain = run(["token", user], env=env).stdout.strip()
    root = run(["token", "root", "--admin"], env=env).stdout.strip()

    created = server.post("/api/me/thoughts/", json={"text": "via the CLI"},
                          headers={"Authorization": plain})
    assert created.status_code == 201
    assert created.json()["username"] == user
    path = "/admin/thoughts/%d/" % created.json()["id"]
    assert server.delete(path, headers={"Authorization": plain}
                         ).status_code == 403
    assert server.delete(path, headers={"Authorization": root}
                         ).status_code == 204
    assert server.get("/api/thoughts/%d/" % created.json()["id"]
                      ).status_code == 404


def test_token_with_only_a_public_key_fails(keys, tmp_path):
    env = clean_env(PUBLIC_KEY_FILE=str(keys.public_file),
                    DATA_DIR=str(tmp_path))
    r = run(["token", "alice"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert "PRIVATE_KEY_FILE" in r.stderr
    assert r.stdout == ""


def test_token_with_a_missing_private_key_fails(tmp_path):
    env = clean_env(PRIVATE_KEY_FILE=str(tmp_path / "nope.pem"),
                    DATA_DIR=str(tmp_path))
    r = run(["token", "alice"], env=env)
    assert r.returncode == EXIT_RUNTIME
    assert "PRIVATE_KEY_FILE" in r.stderr


# ---- env files ---------------------------------------------------------

ENV_FILE = """\
# a comment line, then a blank one

   # an indented comment
export SQLITE_PATH="{db}"
DATA_DIR='{data}'
  LOG_LEVEL = warning
ACCESS_LOG=off
#DATABASE_ENGINE=MYSQL
DATABASE_ENGINE=SQLITE
"""


@pytest.fixture
def env_file(tmp_path):
    db = tmp_path / "from file" / "thoughts.db"
    data = tmp_path / "data dir"
    db.parent.mkdir()
    path = tmp_path / "settings.env"
    path.write_text(ENV_FILE.format(db=db, data=data))
    return path, db, data


def test_env_file_comments_export_and_quotes(env_file):
    path, db, data = env_file
    r = run(["--env-file", str(path), "init-db"])
    assert r.returncode == EXIT_OK, r.stderr
    assert db.exists()  # export and double quotes
    # LOG_LEVEL=warning came from the file: the info line is not printed.
    assert "schema is ready" not in r.stderr


def test_env_file_single_quotes(env_file, tmp_path):
    path, db, data = env_file
    r = run(["--env-file", str(path), "token", "alice"])
    assert r.returncode == EXIT_OK, r.stderr
    assert (data / "dev-private.pem").exists()
    assert not (tmp_path / "'data dir'").exists()


def test_real_environment_wins_over_env_file(env_file, tmp_path):
    path, db, data = env_file
    other = tmp_path / "from env.db"
    r = run(["--env-file", str(path), "init-db"],
            env=clean_env(SQLITE_PATH=str(other), LOG_LEVEL="info"))
    assert r.returncode == EXIT_OK, r.stderr
    assert other.exists()
    assert not db.exists()
    assert "schema is ready" in r.stderr


def test_empty_variable_in_the_environment_still_wins(env_file):
    # Set but empty is set: the file's LOG_LEVEL=warning does not apply,
    # and an empty level is not a valid one.
    path, db, data = env_file
    r = run(["--env-file", str(path), "init-db"],
            env=clean_env(LOG_LEVEL=""))
    assert r.returncode == EXIT_CONFIG
    assert "LOG_LEVEL" in r.stderr


def test_env_file_values_reach_the_server(start_server, tmp_path):
    path = tmp_path / "server.env"
    path.write_text("export SHUTDOWN_TIMEOUT='7'\n"
                    'CONNECTION_TIMEOUT="17"\n'
                    "# MAX_CONNECTIONS=5\n"
                    "MAX_CONNECTIONS = 77\n"
                    "WORKERS=2\n")
    srv = start_server(env={}, args=("--env-file", str(path), "serve"))
    log = srv.stderr()
    assert "setting SHUTDOWN_TIMEOUT=7\n" in log
    assert "setting CONNECTION_TIMEOUT=17\n" in log
    assert "setting MAX_CONNECTIONS=77\n" in log
    assert "setting WORKERS=4\n" in log  # the fixture's environment wins


# ---- the development key pair ------------------------------------------

def test_zero_setup_dev_key_pair(start_server, tmp_path, user):
    srv = start_server(with_keys=False)
    data = srv.data_dir
    assert (data / "dev-private.pem").exists()
    assert (data / "dev-public.pem").exists()
    assert oct((data / "dev-private.pem").stat().st_mode & 0o777) == "0o600"
    assert re.search(r"warning.*development key pair", srv.stderr())

    env = clean_env(DATA_DIR=str(data))
    header = run(["token", user], env=env).stdout.strip()
    public = (data / "dev-public.pem").read_bytes()
    token = header[len("Bearer "):]
    assert jwt.decode(token, public, algorithms=["RS256"])["username"] == user

    r = srv.post("/api/me/thoughts/", json={"text": "zero set-up"},
                 headers={"Authorization": header})
    assert r.status_code == 201, r.text
    assert r.json()["username"] == user


def test_dev_key_pair_survives_a_restart(start_server, tmp_path, user):
    data = tmp_path / "dev"
    first = start_server(with_keys=False, data_dir=data)
    before = (data / "dev-public.pem").read_bytes()
    assert first.stop() == 0
    header = run(["token", user], env=clean_env(DATA_DIR=str(data))
                 ).stdout.strip()
    second = start_server(with_keys=False, data_dir=data)
    assert (data / "dev-public.pem").read_bytes() == before
    assert second.get("/api/me/thoughts/",
                      headers={"Authorization": header}).status_code == 200


def test_token_creates_the_dev_pair_the_server_then_uses(start_server,
                                                         tmp_path, user):
    data = tmp_path / "token-first"
    header = run(["token", user], env=clean_env(DATA_DIR=str(data))
                 ).stdout.strip()
    assert header.startswith("Bearer ")
    srv = start_server(with_keys=False, data_dir=data)
    assert srv.get("/api/me/thoughts/",
                   headers={"Authorization": header}).status_code == 200


# ---- signals -----------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_exits_0(start_server, sig):
    srv = start_server()
    assert srv.get("/livez").status_code == 200
    assert srv.stop(sig) == 0
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
    assert "received %s" % name in srv.stderr()
    assert "stopped" in srv.stderr()
    with pytest.raises(requests.ConnectionError):
        requests.get(srv.url + "/livez", timeout=2)


def read_all(conn):
    reply = b""
    while True:
        chunk = conn.recv(1 << 20)
        if not chunk:
            return reply
        reply += chunk


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_request_in_flight_completes_on_stop(start_server, keys, user, sig):
    srv = start_server()
    body = json.dumps({"text": "sent slowly"}).encode()
    header = "Bearer " + keys.token(user)
    conn = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    conn.sendall(("POST /api/me/thoughts/ HTTP/1.1\r\nHost: x\r\n"
                  "Authorization: %s\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\nConnection: close\r\n\r\n"
                  % (header, len(body))).encode() + body[:5])
    wait_in_flight(srv, 1)  # the headers are in
    srv.proc.send_signal(sig)
    wait_refused(srv)  # no new connections...
    assert srv.proc.poll() is None  # ...but the request is still waited for
    conn.sendall(body[5:])
    reply = read_all(conn)
    conn.close()
    assert reply.startswith(b"HTTP/1.1 201"), reply
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["text"] == \
        "sent slowly"
    assert srv.proc.wait(timeout=20) == 0


def bulk_insert(srv, username, count, text):
    """Inserts rows with one SQL statement, much faster than the API."""
    if ENGINE == "postgresql":
        import psycopg2
        conn = psycopg2.connect(host=srv.env["POSTGRES_HOST"],
                                port=srv.env["POSTGRES_PORT"],
                                dbname="thoughts", user="postgres")
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO thought_model (username, text) "
                        "SELECT %s, %s FROM generate_series(1, %s)",
                        (username, text, count))
        conn.close()
        return
    conn = sqlite3.connect(srv.env["SQLITE_PATH"], timeout=10)
    with conn:
        conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                     "SELECT i + 1 FROM n WHERE i < ?) "
                     "INSERT INTO thought_model (username, text) "
                     "SELECT ?, ? FROM n", (count, username, text))
    conn.close()


def dechunk(data):
    out = b""
    while True:
        size_line, data = data.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out += data[:size]
        data = data[size + 2:]


def test_streamed_listing_in_flight_completes_on_stop(start_server, keys,
                                                      user):
    # A shutdown wait long enough for a slow run (under valgrind the
    # listing takes longer than the default 8 s).
    srv = start_server({"WORKERS": "2", "SHUTDOWN_TIMEOUT": "120"})
    # About 6 MB of JSON: more than the kernel's socket buffers can hold,
    # so the server is still writing it when the signal comes.
    bulk_insert(srv, user, 20000, "y" * 250)
    conn = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    conn.sendall(("GET /api/me/thoughts/ HTTP/1.1\r\nHost: x\r\n"
                  "Authorization: Bearer %s\r\nConnection: close\r\n\r\n"
                  % keys.token(user)).encode())
    first = conn.recv(1024)
    assert first.startswith(b"HTTP/1.1 200")
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert srv.proc.poll() is None  # still sending the listing
    reply = first + read_all(conn)
    conn.close()
    head, body = reply.split(b"\r\n\r\n", 1)
    assert b"chunked" in head.lower()
    rows = json.loads(dechunk(body))
    assert len(rows) == 20000
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    assert srv.proc.wait(timeout=120) == 0


def test_shutdown_timeout_bounds_the_wait(start_server, keys, user):
    srv = start_server({"SHUTDOWN_TIMEOUT": "1"})
    conn = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    conn.sendall(b"POST /api/me/thoughts/ HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\n"
                 b"Content-Length: 100\r\n\r\n{")
    wait_in_flight(srv, 1)
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.proc.wait(timeout=15) == 0  # it gave up on the stalled one
    assert time.monotonic() - started < 10
    assert "still in flight" in srv.stderr()
    conn.close()


# ---- logs --------------------------------------------------------------

ACCESS = re.compile(r'^(?P<time>\S+) (?P<client>\S+) "(?P<method>\S+) '
                    r'(?P<path>\S+)" (?P<status>\d{3}) (?P<bytes>\d+) '
                    r'(?P<ms>\d+\.\d+)ms (?P<id>\S+)$')


def access_lines(srv, until=None, timeout=10.0):
    """The parsed access log; with `until`, first waits for a line that
    contains it (a line is written once the response has gone out)."""
    deadline = time.monotonic() + timeout
    while until is not None and until not in srv.stdout() and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    return [m.groupdict() for m in map(ACCESS.match,
                                       srv.stdout().splitlines()) if m]


def test_access_log_line(server, keys, user):
    created = server.post("/api/me/thoughts/?text=logged",
                          headers=keys.header(user))
    missing_id = server.get("/api/thoughts/987654321/"
                            ).headers["X-Request-ID"]
    lines = access_lines(server, until=missing_id)
    post = [e for e in lines if e["method"] == "POST" and
            e["path"] == "/api/me/thoughts/" and
            e["id"] == created.headers["X-Request-ID"]]
    assert len(post) == 1
    assert post[0]["status"] == "201"
    assert int(post[0]["bytes"]) == len(created.content)
    assert float(post[0]["ms"]) >= 0
    assert post[0]["client"] == "127.0.0.1"
    missing = [e for e in lines if e["path"] == "/api/thoughts/987654321/"]
    assert missing and missing[-1]["status"] == "404"
    assert "logged" not in server.stdout()  # the query string is not logged


def test_access_log_escapes_hostile_paths(server):
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b'GET /x%22%0a%1bFAKE HTTP/1.1\r\nHost: x\r\n'
                  b'Connection: close\r\n\r\n')
        while s.recv(65536):
            pass
    access_lines(server, until="FAKE")
    out = server.stdout()
    assert "FAKE" in out
    for line in out.splitlines():
        if "FAKE" in line:
            assert ACCESS.match(line), line
            assert "\x1b" not in line


def test_access_log_off(start_server):
    srv = start_server({"ACCESS_LOG": "off"})
    srv.get("/api/thoughts/")
    assert srv.stop() == 0  # every line is out
    assert access_lines(srv) == []
    assert srv.stdout() == ""


def test_secrets_are_masked_in_the_summary(start_server):
    srv = start_server({"POSTGRES_PASSWORD": "s3cr3t-Pa55word"})
    log = srv.stderr() + srv.stdout()
    assert "setting POSTGRES_PASSWORD=********" in log
    assert "s3cr3t-Pa55word" not in log
    for name in help_settings():  # one table drives help and summary
        assert "setting %s=" % name in log, name


def test_public_key_pem_is_not_dumped_in_the_summary(start_server, keys):
    srv = start_server({"PUBLIC_KEY": keys.public_pem.decode(),
                        "PUBLIC_KEY_FILE": ""})
    log = srv.stderr()
    assert "BEGIN PUBLIC KEY" not in log
    assert re.search(r"setting PUBLIC_KEY=\(\d+ bytes\)", log)


@pytest.mark.skipif(ENGINE != "postgresql", reason="PostgreSQL pass only")
def test_shipped_environment_env_with_host_from_the_environment(tmp_path):
    # As the README shows it: the file's values, the real environment's
    # host and port.
    env = clean_env(POSTGRES_HOST=os.environ.get("THOUGHTS_TEST_PG_HOST",
                                                 "127.0.0.1"),
                    POSTGRES_PORT=os.environ.get("THOUGHTS_TEST_PG_PORT",
                                                 "5432"),
                    DATA_DIR=str(tmp_path))
    r = run(["--env-file", str(REPO / "environment.env"), "init-db"],
            env=env)
    assert r.returncode == EXIT_OK, r.stderr
    assert "somepassword" not in r.stderr + r.stdout


def test_shipped_environment_env_parses():
    r = run(["--env-file", str(REPO / "environment.env"), "--version"])
    assert r.returncode == EXIT_OK, r.stderr
