"""GET /api/thoughts/ and GET /api/thoughts/{id}/: reading is open."""
import datetime
import json
import re
import uuid

import pytest

from conftest import ENGINE, assert_json_error

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")


def create(server, keys, username, text):
    r = server.post("/api/me/thoughts/", json={"text": text},
                    headers=keys.header(username))
    assert r.status_code == 201, r.text
    return r.json()


def search(server, needle):
    r = server.get("/api/thoughts/", params={"search": needle})
    assert r.status_code == 200, r.text
    return r.json()


def test_list_all_has_increasing_ids_and_exact_keys(server, keys, user):
    for text in ("first", "second", "third"):
        create(server, keys, user, text)
    r = server.get("/api/thoughts/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    rows = json.loads(r.text, object_pairs_hook=lambda pairs: pairs)
    assert len(rows) >= 3
    for row in rows:
        assert [k for k, _ in row] == ["id", "username", "text", "timestamp"]
    ids = [dict(row)["id"] for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    mine = [dict(row)["text"] for row in rows if dict(row)["username"] == user]
    assert mine == ["first", "second", "third"]


def test_search_platypus_finds_a_tale_about_a_platypus(server, keys, user):
    tale = create(server, keys, user, "A tale about a Platypus")
    create(server, keys, user, "Something else entirely")
    found = search(server, "platypus")
    assert tale in found
    assert all("platypus" in t["text"].lower() for t in found)


def test_empty_search_lists_everything(server, keys, user):
    row = create(server, keys, user, "listed without a filter")
    assert row in search(server, "")


@pytest.mark.parametrize("text,needle", [
    ("100% organic " + "x", "0% o"),
    ("snake_case_name", "e_c"),
    ("a back\\slash here", "k\\s"),
    ("it's \"quoted\"", "'s \"q"),
])
def test_search_matches_special_characters_literally(server, keys, user,
                                                     text, needle):
    marker = uuid.uuid4().hex[:8]
    row = create(server, keys, user, text + " " + marker)
    decoy = create(server, keys, user, "decoy without them " + marker)
    found = [t for t in search(server, needle) if marker in t["text"]]
    assert found == [row]
    assert decoy not in found


def test_percent_and_underscore_are_not_wildcards(server, keys, user):
    marker = uuid.uuid4().hex[:8]
    create(server, keys, user, "plain words " + marker)
    assert [t for t in search(server, "%") if marker in t["text"]] == []
    assert [t for t in search(server, "_") if marker in t["text"]] == []


@pytest.mark.parametrize("stored,needle", [
    ("école primaire", "ÉCOLE"),
    ("ÉCOLE PRIMAIRE", "école"),
    ("Die Straße", "STRASSE"),
    ("ΣΟΦΙΑ", "σοφια"),
])
def test_search_folds_unicode_case(server, keys, user, stored, needle):
    marker = uuid.uuid4().hex[:8]
    row = create(server, keys, user, stored + " " + marker)
    assert [t for t in search(server, needle) if marker in t["text"]] == [row]


def test_search_needle_must_be_utf8(server):
    r = server.get("/api/thoughts/?search=%FF%FE")
    body = assert_json_error(r, 400)
    assert "search" in body["errors"]


def test_get_one(server, keys, user):
    row = create(server, keys, user, "fetch me")
    r = server.get("/api/thoughts/%d/" % row["id"])
    assert r.status_code == 200
    assert r.json() == row
    assert list(r.json().keys()) == ["id", "username", "text", "timestamp"]


def test_get_missing_is_404_with_message(server):
    assert_json_error(server.get("/api/thoughts/987654321/"), 404)


@pytest.mark.parametrize("path", [
    "/api/thoughts/abc/", "/api/thoughts/-1/", "/api/thoughts/1.5/",
    "/api/thoughts/99999999999999999999999999/",
    "/api/thoughts/9223372036854775808/", "/api/thoughts/%20/",
])
def test_ids_that_are_not_numbers_in_range_are_404(server, path):
    assert_json_error(server.get(path), 404)


def test_timestamps_are_utc_iso_without_zone(server, keys, user):
    before = datetime.datetime.utcnow()
    row = create(server, keys, user, "what time is it")
    after = datetime.datetime.utcnow()
    assert STAMP.match(row["timestamp"])
    stamp = datetime.datetime.fromisoformat(row["timestamp"])
    slack = datetime.timedelta(seconds=5)
    assert before - slack <= stamp <= after + slack


def test_row_inserted_by_hand_is_served(server, insert_row, user):
    row_id = insert_row(user, "typed by hand", "2019-05-07 13:47:34")
    r = server.get("/api/thoughts/%d/" % row_id)
    assert r.json() == {"id": row_id, "username": user,
                        "text": "typed by hand",
                        "timestamp": "2019-05-07T13:47:34"}
    r = server.get("/api/thoughts/", params={"search": "TYPED BY HAND"})
    assert r.json()[-1]["id"] == row_id


def test_row_inserted_by_hand_with_default_timestamp(server, insert_row,
                                                     user):
    row_id = insert_row(user, "default time")
    stamp = server.get("/api/thoughts/%d/" % row_id).json()["timestamp"]
    assert STAMP.match(stamp)
    delta = datetime.datetime.fromisoformat(stamp) - datetime.datetime.utcnow()
    assert abs(delta) < datetime.timedelta(minutes=5)


def test_fraction_shown_only_when_not_zero(server, insert_row, user):
    whole = insert_row(user, "whole second", "2020-01-02 03:04:05")
    fraction = insert_row(user, "fraction", "2020-01-02 03:04:05.000123")
    assert server.get("/api/thoughts/%d/" % whole).json()["timestamp"] == \
        "2020-01-02T03:04:05"
    assert server.get("/api/thoughts/%d/" % fraction).json()["timestamp"] \
        == "2020-01-02T03:04:05.000123"


def test_long_listing_arrives_whole_and_ordered(server, insert_row):
    owner = "bulk-" + uuid.uuid4().hex[:8]
    ids = [insert_row(owner, "row %d" % i) for i in range(350)]
    r = server.get("/api/thoughts/")
    assert r.status_code == 200
    listed = [t["id"] for t in r.json() if t["username"] == owner]
    assert listed == ids


def test_listings_at_batch_boundaries_are_whole(server, insert_row):
    """Rows are read 100 at a time: a listing ending at a batch's edge
    (or one row past it) must neither lose nor repeat a row."""
    owner = "edge-" + uuid.uuid4().hex[:8]
    word = "edgeword" + uuid.uuid4().hex[:8]
    ids = []
    for total in (99, 100, 101, 200, 201):
        while len(ids) < total:
            ids.append(insert_row(owner, "%s %d" % (word, len(ids))))
        r = server.get("/api/thoughts/?search=" + word)
        assert r.status_code == 200
        assert [t["id"] for t in r.json()] == ids
        everything = server.get("/api/thoughts/").json()
        assert [t["id"] for t in everything if t["username"] == owner] == ids


def test_head_answers_like_get_without_body(server):
    r = server.request("HEAD", "/api/thoughts/")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == b""


@pytest.mark.skipif(ENGINE != "sqlite", reason="bytes only SQLite accepts")
def test_invalid_utf8_inserted_by_hand_is_repaired(server, user):
    import sqlite3
    conn = sqlite3.connect(server.env["SQLITE_PATH"], timeout=10)
    with conn:
        row_id = conn.execute(
            "INSERT INTO thought_model (username, text) VALUES (?, "
            "CAST(X'6869FF21' AS TEXT))", (user,)).lastrowid
    conn.close()
    r = server.get("/api/thoughts/%d/" % row_id)
    assert r.status_code == 200
    assert r.json()["text"] == "hi\ufffd!"
