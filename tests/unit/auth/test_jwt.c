/*
 * Unit tests for auth/jwt: finding the token in the header, strict
 * base64url, and verification of tokens built by hand, so that every
 * rule of the contract's "Tokens" section is checked on its own: only
 * RS256, a signature by the configured key, the username and exp
 * claims, nbf, iat and the admin flag.
 */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "auth/jwt.h"

/* A fixed clock, so that expiry is exact. */
#define NOW ((time_t)1700000000)

#define RS256_HEADER "{\"alg\":\"RS256\",\"typ\":\"JWT\"}"

struct keys {
    EVP_PKEY *key;   /* the configured key */
    EVP_PKEY *other; /* a stranger's key */
};

static int keys_setup(void **state)
{
    struct keys *k = calloc(1, sizeof(*k));

    if (k == NULL)
        return -1;
    k->key = EVP_RSA_gen(2048);
    k->other = EVP_RSA_gen(2048);
    if (k->key == NULL || k->other == NULL)
        return -1;
    *state = k;
    return 0;
}

static int keys_teardown(void **state)
{
    struct keys *k = *state;

    EVP_PKEY_free(k->key);
    EVP_PKEY_free(k->other);
    free(k);
    return 0;
}

static char *b64(const char *text)
{
    return jwt_b64url_encode((const unsigned char *)text, strlen(text));
}

/* "a.b" in a malloc'd string. */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + 1 + strlen(b) + 1;
    char *out = malloc(n);

    assert_non_null(out);
    snprintf(out, n, "%s.%s", a, b);
    return out;
}

/*
 * header.payload signed with `key` and `md` exactly as a real issuer
 * would, so that only the rule under test can make verification fail.
 */
static char *make_token_md(EVP_PKEY *key, const EVP_MD *md, const char *header,
                           const char *payload)
{
    char *h = b64(header);
    char *p = b64(payload);
    char *input = join(h, p);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = (size_t)EVP_PKEY_get_size(key);
    unsigned char *sig = malloc(sig_len);

    assert_non_null(ctx);
    assert_non_null(sig);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len,
                                    (const unsigned char *)input,
                                    strlen(input)),
                     1);
    char *s = jwt_b64url_encode(sig, sig_len);
    char *token = join(input, s);

    EVP_MD_CTX_free(ctx);
    free(sig);
    free(s);
    free(input);
    free(p);
    free(h);
    return token;
}

static char *make_token(EVP_PKEY *key, const char *payload)
{
    return make_token_md(key, EVP_sha256(), RS256_HEADER, payload);
}

/* A token whose signature part is given as text, not computed. */
static char *make_unsigned(const char *header, const char *payload,
                           const char *sig)
{
    char *h = b64(header);
    char *p = b64(payload);
    char *input = join(h, p);
    char *token = join(input, sig);

    free(input);
    free(p);
    free(h);
    return token;
}

static enum jwt_result verify(EVP_PKEY *key, const char *token,
                              struct jwt_claims *claims)
{
    return jwt_verify(key, token, strlen(token), NOW, claims);
}

/* Verifies and checks that a failure leaves no claims behind. */
static void assert_verify(EVP_PKEY *key, const char *token,
                          enum jwt_result expect)
{
    struct jwt_claims claims = {(char *)"stale", true};
    enum jwt_result r = verify(key, token, &claims);

    if (r != expect)
        fail_msg("got \"%s\", expected \"%s\"", jwt_result_describe(r),
                 jwt_result_describe(expect));
    if (r != JWT_OK) {
        assert_null(claims.username);
        assert_false(claims.admin);
    }
    jwt_claims_free(&claims);
}

/* Signs payload with the configured key and expects `expect`. */
static void assert_payload(struct keys *k, const char *payload,
                           enum jwt_result expect)
{
    char *token = make_token(k->key, payload);

    assert_verify(k->key, token, expect);
    free(token);
}

static void assert_bearer(const char *header, const char *expect)
{
    const char *token = NULL;
    size_t len = 0;

    assert_int_equal(jwt_from_header(header, &token, &len), JWT_OK);
    assert_non_null(token);
    assert_int_equal(len, strlen(expect));
    assert_memory_equal(token, expect, len);
}

