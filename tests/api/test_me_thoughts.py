"""POST and GET /api/me/thoughts/: the caller's own thoughts."""
import datetime
import json
import re

import pytest

from conftest import assert_json_error

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")
KEYS = ["id", "username", "text", "timestamp"]
PATH = "/api/me/thoughts/"


def assert_created(response, username, text):
    """A 201 whose body is the new thought, keys in the contract's order."""
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"] == "application/json"
    pairs = json.loads(response.text, object_pairs_hook=lambda p: p)
    assert [k for k, _ in pairs] == KEYS
    row = dict(pairs)
    assert isinstance(row["id"], int) and row["id"] > 0
    assert row["username"] == username
    assert row["text"] == text
    assert STAMP.match(row["timestamp"])
    stamp = datetime.datetime.fromisoformat(row["timestamp"])
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs(stamp - now) < datetime.timedelta(seconds=30)
    return row


def assert_text_error(response):
    body = assert_json_error(response, 400)
    assert set(body) == {"message", "errors"}
    assert isinstance(body["errors"]["text"], str) and body["errors"]["text"]
    return body


def stored(server, row):
    """The row as GET /api/thoughts/{id}/ serves it now."""
    r = server.get("/api/thoughts/%d/" % row["id"])
    assert r.status_code == 200, r.text
    return r.json()


# ---- creating ----------------------------------------------------------

def test_create_from_json_body(server, keys, user):
    r = server.post(PATH, json={"text": "from a JSON body"},
                    headers=keys.header(user))
    row = assert_created(r, user, "from a JSON body")
    assert stored(server, row) == row


def test_create_json_with_charset_and_odd_case_media_type(server, keys, user):
    headers = keys.header(user)
    headers["Content-Type"] = "Application/JSON; charset=utf-8"
    r = server.post(PATH, data=json.dumps({"text": "typed loosely"}),
                    headers=headers)
    assert_created(r, user, "typed loosely")


def test_create_from_urlencoded_form(server, keys, user):
    r = server.post(PATH, data={"text": "from a form & more"},
                    headers=keys.header(user))
    row = assert_created(r, user, "from a form & more")
    assert stored(server, row) == row


def test_create_from_multipart_form(server, keys, user):
    r = server.post(PATH, files={"text": (None, "from multipart")},
                    headers=keys.header(user))
    assert r.request.headers["Content-Type"].startswith(
        "multipart/form-data")
    row = assert_created(r, user, "from multipart")
    assert stored(server, row) == row


def test_create_from_query_string_when_no_body(server, keys, user):
    r = server.post(PATH, params={"text": "from the query string"},
                    headers=keys.header(user))
    row = assert_created(r, user, "from the query string")
    assert stored(server, row) == row


def test_body_wins_over_query_string(server, keys, user):
    r = server.post(PATH, params={"text": "query"}, json={"text": "body"},
                    headers=keys.header(user))
    assert_created(r, user, "body")


def test_username_comes_from_the_token_not_the_body(server, keys, user):
    r = server.post(PATH, json={"text": "who am I", "username": "mallory"},
                    headers=keys.header(user))
    assert_created(r, user, "who am I")


def test_ids_increase(server, keys, user):
    first = server.post(PATH, json={"text": "one"}, headers=keys.header(user))
    second = server.post(PATH, json={"text": "two"},
                         headers=keys.header(user))
    assert second.json()["id"] > first.json()["id"]


