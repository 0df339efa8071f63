"""PostgreSQL engine: hand-written rows, time zones and outages.

These tests run only in the PostgreSQL pass of the suite
(THOUGHTS_TEST_ENGINE=postgresql).  Each test starts its own throwaway
cluster with scripts/pg-cluster, so stopping it or killing its
connections cannot disturb the rest of the suite.
"""
import datetime
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

REPO = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("THOUGHTS_BIN", str(REPO / "build" / "thoughts-backend"))
CLUSTER = str(REPO / "scripts" / "pg-cluster")

pytestmark = pytest.mark.skipif(
    os.environ.get("THOUGHTS_TEST_ENGINE") != "postgresql",
    reason="PostgreSQL pass only (THOUGHTS_TEST_ENGINE=postgresql)",
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=20.0, step=0.1):
    """Polls predicate until it is true; fails the test at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    pytest.fail("condition not met within %.0f s" % timeout)


class Cluster:
    def __init__(self):
        # Not under pytest's private tmp_path: the cluster may run as the
        # "postgres" user, who must be able to reach its directory.
        self.dir = tempfile.mkdtemp(prefix="thoughts-pg-test-")
        self.port = free_port()

    def start(self):
        subprocess.run([CLUSTER, "start", self.dir, str(self.port)],
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([CLUSTER, "stop", self.dir], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, statement, database="thoughts"):
        out = subprocess.run(
            ["psql", "-qtAX", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
             "-p", str(self.port), "-U", "postgres", "-d", database,
             "-c", statement],
            check=True, capture_output=True, text=True)
        return out.stdout.strip()


class Server:
    def __init__(self, tmp_path, cluster, **env):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.env = dict(os.environ)
        self.env.update({
            "DATABASE_ENGINE": "POSTGRESQL",
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(cluster.port),
            "POSTGRES_DB": "thoughts",
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": "unused-with-trust-auth",
            "BIND_ADDRESS": "127.0.0.1",
            "PORT": str(self.port),
            "DATA_DIR": str(tmp_path / "data"),
            "WORKERS": "1",
            "LOG_LEVEL": "info",
            "ACCESS_LOG": "off",
        })
        self.env.update(env)
        self.log = open(tmp_path / "server.log", "wb")
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env,
                                     stdout=self.log, stderr=self.log)
        wait_until(self.answers)
        self.token = subprocess.run(
            [BIN, "token", "pg-" + uuid.uuid4().hex[:8]], env=self.env,
            check=True, capture_output=True, text=True).stdout.strip()

    def answers(self):
        assert self.proc.poll() is None, "server exited"
        try:
            return requests.get(self.url + "/swagger.json",
                                timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def get(self, path):
        return requests.get(self.url + path, timeout=10)

    def post(self, text):
        return requests.post(self.url + "/api/me/thoughts/",
                             json={"text": text},
                             headers={"Authorization": self.token},
                             timeout=10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self.log.close()
        return code


@pytest.fixture
def cluster():
    c = Cluster()
    c.start()
    yield c
    c.remove()


@pytest.fixture
def server_factory(tmp_path):
    servers = []

    def start(cluster, **env):
        s = Server(tmp_path, cluster, **env)
        servers.append(s)
        return s

    yield start
    for s in servers:
        assert s.stop() == 0


def assert_unavailable(response):
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers.get("Retry-After")
    assert response.json()["message"]


def test_schema_is_the_originals(cluster, server_factory):
    server_factory(cluster)
    columns = cluster.sql(
        "SELECT column_name || ' ' || data_type FROM information_schema."
        "columns WHERE table_name = 'thought_model' ORDER BY ordinal_position")
    assert columns.splitlines() == [
        "id integer", "username character varying",
        "text character varying", "timestamp timestamp without time zone"]
    indexes = cluster.sql("SELECT indexdef FROM pg_indexes "
                          "WHERE tablename = 'thought_model'")
    assert "(username)" in indexes


def test_table_created_by_the_original_is_used_unchanged(cluster,
                                                          server_factory):
    cluster.sql("CREATE TABLE thought_model (id SERIAL NOT NULL, "
                "username VARCHAR(50), text VARCHAR(250), "
                "timestamp TIMESTAMP WITHOUT TIME ZONE DEFAULT now(), "
                "PRIMARY KEY (id))")
    cluster.sql("INSERT INTO thought_model (username, text, timestamp) "
                "VALUES ('peterparker', 'With great power...', "
                "'2019-06-02 19:44:34.384178')")
    server = server_factory(cluster)
    assert server.get("/api/thoughts/1/").json() == {
        "id": 1, "username": "peterparker", "text": "With great power...",
        "timestamp": "2019-06-02T19:44:34.384178"}
    created = server.post("Still here")
    assert created.status_code == 201
    assert created.json()["id"] == 2


def test_row_inserted_with_sql_is_served(cluster, server_factory):
    server = server_factory(cluster)
    cluster.sql("INSERT INTO thought_model (username, text, timestamp) "
                "VALUES ('byhand', 'Typed into psql', '2019-05-07 13:47:34')")
    row_id = int(cluster.sql("SELECT max(id) FROM thought_model"))
    assert server.get("/api/thoughts/%d/" % row_id).json() == {
        "id": row_id, "username": "byhand", "text": "Typed into psql",
        "timestamp": "2019-05-07T13:47:34"}
    listed = server.get("/api/thoughts/?search=PSQL").json()
    assert [t["id"] for t in listed] == [row_id]


def test_timestamps_are_utc_whatever_the_time_zones(cluster, server_factory):
    cluster.sql("ALTER DATABASE thoughts SET timezone TO 'Asia/Tokyo'",
                database="postgres")
    server = server_factory(cluster, TZ="America/Los_Angeles")
    before = datetime.datetime.utcnow()
    created = server.post("What time is it?").json()
    after = datetime.datetime.utcnow()
    stamp = datetime.datetime.fromisoformat(created["timestamp"])
    slack = datetime.timedelta(seconds=5)
    assert before - slack <= stamp <= after + slack
    fetched = server.get("/api/thoughts/%d/" % created["id"]).json()
    assert fetched["timestamp"] == created["timestamp"]

    # A row inserted by hand takes the column default, which is UTC too.
    cluster.sql("INSERT INTO thought_model (username, text) "
                "VALUES ('byhand', 'default time')")
    row_id = int(cluster.sql("SELECT max(id) FROM thought_model"))
    stamp = datetime.datetime.fromisoformat(
        server.get("/api/thoughts/%d/" % row_id).json()["timestamp"])
    assert abs(stamp - datetime.datetime.utcnow()) < datetime.timedelta(
        minutes=5)


def test_search_matches_sqlite_rules(cluster, server_factory):
    server = server_factory(cluster)
    texts = ["Straße", "école", "100% sure", "snake_case", "back\\slash",
             "it's \"quoted\""]
    ids = {t: server.post(t).json()["id"] for t in texts}

    def found(needle):
        r = server.get("/api/thoughts/?" + requests.compat.urlencode(
            {"search": needle}))
        assert r.status_code == 200
        return [t["id"] for t in r.json()]

    assert found("STRASSE") == [ids["Straße"]]
    assert found("ÉCOLE") == [ids["école"]]
    assert found("%") == [ids["100% sure"]]
    assert found("_") == [ids["snake_case"]]
    assert found("\\") == [ids["back\\slash"]]
    assert found("'s \"") == [ids["it's \"quoted\""]]


def test_start_before_the_database(server_factory):
    cluster = Cluster()
    server = server_factory(cluster)  # nothing listens on its port yet
    assert_unavailable(server.get("/api/thoughts/"))
    assert_unavailable(server.post("too early"))
    assert server.proc.poll() is None

    cluster.start()
    try:
        wait_until(lambda: server.get("/api/thoughts/").status_code == 200)
        created = server.post("just in time")
        assert created.status_code == 201
        assert server.get("/api/thoughts/%d/" %
                          created.json()["id"]).status_code == 200
    finally:
        cluster.remove()


def test_killed_connections_fail_at_most_one_request(cluster,
                                                     server_factory):
    server = server_factory(cluster)
    assert server.post("before").status_code == 201

    killed = cluster.sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = 'thoughts-backend'")
    assert int(killed) >= 1

    text = "after the kill " + uuid.uuid4().hex
    responses = [server.post(text)] + [server.get("/api/thoughts/")
                                       for _ in range(5)]
    failures = [r for r in responses if r.status_code != 200 and
                r.status_code != 201]
    assert len(failures) <= 1
    for r in failures:
        assert_unavailable(r)
    stored = int(cluster.sql(
        "SELECT count(*) FROM thought_model WHERE text = '%s'" % text))
    assert stored == (1 if responses[0].status_code == 201 else 0)
    assert server.proc.poll() is None


def test_database_restart_mid_run(cluster, server_factory):
    server = server_factory(cluster, WORKERS="2")
    first = server.post("before the restart")
    assert first.status_code == 201

    cluster.stop()
    for _ in range(3):
        # Bounded by the request timeout: the service must not hang.
        assert_unavailable(server.get("/api/thoughts/"))
    assert server.proc.poll() is None

    cluster.start()
    wait_until(lambda: server.get("/api/thoughts/").status_code == 200)
    again = server.post("after the restart")
    assert again.status_code == 201
    listed = [t["id"] for t in server.get("/api/thoughts/").json()]
    assert listed == sorted(listed)
    assert first.json()["id"] in listed and again.json()["id"] in listed


def test_readyz_follows_the_database(cluster, server_factory):
    server = server_factory(cluster)
    assert server.get("/readyz").status_code == 200

    cluster.stop()
    wait_until(lambda: server.get("/readyz").status_code == 503)
    assert_unavailable(server.get("/readyz"))
    # Alive while not ready: an orchestrator must not restart it.
    assert server.get("/livez").status_code == 200
    assert server.proc.poll() is None

    cluster.start()
    wait_until(lambda: server.get("/readyz").status_code == 200)
    assert server.get("/readyz").json()["status"] == "ready"
    assert server.post("ready again").status_code == 201