static void test_header_bearer_any_case(void **state)
{
    (void)state;
    assert_bearer("Bearer abc.def.ghi", "abc.def.ghi");
    assert_bearer("bearer abc.def.ghi", "abc.def.ghi");
    assert_bearer("BEARER abc.def.ghi", "abc.def.ghi");
    assert_bearer("bEaReR abc.def.ghi", "abc.def.ghi");
}

static void test_header_spaces_around_token(void **state)
{
    (void)state;
    assert_bearer("Bearer    abc", "abc");
    assert_bearer("Bearer\tabc", "abc");
    assert_bearer("Bearer abc  ", "abc");
}

static void test_header_missing(void **state)
{
    (void)state;
    const char *token = NULL;
    size_t len = 0;

    assert_int_equal(jwt_from_header(NULL, &token, &len), JWT_NO_HEADER);
}

static void test_header_bad_scheme(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",           "Bearer",    "Bearer ",
        "Bearer    ", "Bearerabc", "Basic dXNlcjpwdw==",
        "Token abc",  "JWT abc",   " Bearer abc",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *token = NULL;
        size_t len = 0;
        if (jwt_from_header(bad[i], &token, &len) != JWT_BAD_SCHEME)
            fail_msg("header \"%s\" was not refused as a bad scheme", bad[i]);
    }
}

static void assert_encodes(const void *data, size_t len, const char *expect)
{
    char *text = jwt_b64url_encode(data, len);

    assert_non_null(text);
    assert_string_equal(text, expect);
    free(text);
}

static void test_b64url_encode_vectors(void **state)
{
    (void)state;
    assert_encodes("", 0, "");
    assert_encodes("f", 1, "Zg");
    assert_encodes("fo", 2, "Zm8");
    assert_encodes("foo", 3, "Zm9v");
    assert_encodes("foob", 4, "Zm9vYg");
    /* The URL-safe alphabet replaces '+' and '/'. */
    assert_encodes("\xfb\xff", 2, "-_8");
    assert_encodes("\xfb\xef\xbe", 3, "----");
    assert_encodes("\xff\xff\xff", 3, "____");
}

static void test_b64url_round_trip(void **state)
{
    (void)state;
    unsigned char data[260];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(data); len++) {
        char *text = jwt_b64url_encode(data, len);
        size_t out_len = 0;

        assert_non_null(text);
        assert_null(strchr(text, '='));
        assert_null(strchr(text, '+'));
        assert_null(strchr(text, '/'));
        unsigned char *back = jwt_b64url_decode(text, strlen(text), &out_len);
        assert_non_null(back);
        assert_int_equal(out_len, len);
        if (len > 0)
            assert_memory_equal(back, data, len);
        free(back);
        free(text);
    }
}

static void test_b64url_decode_reads_only_len(void **state)
{
    (void)state;
    size_t out_len = 0;
    unsigned char *out = jwt_b64url_decode("Zm9v.rest", 4, &out_len);

    assert_non_null(out);
    assert_int_equal(out_len, 3);
    assert_memory_equal(out, "foo", 3);
    free(out);
}

static void test_b64url_decode_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg==", "Zm8=",  "Zm9v=",  "Zm+v",  "Zm/v",
        "+/8",  "Zm 9v", "Zm9v\n", " Zm9v", "Zm\t9",
        "Z",    "Zm9vY", "Zm9v!",  "Zm.v",  "Zm\xc3\xa9",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t out_len = 0;
        unsigned char *out =
            jwt_b64url_decode(bad[i], strlen(bad[i]), &out_len);
        if (out != NULL) {
            free(out);
            fail_msg("\"%s\" was decoded", bad[i]);
        }
    }

    size_t out_len = 0;
    assert_null(jwt_b64url_decode("Zm\0v", 4, &out_len));
}

static void test_sign_verify_round_trip(void **state)
{
    struct keys *k = *state;
    char *token = jwt_sign(k->key, "peterparker", false, NOW, 3600);
    struct jwt_claims claims;

    assert_non_null(token);
    assert_int_equal(verify(k->key, token, &claims), JWT_OK);
    assert_string_equal(claims.username, "peterparker");
    assert_false(claims.admin);
    jwt_claims_free(&claims);
    assert_null(claims.username);
    free(token);
}

