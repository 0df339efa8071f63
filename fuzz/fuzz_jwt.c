/*
 * fuzz_jwt: the bearer-token checks, with a key fixed for the run.
 *
 * The first byte picks a mode.  Even: the rest is an Authorization
 * header value, verified as it stands (signatures will not verify, so
 * this reaches the parsing and the header checks).  Odd: the rest is a
 * JOSE header and a payload separated by a newline; the harness signs
 * them with the fixed key, so the claim checks behind the signature are
 * reached too.  A 1024-bit key keeps signing fast; the verifier does
 * not care about the size.
 */
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "core/xalloc.h"

#define FIXED_NOW ((time_t)1700000000)

static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    key = EVP_RSA_gen(1024);
    if (key == NULL)
        abort();
    return 0;
}

static void verify(const char *token, size_t len)
{
    struct jwt_claims claims = {0};
    enum jwt_result r = jwt_verify(key, token, len, FIXED_NOW, &claims);

    if (r == JWT_OK && (claims.username == NULL || claims.username[0] == 0))
        abort();
    if (r != JWT_OK && claims.username != NULL)
        abort();
    jwt_claims_free(&claims);
    jwt_result_describe(r);
}

static void from_header(const uint8_t *data, size_t size)
{
    char *header = xmalloc(size + 1);
    const char *token;
    size_t len;

    memcpy(header, data, size);
    header[size] = '\0';
    if (jwt_from_header(header, &token, &len) == JWT_OK)
        verify(token, len);
    free(header);
}

static void signed_parts(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head_len = nl != NULL ? (size_t)(nl - data) : size;
    const uint8_t *payload = nl != NULL ? nl + 1 : data + size;
    size_t payload_len = size - (size_t)(payload - data);

    char *h = jwt_b64url_encode(data, head_len);
    char *p = jwt_b64url_encode(payload, payload_len);
    size_t input_len = strlen(h) + 1 + strlen(p);
    char *input = xmalloc(input_len + 1);
    snprintf(input, input_len + 1, "%s.%s", h, p);
    char *sig = jwt_sign_input(key, input);
    if (sig != NULL) {
        size_t n = input_len + 1 + strlen(sig);
        char *token = xmalloc(n + 1);
        snprintf(token, n + 1, "%s.%s", input, sig);
        verify(token, n);
        free(token);
    }
    free(sig);
    free(input);
    free(p);
    free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        signed_parts(data + 1, size - 1);
    else
        from_header(data + 1, size - 1);
    return 0;
}
