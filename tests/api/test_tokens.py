"""Bearer tokens: every rule of the contract's "Tokens" section.

Each case is sent to GET /api/me/thoughts/, the simplest call that needs
a token.  A refused token is 401 with WWW-Authenticate: Bearer and a
JSON message; why it was refused may be logged, the token never.
"""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from conftest import Keys, assert_json_error, b64url, unsigned_token

PATH = "/api/me/thoughts/"


def me(server, authorization):
    headers = {} if authorization is None else {"Authorization":
                                                authorization}
    return server.get(PATH, headers=headers)


def assert_refused(response):
    assert_json_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "errors" not in response.json()


def assert_accepted(response):
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)


def hs256(payload, secret):
    """An HS256 token signed by hand (PyJWT refuses PEM keys as secrets)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    signing_input = (header + "." + body).encode()
    sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return header + "." + body + "." + b64url(sig)


def claims(username="tok-user", lifetime=3600, **extra):
    payload = {"username": username, "exp": int(time.time()) + lifetime}
    payload.update(extra)
    return payload


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory):
    return Keys(tmp_path_factory.mktemp("other-keys"))


# ---- valid tokens and the header format --------------------------------

def test_valid_token(server, keys):
    assert_accepted(me(server, "Bearer " + keys.token("tok-valid")))


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_scheme_word_is_case_insensitive(server, keys, scheme):
    assert_accepted(me(server, scheme + " " + keys.token("tok-case")))


def test_extra_spaces_around_the_token(server, keys):
    assert_accepted(me(server, "Bearer   " + keys.token("tok-sp") + "  "))


def test_no_header(server):
    assert_refused(me(server, None))


@pytest.mark.parametrize("first_admin", [True, False])
def test_two_authorization_headers_are_refused(server, keys, first_admin):
    # Which of two credentials would count is ambiguous: neither does.
    import http.client
    admin = "Bearer " + keys.token("root", admin=True)
    plain = "Bearer " + keys.token("tok-twice")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("DELETE", "/admin/thoughts/999999999/")
    for value in ((admin, plain) if first_admin else (plain, admin)):
        conn.putheader("Authorization", value)
    conn.endheaders()
    r = conn.getresponse()
    body = json.loads(r.read())
    conn.close()
    assert r.status == 401
    assert r.getheader("WWW-Authenticate") == "Bearer"
    assert body["message"]


@pytest.mark.parametrize("make", [
    lambda t: t,                       # no scheme word
    lambda t: "Bearer",                # no token
    lambda t: "Bearer ",               # empty token
    lambda t: "Basic " + t,            # another scheme
    lambda t: "Bearer" + t,            # no separator
    lambda t: "Token " + t,
    lambda t: "Bearer " + t + " " + t,  # two tokens
    lambda t: "",
])
def test_wrong_header_format(server, keys, make):
    assert_refused(me(server, make(keys.token("tok-format"))))


@pytest.mark.parametrize("token", [
    "abc", "a.b", "a.b.c", "a.b.c.d", "...", "!!.??.##",
    b64url(b"not json") + "." + b64url(b"{}") + ".c2ln",
    b64url(b"[1]") + "." + b64url(b"{}") + ".c2ln",
])
def test_undecodable_token(server, token):
    assert_refused(me(server, "Bearer " + token))


def test_token_with_padding_or_corrupted_signature(server, keys):
    good = keys.token("tok-corrupt")
    head, body, sig = good.split(".")
    assert_refused(me(server, "Bearer " + good + "="))
    flipped = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
    assert_refused(me(server, "Bearer %s.%s.%s" % (head, body, flipped)))
    assert_refused(me(server, "Bearer %s.%s." % (head, body)))


def test_payload_changed_after_signing(server, keys):
    head, _, sig = keys.token("tok-victim").split(".")
    forged = b64url(json.dumps(claims("tok-forger", admin=True)).encode())
    assert_refused(me(server, "Bearer %s.%s.%s" % (head, forged, sig)))


# ---- claims ------------------------------------------------------------

def test_no_exp(server, keys):
    token = jwt.encode({"username": "tok-noexp"}, keys.private_pem,
                       algorithm="RS256")
    assert_refused(me(server, "Bearer " + token))


def test_expired(server, keys):
    assert_refused(me(server, "Bearer " + keys.token("tok-old",
                                                     lifetime=-10)))


@pytest.mark.parametrize("exp", ["9999999999", None, True, [9999999999],
                                 {"t": 1}])
def test_exp_not_a_number(server, keys, exp):
    token = jwt.encode({"username": "tok-exp", "exp": exp},
                       keys.private_pem, algorithm="RS256")
    assert_refused(me(server, "Bearer " + token))


def test_exp_as_a_fraction_is_a_number(server, keys):
    token = jwt.encode({"username": "tok-frac", "exp": time.time() + 60.5},
                       keys.private_pem, algorithm="RS256")
    assert_accepted(me(server, "Bearer " + token))


@pytest.mark.parametrize("username", [None, "", 42, True, ["tok"],
                                      {"name": "tok"}])
def test_no_or_bad_username(server, keys, username):
    payload = {"exp": int(time.time()) + 3600}
    if username is not None:
        payload["username"] = username
    token = jwt.encode(payload, keys.private_pem, algorithm="RS256")
    assert_refused(me(server, "Bearer " + token))


def test_nbf_in_the_future_is_refused(server, keys):
    token = keys.token("tok-nbf", nbf=int(time.time()) + 600)
    assert_refused(me(server, "Bearer " + token))


def test_nbf_in_the_past_is_accepted(server, keys):
    token = keys.token("tok-nbf", nbf=int(time.time()) - 600)
    assert_accepted(me(server, "Bearer " + token))


def test_nbf_not_a_number_is_refused(server, keys):
    token = keys.token("tok-nbf", nbf="yesterday")
    assert_refused(me(server, "Bearer " + token))


@pytest.mark.parametrize("iat", ["now", True, [1], {"t": 1}])
def test_iat_not_a_number_is_refused(server, keys, iat):
    assert_refused(me(server, "Bearer " + keys.token("tok-iat", iat=iat)))


def test_iat_in_the_future_is_accepted(server, keys):
    # Issuers' clocks drift: iat is never compared with ours.
    token = keys.token("tok-iat", iat=int(time.time()) + 86400)
    assert_accepted(me(server, "Bearer " + token))


def test_iat_in_the_past_is_accepted(server, keys):
    token = keys.token("tok-iat", iat=int(time.time()) - 86400)
    assert_accepted(me(server, "Bearer " + token))


def test_unknown_claims_are_ignored(server, keys):
    token = keys.token("tok-extra", scope="read", aud="someone")
    assert_accepted(me(server, "Bearer " + token))


# ---- keys and algorithms -----------------------------------------------

def test_signed_by_another_key(server, other_keys):
    assert_refused(me(server, "Bearer " + other_keys.token("tok-other")))


def test_alg_none(server):
    token = unsigned_token({"alg": "none", "typ": "JWT"}, claims())
    assert_refused(me(server, "Bearer " + token))
    token = unsigned_token({"alg": "None"}, claims())
    assert_refused(me(server, "Bearer " + token))


def test_no_alg(server, keys):
    good = keys.token("tok-noalg")
    _, body, sig = good.split(".")
    head = b64url(json.dumps({"typ": "JWT"}).encode())
    assert_refused(me(server, "Bearer %s.%s.%s" % (head, body, sig)))


def test_hs256_with_a_shared_secret(server):
    assert_refused(me(server, "Bearer " + hs256(claims(), b"secret")))


def test_hs256_signed_with_the_public_key_pem(server, keys):
    # The classic confusion attack: the verifier's own public key used as
    # an HMAC secret.
    for secret in (keys.public_pem, keys.public_pem.strip()):
        assert_refused(me(server, "Bearer " + hs256(claims(), secret)))


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256", "PS512"])
def test_other_rsa_algorithms_with_the_right_key(server, keys, alg):
    token = jwt.encode(claims(), keys.private_pem, algorithm=alg)
    assert_refused(me(server, "Bearer " + token))


def test_rs256_header_with_crit_is_refused(server, keys):
    token = jwt.encode(claims(), keys.private_pem, algorithm="RS256",
                       headers={"crit": ["exp"]})
    assert_refused(me(server, "Bearer " + token))


def test_rs256_signature_under_another_alg_header(server, keys):
    # A genuine RS256 signature, but the header claims another algorithm.
    good = keys.token("tok-relabel")
    _, body, sig = good.split(".")
    for alg in ("RS512", "PS256", "HS256", "none"):
        head = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        assert_refused(me(server, "Bearer %s.%s.%s" % (head, body, sig)))


def test_duplicate_claims_are_refused(server, keys):
    # {"username": a, "username": b}: which one wins must not be a guess.
    head = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64url(('{"username": "a", "username": "b", "exp": %d}'
                   % (time.time() + 3600)).encode())
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    sig = keys.private.sign((head + "." + body).encode(), padding.PKCS1v15(),
                            hashes.SHA256())
    token = head + "." + body + "." + b64url(sig)
    assert_refused(me(server, "Bearer " + token))


# ---- what is logged ----------------------------------------------------

def test_tokens_never_appear_in_the_logs(server, keys, other_keys):
    tokens = [
        keys.token("tok-logged-ok"),
        keys.token("tok-logged-old", lifetime=-10),
        other_keys.token("tok-logged-other"),
        hs256(claims(), keys.public_pem),
        unsigned_token({"alg": "none"}, claims()),
    ]
    for token in tokens:
        me(server, "Bearer " + token)
        me(server, "bearer  " + token)
        me(server, token)
        server.post(PATH, json={"text": "logged?"},
                    headers={"Authorization": "Bearer " + token})
    # The last request's access line is written once it has been answered.
    last = me(server, "Bearer " + tokens[0]).headers["X-Request-ID"]
    deadline = time.monotonic() + 10
    while last not in server.stdout() and time.monotonic() < deadline:
        time.sleep(0.05)
    logs = server.stderr() + server.stdout()
    assert "401 for GET" in logs  # the reasons are logged at debug level
    for token in tokens:
        head, body, sig = token.split(".")
        for part in (body, sig):
            if len(part) >= 16:
                assert part not in logs
        assert token not in logs
    # The signatures of valid tokens must not leak in any encoding either.
    raw = base64.urlsafe_b64decode(tokens[0].split(".")[2] + "==")
    assert raw.hex() not in logs