static void test_sign_admin_round_trip(void **state)
{
    struct keys *k = *state;
    char *token = jwt_sign(k->key, "nickfury", true, NOW, 60);
    struct jwt_claims claims;

    assert_non_null(token);
    assert_int_equal(verify(k->key, token, &claims), JWT_OK);
    assert_string_equal(claims.username, "nickfury");
    assert_true(claims.admin);
    jwt_claims_free(&claims);
    free(token);
}

/* A token from the header is verified by its length, not its NUL. */
static void test_verify_token_from_header(void **state)
{
    struct keys *k = *state;
    char *token = jwt_sign(k->key, "peterparker", false, NOW, 60);
    char header[2048];
    const char *found;
    size_t len;
    struct jwt_claims claims;

    snprintf(header, sizeof(header), "Bearer %s   ", token);
    assert_int_equal(jwt_from_header(header, &found, &len), JWT_OK);
    assert_int_equal(jwt_verify(k->key, found, len, NOW, &claims), JWT_OK);
    assert_string_equal(claims.username, "peterparker");
    jwt_claims_free(&claims);
    free(token);
}

static void test_signed_token_expires(void **state)
{
    struct keys *k = *state;
    char *token = jwt_sign(k->key, "peterparker", false, NOW, 60);
    struct jwt_claims claims;
    size_t len = strlen(token);

    assert_int_equal(jwt_verify(k->key, token, len, NOW + 59, &claims), JWT_OK);
    jwt_claims_free(&claims);
    assert_int_equal(jwt_verify(k->key, token, len, NOW + 60, &claims),
                     JWT_EXPIRED);
    assert_int_equal(jwt_verify(k->key, token, len, NOW + 100000, &claims),
                     JWT_EXPIRED);
    free(token);
}

static void test_other_key_is_bad_signature(void **state)
{
    struct keys *k = *state;
    char *token = jwt_sign(k->other, "peterparker", true, NOW, 60);

    assert_verify(k->key, token, JWT_BAD_SIGNATURE);
    free(token);
}

/* Swapping in another payload must break the signature over the first. */
static void test_tampered_payload(void **state)
{
    struct keys *k = *state;
    char *token =
        make_token(k->key, "{\"username\":\"peterparker\",\"exp\":1800000000}");
    char *forged = b64("{\"username\":\"peterparker\",\"exp\":1800000000,"
                       "\"admin\":true}");
    const char *dot1 = strchr(token, '.');
    const char *dot2 = strchr(dot1 + 1, '.');
    size_t n = strlen(token) + strlen(forged) + 1;
    char *tampered = malloc(n);

    assert_non_null(tampered);
    snprintf(tampered, n, "%.*s.%s%s", (int)(dot1 - token), token, forged,
             dot2);
    assert_verify(k->key, token, JWT_OK);
    assert_verify(k->key, tampered, JWT_BAD_SIGNATURE);
    free(tampered);
    free(forged);
    free(token);
}

static void test_tampered_signature(void **state)
{
    struct keys *k = *state;
    char *token = jwt_sign(k->key, "peterparker", false, NOW, 60);
    char *sig = strrchr(token, '.') + 1;
    size_t mid = strlen(sig) / 2;

    sig[mid] = sig[mid] == 'A' ? 'B' : 'A';
    assert_verify(k->key, token, JWT_BAD_SIGNATURE);
    free(token);
}

static void test_truncated_signature(void **state)
{
    struct keys *k = *state;
    char *token = jwt_sign(k->key, "peterparker", false, NOW, 60);
    size_t len = strlen(token);
    struct jwt_claims claims;

    /* Dropping four characters keeps valid base64url but loses 3 bytes. */
    assert_int_not_equal(jwt_verify(k->key, token, len - 4, NOW, &claims),
                         JWT_OK);
    assert_null(claims.username);
    free(token);
}

#define GOOD_PAYLOAD "{\"username\":\"peterparker\",\"exp\":1800000000}"

