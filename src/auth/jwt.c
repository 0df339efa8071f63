/* jwt: strict RS256 verification and signing with OpenSSL and jansson. */
#include "auth/jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/xalloc.h"

const char *jwt_result_describe(enum jwt_result result)
{
    switch (result) {
    case JWT_OK:
        return "valid";
    case JWT_NO_HEADER:
        return "no Authorization header";
    case JWT_BAD_SCHEME:
        return "Authorization header is not 'Bearer <token>'";
    case JWT_MALFORMED:
        return "token cannot be decoded";
    case JWT_BAD_ALGORITHM:
        return "token algorithm is not RS256";
    case JWT_BAD_SIGNATURE:
        return "token signature does not verify";
    case JWT_EXPIRED:
        return "token has expired";
    case JWT_NOT_YET_VALID:
        return "token is not valid yet";
    case JWT_BAD_CLAIMS:
        return "token lacks a valid username or exp claim";
    }
    return "token is invalid";
}

enum jwt_result jwt_from_header(const char *header, const char **token,
                                size_t *token_len)
{
    if (header == NULL)
        return JWT_NO_HEADER;
    if (strncasecmp(header, "Bearer", 6) != 0 ||
        (header[6] != ' ' && header[6] != '\t'))
        return JWT_BAD_SCHEME;

    const char *p = header + 6;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end == p)
        return JWT_BAD_SCHEME;
    *token = p;
    *token_len = (size_t)(end - p);
    return JWT_OK;
}

char *jwt_b64url_encode(const unsigned char *data, size_t len)
{
    char *out = xmalloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);

    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *p = out; *p != '\0'; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    return out;
}

unsigned char *jwt_b64url_decode(const char *text, size_t len, size_t *out_len)
{
    if (len % 4 == 1 || len > (1u << 20))
        return NULL;

    /* Translate to standard base64 with padding, checking the alphabet. */
    size_t pad = (4 - len % 4) % 4;
    char *std = xmalloc(len + pad + 1);
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9'))) {
            free(std);
            return NULL;
        }
        std[i] = c;
    }
    memset(std + len, '=', pad);
    std[len + pad] = '\0';

    unsigned char *out = xmalloc((len + pad) / 4 * 3 + 1);
    int n = EVP_DecodeBlock(out, (unsigned char *)std, (int)(len + pad));
    free(std);
    if (n < 0) {
        free(out);
        return NULL;
    }
    *out_len = (size_t)n - pad;
    return out;
}

