"""DELETE /admin/thoughts/{id}/: admin tokens, and ADMIN_AUTH=off."""
import pytest

from conftest import assert_json_error


def create(server, keys, username, text):
    r = server.post("/api/me/thoughts/", json={"text": text},
                    headers=keys.header(username))
    assert r.status_code == 201, r.text
    return r.json()


def admin(keys, username="root"):
    return keys.header(username, admin=True)


def exists(server, thought_id):
    r = server.get("/api/thoughts/%d/" % thought_id)
    assert r.status_code in (200, 404), r.text
    return r.status_code == 200


def test_delete_is_204_and_the_thought_is_gone(server, keys, user):
    doomed = create(server, keys, user, "delete me")
    kept = create(server, keys, user, "keep me")
    r = server.delete("/admin/thoughts/%d/" % doomed["id"],
                      headers=admin(keys))
    assert r.status_code == 204
    assert r.content == b""
    assert not exists(server, doomed["id"])
    assert exists(server, kept["id"])
    listed = server.get("/api/me/thoughts/", headers=keys.header(user))
    assert listed.json() == [kept]
    assert doomed["id"] not in [t["id"] for t in
                                server.get("/api/thoughts/").json()]


def test_delete_absent_is_204(server, keys, user):
    row = create(server, keys, user, "twice")
    path = "/admin/thoughts/%d/" % row["id"]
    assert server.delete(path, headers=admin(keys)).status_code == 204
    assert server.delete(path, headers=admin(keys)).status_code == 204
    r = server.delete("/admin/thoughts/987654321/", headers=admin(keys))
    assert r.status_code == 204


def test_delete_id_zero_is_204(server, keys):
    r = server.delete("/admin/thoughts/0/", headers=admin(keys))
    assert r.status_code == 204


def test_delete_without_token_is_401(server, keys, user):
    row = create(server, keys, user, "protected")
    r = server.delete("/admin/thoughts/%d/" % row["id"])
    assert_json_error(r, 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert exists(server, row["id"])


def test_delete_with_invalid_token_is_401(server, keys, user):
    row = create(server, keys, user, "protected")
    for headers in ({"Authorization": "Bearer junk"},
                    keys.header("root", admin=True, lifetime=-5)):
        r = server.delete("/admin/thoughts/%d/" % row["id"], headers=headers)
        assert_json_error(r, 401)
        assert r.headers["WWW-Authenticate"] == "Bearer"
    assert exists(server, row["id"])


@pytest.mark.parametrize("claim", [None, False, "true", 1, "yes"])
def test_delete_with_non_admin_token_is_403(server, keys, user, claim):
    row = create(server, keys, user, "not yours to delete")
    headers = keys.header(user) if claim is None else \
        keys.header(user, admin=claim)
    r = server.delete("/admin/thoughts/%d/" % row["id"], headers=headers)
    assert_json_error(r, 403)
    assert exists(server, row["id"])


def test_admin_token_also_works_for_me_routes(server, keys):
    r = server.post("/api/me/thoughts/", json={"text": "admins post too"},
                    headers=admin(keys, "root-poster"))
    assert r.status_code == 201
    assert r.json()["username"] == "root-poster"


@pytest.mark.parametrize("path", ["/admin/thoughts/abc/",
                                  "/admin/thoughts/-1/",
                                  "/admin/thoughts/99999999999999999999/"])
def test_delete_bad_id_is_404(server, keys, path):
    assert_json_error(server.delete(path, headers=admin(keys)), 404)


def test_admin_auth_off_restores_open_admin(start_server, keys, user):
    srv = start_server({"ADMIN_AUTH": "off"})
    assert "ADMIN_AUTH=off" in srv.stderr()
    row = create(srv, keys, user, "open season")
    r = srv.delete("/admin/thoughts/%d/" % row["id"])
    assert r.status_code == 204
    assert not exists(srv, row["id"])

    # A token that is not an admin's, or no valid token, does not matter.
    for headers in (keys.header(user), {"Authorization": "Bearer junk"}):
        row = create(srv, keys, user, "still open")
        r = srv.delete("/admin/thoughts/%d/" % row["id"], headers=headers)
        assert r.status_code == 204
        assert not exists(srv, row["id"])

    # The /api/me/ routes still need a token.
    assert_json_error(srv.get("/api/me/thoughts/"), 401)