static void test_alg_none_rejected(void **state)
{
    struct keys *k = *state;
    char *token =
        make_unsigned("{\"alg\":\"none\",\"typ\":\"JWT\"}", GOOD_PAYLOAD, "");
    char *no_alg = make_unsigned("{\"typ\":\"JWT\"}", GOOD_PAYLOAD, "");

    assert_verify(k->key, token, JWT_BAD_ALGORITHM);
    assert_verify(k->key, no_alg, JWT_BAD_ALGORITHM);
    free(no_alg);
    free(token);
}

/* An HMAC token, as if the public key were taken for a shared secret. */
static void test_hs256_rejected(void **state)
{
    struct keys *k = *state;
    char *token =
        make_unsigned("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", GOOD_PAYLOAD,
                      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");

    assert_verify(k->key, token, JWT_BAD_ALGORITHM);
    free(token);
}

/* Validly signed by the right key, but with another algorithm. */
static void test_rs512_and_ps256_rejected(void **state)
{
    struct keys *k = *state;
    char *rs512 =
        make_token_md(k->key, EVP_sha512(),
                      "{\"alg\":\"RS512\",\"typ\":\"JWT\"}", GOOD_PAYLOAD);
    char *ps256 =
        make_token_md(k->key, EVP_sha256(),
                      "{\"alg\":\"PS256\",\"typ\":\"JWT\"}", GOOD_PAYLOAD);

    assert_verify(k->key, rs512, JWT_BAD_ALGORITHM);
    assert_verify(k->key, ps256, JWT_BAD_ALGORITHM);
    free(ps256);
    free(rs512);
}

static void test_alg_spelling_and_type(void **state)
{
    struct keys *k = *state;
    static const char *const headers[] = {
        "{\"alg\":\"rs256\"}",
        "{\"alg\":\"RS256 \"}",
        "{\"alg\":[\"RS256\"]}",
        "{\"alg\":null}",
        "{\"alg\":\"RS256\",\"crit\":[\"exp\"]}",
    };

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *token =
            make_token_md(k->key, EVP_sha256(), headers[i], GOOD_PAYLOAD);
        struct jwt_claims claims;
        enum jwt_result r = verify(k->key, token, &claims);
        if (r != JWT_BAD_ALGORITHM)
            fail_msg("header %s: got \"%s\"", headers[i],
                     jwt_result_describe(r));
        free(token);
    }
}

/* A header with only "alg" is enough; "typ" is not required. */
static void test_header_without_typ(void **state)
{
    struct keys *k = *state;
    char *token = make_token_md(k->key, EVP_sha256(), "{\"alg\":\"RS256\"}",
                                GOOD_PAYLOAD);

    assert_verify(k->key, token, JWT_OK);
    free(token);
}

static void test_expired(void **state)
{
    struct keys *k = *state;

    assert_payload(k, "{\"username\":\"u\",\"exp\":1699999999}", JWT_EXPIRED);
    assert_payload(k, "{\"username\":\"u\",\"exp\":1700000000}", JWT_EXPIRED);
    assert_payload(k, "{\"username\":\"u\",\"exp\":1700000001}", JWT_OK);
    assert_payload(k, "{\"username\":\"u\",\"exp\":1700000000.5}", JWT_OK);
}

static void test_nbf(void **state)
{
    struct keys *k = *state;

    assert_payload(k,
                   "{\"username\":\"u\",\"exp\":1800000000,"
                   "\"nbf\":1700000100}",
                   JWT_NOT_YET_VALID);
    assert_payload(k,
                   "{\"username\":\"u\",\"exp\":1800000000,"
                   "\"nbf\":1700000000}",
                   JWT_OK);
    assert_payload(k,
                   "{\"username\":\"u\",\"exp\":1800000000,"
                   "\"nbf\":1600000000}",
                   JWT_OK);
}

