/*
 * jwt: RS256 JSON Web Tokens, verified with strict rules and signed for
 * the `token` command.
 *
 * Verification decodes and checks the header's `alg` before any
 * signature work, and only ever accepts RS256: the token never chooses
 * the algorithm.  Keys come from keys.h and are shared read-only between
 * threads.
 */
#ifndef AUTH_JWT_H
#define AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

enum jwt_result {
    JWT_OK,
    JWT_NO_HEADER,     /* no Authorization header */
    JWT_BAD_SCHEME,    /* header is not "Bearer <token>" */
    JWT_MALFORMED,     /* not three base64url parts of JSON objects */
    JWT_BAD_ALGORITHM, /* alg is anything but RS256 */
    JWT_BAD_SIGNATURE,
    JWT_EXPIRED,
    JWT_NOT_YET_VALID, /* nbf in the future */
    JWT_BAD_CLAIMS,    /* username/exp missing or of the wrong type */
};

/* The claims the service uses; username is malloc'd, see jwt_claims_free. */
struct jwt_claims {
    char *username;
    bool admin;
};

/* A short phrase saying why verification failed, safe to log. */
const char *jwt_result_describe(enum jwt_result result);

/*
 * Finds the token in an Authorization header value (which may be NULL):
 * the scheme word "Bearer" in any case, spaces, then the token.
 */
enum jwt_result jwt_from_header(const char *header, const char **token,
                                size_t *token_len);

/*
 * Verifies token[0..len) against `key` at time `now` and, on JWT_OK,
 * fills *claims (free them with jwt_claims_free).  On any other result
 * *claims is left empty.
 */
enum jwt_result jwt_verify(EVP_PKEY *key, const char *token, size_t len,
                           time_t now, struct jwt_claims *claims);

void jwt_claims_free(struct jwt_claims *claims);

/*
 * Signs an RS256 token for `username`, valid from `now` for `ttl`
 * seconds, with "admin": true when admin is set.  Returns a malloc'd
 * string, or NULL when the key cannot sign.
 */
char *jwt_sign(EVP_PKEY *key, const char *username, bool admin, time_t now,
               long ttl);

/*
 * The base64url RS256 signature of `input` (the "header.payload" part of
 * a token), as jwt_sign() appends it.  Returns a malloc'd string, or
 * NULL when the key cannot sign.
 */
char *jwt_sign_input(EVP_PKEY *key, const char *input);

/*
 * base64url without padding, as JWTs use it.  Decoding is strict: it
 * rejects padding, whitespace and any other alphabet.  Both return
 * malloc'd buffers; decode returns NULL on bad input.
 */
char *jwt_b64url_encode(const unsigned char *data, size_t len);
unsigned char *jwt_b64url_decode(const char *text, size_t len, size_t *out_len);

#endif