def test_create_without_token_is_401(server):
    r = server.post(PATH, json={"text": "anonymous"})
    assert_json_error(r, 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("kwargs", [
    {"data": "{not json", "headers": {"Content-Type": "application/json"}},
    {"json": {"text": ""}},
    {"json": {"text": "x" * 251}},
    {"json": [1, 2]},
    {},
])
def test_token_is_checked_before_the_body(server, kwargs):
    r = server.post(PATH, **kwargs)
    assert_json_error(r, 401)
    assert "errors" not in r.json()


def test_bad_token_is_checked_before_the_body(server, keys):
    headers = {"Authorization": "Bearer not.a.token",
               "Content-Type": "application/json"}
    r = server.post(PATH, data="{not json", headers=headers)
    assert_json_error(r, 401)


# ---- listing mine ------------------------------------------------------

def test_list_mine_has_only_mine_ordered_by_id(server, keys, user):
    other = user + "-other"
    mine = []
    for i in range(3):
        mine.append(server.post(PATH, json={"text": "mine %d" % i},
                                headers=keys.header(user)).json())
        server.post(PATH, json={"text": "theirs %d" % i},
                    headers=keys.header(other))
    r = server.get(PATH, headers=keys.header(user))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == mine
    for row in json.loads(r.text, object_pairs_hook=lambda p: p):
        assert [k for k, _ in row] == KEYS


def test_list_mine_is_empty_for_a_new_user(server, keys, user):
    r = server.get(PATH, headers=keys.header(user))
    assert r.status_code == 200
    assert r.json() == []


def test_list_mine_ignores_search(server, keys, user):
    a = server.post(PATH, json={"text": "apple"}, headers=keys.header(user))
    b = server.post(PATH, json={"text": "banana"}, headers=keys.header(user))
    r = server.get(PATH, params={"search": "apple"},
                   headers=keys.header(user))
    assert r.status_code == 200
    assert [t["id"] for t in r.json()] == [a.json()["id"], b.json()["id"]]


def test_list_mine_without_token_is_401(server):
    r = server.get(PATH)
    assert_json_error(r, 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"


# ---- text rules --------------------------------------------------------

def test_text_missing(server, keys, user):
    r = server.post(PATH, json={"other": "field"}, headers=keys.header(user))
    assert_text_error(r)


def test_text_missing_everywhere(server, keys, user):
    assert_text_error(server.post(PATH, headers=keys.header(user)))


def test_text_missing_in_form(server, keys, user):
    r = server.post(PATH, data={"other": "field"}, headers=keys.header(user))
    assert_text_error(r)


@pytest.mark.parametrize("kwargs", [
    {"json": {"text": ""}},
    {"data": {"text": ""}},
    {"params": {"text": ""}},
])
def test_text_empty(server, keys, user, kwargs):
    assert_text_error(server.post(PATH, headers=keys.header(user), **kwargs))


@pytest.mark.parametrize("value", [5, 1.5, True, None, ["a"], {"a": "b"}])
def test_text_not_a_string(server, keys, user, value):
    r = server.post(PATH, json={"text": value}, headers=keys.header(user))
    assert_text_error(r)


def test_text_of_251_code_points_is_too_long(server, keys, user):
    r = server.post(PATH, json={"text": "a" * 251},
                    headers=keys.header(user))
    assert_text_error(r)
    r = server.post(PATH, data={"text": "é" * 251},
                    headers=keys.header(user))
    assert_text_error(r)
    listed = server.get(PATH, headers=keys.header(user)).json()
    assert listed == []


@pytest.mark.parametrize("text", [
    "a" * 250,
    "é" * 250,           # two bytes each: 500 bytes
    "思" * 250,           # three bytes each
    "\U0001F914" * 250,  # four bytes each: 1000 bytes
])
def test_text_of_250_code_points_is_accepted(server, keys, user, text):
    r = server.post(PATH, json={"text": text}, headers=keys.header(user))
    row = assert_created(r, user, text)
    assert stored(server, row)["text"] == text


def test_text_with_escaped_non_ascii_in_json(server, keys, user):
    headers = keys.header(user)
    headers["Content-Type"] = "application/json"
    r = server.post(PATH, data='{"text": "caf\\u00e9 \\ud83e\\udd14"}',
                    headers=headers)
    assert_created(r, user, "café \U0001F914")


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"caf\xc3", b"\xc0\xaf",
                                 b"\xed\xa0\x80"])
def test_text_invalid_utf8_in_form_and_query(server, keys, user, raw):
    from urllib.parse import quote_from_bytes
    encoded = "text=" + quote_from_bytes(raw)
    headers = keys.header(user)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    assert_text_error(server.post(PATH, data=encoded, headers=headers))
    assert_text_error(server.post(PATH + "?" + encoded,
                                  headers=keys.header(user)))


def test_text_invalid_utf8_in_json_is_400(server, keys, user):
    headers = keys.header(user)
    headers["Content-Type"] = "application/json"
    r = server.post(PATH, data=b'{"text": "\xff\xfe"}', headers=headers)
    assert_json_error(r, 400)


def test_text_with_nul(server, keys, user):
    assert_text_error(server.post(PATH, json={"text": "a\u0000b"},
                                  headers=keys.header(user)))
    assert_text_error(server.post(PATH, data={"text": "a\u0000b"},
                                  headers=keys.header(user)))
    assert_text_error(server.post(PATH, params={"text": "a\u0000b"},
                                  headers=keys.header(user)))
    assert server.get(PATH, headers=keys.header(user)).json() == []


# ---- malformed bodies --------------------------------------------------

@pytest.mark.parametrize("body", [
    "{not json", '{"text": "unterminated', '{"text": "a"} trailing', "",
    "\ufeff{", '{"text": "a",}',
])
def test_malformed_json_is_400(server, keys, user, body):
    headers = keys.header(user)
    headers["Content-Type"] = "application/json"
    r = server.post(PATH, data=body.encode(), headers=headers)
    if body == "":
        # No body at all: the text is simply missing.
        assert_text_error(r)
    else:
        assert_json_error(r, 400)


@pytest.mark.parametrize("body", ['["text"]', '"text"', "42", "null",
                                  "true", '[{"text": "in a list"}]'])
def test_json_that_is_not_an_object_is_400(server, keys, user, body):
    headers = keys.header(user)
    headers["Content-Type"] = "application/json"
    r = server.post(PATH, data=body, headers=headers)
    # Valid JSON, so the message says what is wrong with it.
    assert "object" in assert_json_error(r, 400)["message"]
    assert server.get(PATH, headers=keys.header(user)).json() == []


# ---- the token's username ----------------------------------------------

def test_username_of_50_characters_is_accepted(server, keys):
    name = "ü" * 50
    r = server.post(PATH, json={"text": "long name"},
                    headers=keys.header(name))
    assert_created(r, name, "long name")


def test_username_over_50_characters_is_400(server, keys):
    name = "u" * 51
    for r in (server.post(PATH, json={"text": "too long a name"},
                          headers=keys.header(name)),
              server.get(PATH, headers=keys.header(name))):
        body = assert_json_error(r, 400)
        assert "username" in body["errors"]
    listed = server.get("/api/thoughts/").json()
    assert all(t["username"] != name for t in listed)