static void test_bad_claims(void **state)
{
    struct keys *k = *state;
    static const char *const payloads[] = {
        "{\"exp\":1800000000}",
        "{\"username\":\"\",\"exp\":1800000000}",
        "{\"username\":42,\"exp\":1800000000}",
        "{\"username\":null,\"exp\":1800000000}",
        "{\"username\":[\"u\"],\"exp\":1800000000}",
        "{\"username\":\"u\"}",
        "{\"username\":\"u\",\"exp\":\"1800000000\"}",
        "{\"username\":\"u\",\"exp\":null}",
        "{\"username\":\"u\",\"exp\":true}",
        "{\"username\":\"u\",\"exp\":1800000000,\"iat\":\"1700000000\"}",
        "{\"username\":\"u\",\"exp\":1800000000,\"iat\":null}",
        "{\"username\":\"u\",\"exp\":1800000000,\"nbf\":\"0\"}",
        "{}",
    };

    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char *token = make_token(k->key, payloads[i]);
        struct jwt_claims claims;
        enum jwt_result r = verify(k->key, token, &claims);
        if (r != JWT_BAD_CLAIMS)
            fail_msg("payload %s: got \"%s\"", payloads[i],
                     jwt_result_describe(r));
        assert_null(claims.username);
        free(token);
    }
}

/* Issuers' clocks drift, so iat is not compared with ours. */
static void test_iat_in_future_accepted(void **state)
{
    struct keys *k = *state;

    assert_payload(k,
                   "{\"username\":\"u\",\"exp\":1800000000,"
                   "\"iat\":1750000000}",
                   JWT_OK);
    assert_payload(k,
                   "{\"username\":\"u\",\"exp\":1800000000,"
                   "\"iat\":1600000000.25}",
                   JWT_OK);
}

static void assert_admin(struct keys *k, const char *admin, bool expect)
{
    char payload[200];
    struct jwt_claims claims;

    snprintf(payload, sizeof(payload),
             "{\"username\":\"u\",\"exp\":1800000000,\"admin\":%s}", admin);
    char *token = make_token(k->key, payload);
    assert_int_equal(verify(k->key, token, &claims), JWT_OK);
    if (claims.admin != expect)
        fail_msg("\"admin\":%s gave admin=%d", admin, claims.admin);
    jwt_claims_free(&claims);
    free(token);
}

static void test_admin_only_for_json_true(void **state)
{
    struct keys *k = *state;

    assert_admin(k, "true", true);
    assert_admin(k, "false", false);
    assert_admin(k, "\"true\"", false);
    assert_admin(k, "1", false);
    assert_admin(k, "null", false);
    assert_admin(k, "[true]", false);
    assert_admin(k, "{}", false);
}

static void test_username_kept_exactly(void **state)
{
    struct keys *k = *state;
    struct jwt_claims claims;
    char *token =
        make_token(k->key, "{\"username\":\"\\u00e9l\\u00e8ve \\\"x\\\"\","
                           "\"exp\":1800000000}");

    assert_int_equal(verify(k->key, token, &claims), JWT_OK);
    assert_string_equal(claims.username, "élève \"x\"");
    jwt_claims_free(&claims);
    free(token);
}

/* Two values for one claim leave it ambiguous which one was meant. */
static void test_duplicate_claim_refused(void **state)
{
    struct keys *k = *state;
    char *token = make_token(k->key, "{\"username\":\"u\",\"exp\":1800000000,"
                                     "\"username\":\"admin\"}");
    struct jwt_claims claims;

    assert_int_not_equal(verify(k->key, token, &claims), JWT_OK);
    assert_null(claims.username);
    free(token);
}

static void test_malformed_parts(void **state)
{
    struct keys *k = *state;
    char *good = jwt_sign(k->key, "peterparker", false, NOW, 60);
    char *four = join(good, "AAAA");
    const char *dot2 = strrchr(good, '.');
    char *two = strndup(good, (size_t)(dot2 - good));

    assert_non_null(two);
    assert_verify(k->key, "", JWT_MALFORMED);
    assert_verify(k->key, "abc", JWT_MALFORMED);
    assert_verify(k->key, "..", JWT_MALFORMED);
    assert_verify(k->key, two, JWT_MALFORMED);
    assert_verify(k->key, four, JWT_MALFORMED);
    free(two);
    free(four);
    free(good);
}