/* Decodes one base64url segment holding a JSON object. */
static json_t *decode_json_part(const char *text, size_t len)
{
    size_t raw_len;
    unsigned char *raw = jwt_b64url_decode(text, len, &raw_len);

    if (raw == NULL)
        return NULL;
    json_t *obj =
        json_loadb((const char *)raw, raw_len, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    if (obj != NULL && !json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/*
 * Only RS256 is accepted, and a header that asks for extensions we do
 * not implement ("crit") is refused rather than ignored.
 */
static enum jwt_result check_header(const char *text, size_t len)
{
    json_t *header = decode_json_part(text, len);

    if (header == NULL)
        return JWT_MALFORMED;
    const char *alg = json_string_value(json_object_get(header, "alg"));
    enum jwt_result r = JWT_OK;
    if (alg == NULL || strcmp(alg, "RS256") != 0 ||
        json_object_get(header, "crit") != NULL)
        r = JWT_BAD_ALGORITHM;
    json_decref(header);
    return r;
}

static enum jwt_result check_signature(EVP_PKEY *key, const char *input,
                                       size_t input_len, const char *sig_text,
                                       size_t sig_text_len)
{
    size_t sig_len;
    unsigned char *sig = jwt_b64url_decode(sig_text, sig_text_len, &sig_len);

    if (sig == NULL)
        return JWT_MALFORMED;

    enum jwt_result r = JWT_BAD_SIGNATURE;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx != NULL && sig_len == (size_t)EVP_PKEY_get_size(key) &&
        EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input,
                         input_len) == 1)
        r = JWT_OK;
    EVP_MD_CTX_free(ctx);
    free(sig);
    return r;
}

static enum jwt_result check_claims(json_t *payload, time_t now,
                                    struct jwt_claims *claims)
{
    json_t *username = json_object_get(payload, "username");
    json_t *exp = json_object_get(payload, "exp");
    json_t *nbf = json_object_get(payload, "nbf");
    json_t *iat = json_object_get(payload, "iat");

    if (!json_is_string(username) || json_string_length(username) == 0 ||
        !json_is_number(exp) || (iat != NULL && !json_is_number(iat)) ||
        (nbf != NULL && !json_is_number(nbf)))
        return JWT_BAD_CLAIMS;
    if (json_number_value(exp) <= (double)now)
        return JWT_EXPIRED;
    if (nbf != NULL && json_number_value(nbf) > (double)now)
        return JWT_NOT_YET_VALID;

    claims->username =
        xstrndup(json_string_value(username), json_string_length(username));
    claims->admin = json_is_true(json_object_get(payload, "admin"));
    return JWT_OK;
}

enum jwt_result jwt_verify(EVP_PKEY *key, const char *token, size_t len,
                           time_t now, struct jwt_claims *claims)
{
    memset(claims, 0, sizeof(*claims));

    const char *dot1 = memchr(token, '.', len);
    if (dot1 == NULL)
        return JWT_MALFORMED;
    const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (dot2 == NULL)
        return JWT_MALFORMED;
    const char *sig = dot2 + 1;
    size_t sig_len = len - (size_t)(sig - token);
    if (memchr(sig, '.', sig_len) != NULL)
        return JWT_MALFORMED;

    enum jwt_result r = check_header(token, (size_t)(dot1 - token));
    if (r != JWT_OK)
        return r;
    r = check_signature(key, token, (size_t)(dot2 - token), sig, sig_len);
    if (r != JWT_OK)
        return r;

    json_t *payload = decode_json_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (payload == NULL)
        return JWT_MALFORMED;
    r = check_claims(payload, now, claims);
    json_decref(payload);
    return r;
}

void jwt_claims_free(struct jwt_claims *claims)
{
    free(claims->username);
    claims->username = NULL;
}

/* Encodes a JSON value compactly as one base64url segment. */
static char *encode_json_part(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);

    if (text == NULL)
        xalloc_die(0);
    char *part = jwt_b64url_encode((unsigned char *)text, strlen(text));
    free(text);
    return part;
}

char *jwt_sign_input(EVP_PKEY *key, const char *input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = (size_t)EVP_PKEY_get_size(key);
    unsigned char *sig = xmalloc(sig_len);
    char *out = NULL;

    if (ctx != NULL &&
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)input,
                       strlen(input)) == 1)
        out = jwt_b64url_encode(sig, sig_len);
    EVP_MD_CTX_free(ctx);
    free(sig);
    return out;
}

char *jwt_sign(EVP_PKEY *key, const char *username, bool admin, time_t now,
               long ttl)
{
    json_t *header = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
    json_t *payload =
        json_pack("{s:s, s:I, s:I}", "username", username, "iat",
                  (json_int_t)now, "exp", (json_int_t)(now + ttl));
    if (header == NULL || payload == NULL) {
        json_decref(header);
        json_decref(payload);
        return NULL;
    }
    if (admin)
        json_object_set_new(payload, "admin", json_true());

    char *h = encode_json_part(header);
    char *p = encode_json_part(payload);
    json_decref(header);
    json_decref(payload);

    size_t input_len = strlen(h) + 1 + strlen(p);
    char *input = xmalloc(input_len + 1);
    snprintf(input, input_len + 1, "%s.%s", h, p);
    free(h);
    free(p);

    char *sig = jwt_sign_input(key, input);
    char *token = NULL;
    if (sig != NULL) {
        size_t n = input_len + 1 + strlen(sig) + 1;
        token = xmalloc(n);
        snprintf(token, n, "%s.%s", input, sig);
    }
    free(input);
    free(sig);
    return token;
}
