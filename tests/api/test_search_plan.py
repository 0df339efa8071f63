"""Search is answered by an index, not a scan, on both engines.

A database made by the original (the plain table, rows inserted by hand)
gets the search index when the service starts; the rows are folded into
it in the background, and searches find the same rows before and after.
On PostgreSQL the test reads the text of the statement the service ran
from pg_stat_activity and asks EXPLAIN for its plan, with a custom and a
generic plan: both must use the trigram index.  (On SQLite the unit test
tests/unit/store/test_sqlite.c checks the plan of the statement itself.)
"""
import os
import sqlite3
import time
import uuid

import pytest

from conftest import ENGINE

ROWS = 10_000


def row_text(i):
    if i % 100 == 42:
        return "Row %d: a tale about a Platypus" % i
    return "Row %d: about the weather" % i


def original_sqlite_table(path):
    """The original's schema (SQLAlchemy's), and rows inserted by hand."""
    db = sqlite3.connect(path)
    with db:
        db.execute("CREATE TABLE thought_model (id INTEGER NOT NULL, "
                   "username VARCHAR(50), text VARCHAR(250), "
                   "timestamp DATETIME, PRIMARY KEY (id))")
        db.executemany("INSERT INTO thought_model (username, text, "
                       "timestamp) VALUES (?, ?, '2019-06-02 19:44:34')",
                       (("hand", row_text(i)) for i in range(ROWS)))
    db.close()


def pg_connect(dbname, autocommit=False):
    import psycopg2
    conn = psycopg2.connect(
        host=os.environ.get("THOUGHTS_TEST_PG_HOST", "127.0.0.1"),
        port=os.environ.get("THOUGHTS_TEST_PG_PORT", "5432"),
        dbname=dbname, user="postgres")
    conn.autocommit = autocommit
    return conn


def original_pg_database():
    name = "plan_" + uuid.uuid4().hex[:10]
    admin = pg_connect("thoughts", autocommit=True)
    admin.cursor().execute("CREATE DATABASE " + name)
    admin.close()
    conn = pg_connect(name)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE thought_model (id SERIAL PRIMARY KEY, "
                    "username VARCHAR(50), text VARCHAR(250), "
                    "timestamp TIMESTAMP WITHOUT TIME ZONE)")
        cur.execute("INSERT INTO thought_model (username, text, timestamp) "
                    "SELECT 'hand', CASE WHEN i %% 100 = 42 THEN 'Row ' || i "
                    "|| ': a tale about a Platypus' ELSE 'Row ' || i || "
                    "': about the weather' END, now() "
                    "FROM generate_series(0, %s) AS i", (ROWS - 1,))
    return name, conn


def pending(query):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if query() == 0:
            return
        time.sleep(0.1)
    pytest.fail("rows were not indexed within 60 s")


def search_texts(srv, needle):
    r = srv.get("/api/thoughts/", params={"search": needle})
    assert r.status_code == 200, r.text
    return [t["text"] for t in r.json()]


EXPECTED = [row_text(i) for i in range(ROWS) if i % 100 == 42]


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite engine only")
def test_sqlite_original_table_gets_the_index(start_server, tmp_path):
    path = tmp_path / "original.db"
    original_sqlite_table(path)
    srv = start_server(env={"SQLITE_PATH": str(path)})

    assert search_texts(srv, "PLATYPUS") == EXPECTED

    def left():
        db = sqlite3.connect(path, timeout=10)
        n = db.execute("SELECT count(*) FROM thought_search_pending")
        n = n.fetchone()[0]
        db.close()
        return n
    pending(left)
    db = sqlite3.connect(path, timeout=10)
    assert db.execute("SELECT count(*) FROM thought_search").fetchone()[0] \
        == ROWS
    db.close()
    assert search_texts(srv, "PLATYPUS") == EXPECTED
    assert search_texts(srv, "pus") == EXPECTED


def plan(cur, sql, generic):
    # The service's own sessions run with this setting (postgres.c).
    cur.execute("SET enable_seqscan = off")
    cur.execute("SET plan_cache_mode = %s" %
                ("force_generic_plan" if generic else "force_custom_plan"))
    cur.execute("PREPARE candidates (int8, int8, text) AS " + sql)
    cur.execute("EXPLAIN EXECUTE candidates (%s, 500, '%%platypus%%')",
                (-2 ** 63,))
    lines = [row[0] for row in cur.fetchall()]
    cur.execute("DEALLOCATE candidates")
    return "\n".join(lines)


@pytest.mark.skipif(ENGINE != "postgresql", reason="PostgreSQL engine only")
def test_postgresql_search_plan_uses_the_trigram_index(start_server):
    name, conn = original_pg_database()
    srv = start_server(env={"POSTGRES_DB": name})
    assert search_texts(srv, "PLATYPUS") == EXPECTED

    def left():
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM thought_search_pending")
            return cur.fetchone()[0]
    pending(left)
    with conn, conn.cursor() as cur:
        cur.execute("ANALYZE")
    assert search_texts(srv, "PLATYPUS") == EXPECTED

    with conn, conn.cursor() as cur:
        cur.execute("SELECT query FROM pg_stat_activity WHERE datname = %s "
                    "AND application_name = 'thoughts-backend' "
                    "AND query LIKE '%%folded LIKE%%'", (name,))
        rows = cur.fetchall()
        assert rows, "no search statement in pg_stat_activity"
        for generic in (False, True):
            text = plan(cur, rows[0][0], generic)
            print(text)
            assert "ix_thought_search_trgm" in text, text
            assert "Seq Scan on thought_model" not in text, text
            assert "Seq Scan on thought_search " not in text, text
    conn.close()