static void test_malformed_base64(void **state)
{
    struct keys *k = *state;
    char *good = jwt_sign(k->key, "peterparker", false, NOW, 60);
    const char *dot1 = strchr(good, '.');
    size_t n = strlen(good) + 8;
    char *bad_header = malloc(n);
    char *bad_sig = malloc(n);

    assert_non_null(bad_header);
    assert_non_null(bad_sig);
    snprintf(bad_header, n, "eyJhbGciOiJSUzI1NiJ9=%s", dot1);
    snprintf(bad_sig, n, "%s", good);
    strrchr(bad_sig, '.')[1] = '*';

    assert_verify(k->key, "!!!.eyJ1IjoxfQ.AAAA", JWT_MALFORMED);
    assert_verify(k->key, bad_header, JWT_MALFORMED);
    assert_verify(k->key, bad_sig, JWT_MALFORMED);
    free(bad_sig);
    free(bad_header);
    free(good);
}

static void test_header_not_json_object(void **state)
{
    struct keys *k = *state;
    static const char *const headers[] = {
        "[\"RS256\"]", "\"RS256\"", "42", "null", "not json", "{\"alg\":", "",
    };

    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *token =
            make_token_md(k->key, EVP_sha256(), headers[i], GOOD_PAYLOAD);
        struct jwt_claims claims;
        enum jwt_result r = verify(k->key, token, &claims);
        if (r != JWT_MALFORMED)
            fail_msg("header '%s': got \"%s\"", headers[i],
                     jwt_result_describe(r));
        free(token);
    }
}

/* A correctly signed payload that is not a JSON object. */
static void test_payload_not_json_object(void **state)
{
    struct keys *k = *state;
    static const char *const payloads[] = {
        "[1,2]", "\"peterparker\"", "not json", "{\"username\":", "",
    };

    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char *token = make_token(k->key, payloads[i]);
        struct jwt_claims claims;
        enum jwt_result r = verify(k->key, token, &claims);
        if (r != JWT_MALFORMED)
            fail_msg("payload '%s': got \"%s\"", payloads[i],
                     jwt_result_describe(r));
        free(token);
    }
}

static void test_describe_every_result(void **state)
{
    (void)state;
    for (int r = JWT_OK; r <= JWT_BAD_CLAIMS; r++) {
        const char *text = jwt_result_describe((enum jwt_result)r);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
    }
    assert_string_not_equal(jwt_result_describe(JWT_EXPIRED),
                            jwt_result_describe(JWT_BAD_SIGNATURE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_bearer_any_case),
        cmocka_unit_test(test_header_spaces_around_token),
        cmocka_unit_test(test_header_missing),
        cmocka_unit_test(test_header_bad_scheme),
        cmocka_unit_test(test_b64url_encode_vectors),
        cmocka_unit_test(test_b64url_round_trip),
        cmocka_unit_test(test_b64url_decode_reads_only_len),
        cmocka_unit_test(test_b64url_decode_rejects),
        cmocka_unit_test(test_sign_verify_round_trip),
        cmocka_unit_test(test_sign_admin_round_trip),
        cmocka_unit_test(test_verify_token_from_header),
        cmocka_unit_test(test_signed_token_expires),
        cmocka_unit_test(test_other_key_is_bad_signature),
        cmocka_unit_test(test_tampered_payload),
        cmocka_unit_test(test_tampered_signature),
        cmocka_unit_test(test_truncated_signature),
        cmocka_unit_test(test_alg_none_rejected),
        cmocka_unit_test(test_hs256_rejected),
        cmocka_unit_test(test_rs512_and_ps256_rejected),
        cmocka_unit_test(test_alg_spelling_and_type),
        cmocka_unit_test(test_header_without_typ),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_nbf),
        cmocka_unit_test(test_bad_claims),
        cmocka_unit_test(test_iat_in_future_accepted),
        cmocka_unit_test(test_admin_only_for_json_true),
        cmocka_unit_test(test_username_kept_exactly),
        cmocka_unit_test(test_duplicate_claim_refused),
        cmocka_unit_test(test_malformed_parts),
        cmocka_unit_test(test_malformed_base64),
        cmocka_unit_test(test_header_not_json_object),
        cmocka_unit_test(test_payload_not_json_object),
        cmocka_unit_test(test_describe_every_result),
    };

    return cmocka_run_group_tests(tests, keys_setup, keys_teardown);
}
