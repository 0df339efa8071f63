/*
 * Unit tests for auth/keys: public keys from PEM text and files in both
 * RSA forms, refusals with a message, and the development key pair
 * (created once with a private file only its owner can read).
 */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "auth/jwt.h"
#include "auth/keys.h"

struct fixture {
    EVP_PKEY *key;
    char *spki_pem;  /* -----BEGIN PUBLIC KEY----- */
    char *pkcs1_pem; /* -----BEGIN RSA PUBLIC KEY----- */
    char *dir;       /* a fresh temporary directory per test */
};

/* Encodes the public half of key as PEM in the given structure. */
static char *public_pem(EVP_PKEY *key, const char *structure)
{
    unsigned char *data = NULL;
    size_t len = 0;
    OSSL_ENCODER_CTX *ctx = OSSL_ENCODER_CTX_new_for_pkey(
        key, EVP_PKEY_PUBLIC_KEY, "PEM", structure, NULL);

    if (ctx == NULL || OSSL_ENCODER_to_data(ctx, &data, &len) != 1) {
        OSSL_ENCODER_CTX_free(ctx);
        return NULL;
    }
    OSSL_ENCODER_CTX_free(ctx);

    char *text = strndup((const char *)data, len);
    OPENSSL_free(data);
    return text;
}

static int group_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    f->key = EVP_RSA_gen(2048);
    if (f->key == NULL)
        return -1;
    f->spki_pem = public_pem(f->key, "SubjectPublicKeyInfo");
    f->pkcs1_pem = public_pem(f->key, "type-specific");
    if (f->spki_pem == NULL || f->pkcs1_pem == NULL)
        return -1;
    *state = f;
    return 0;
}

static int group_teardown(void **state)
{
    struct fixture *f = *state;

    EVP_PKEY_free(f->key);
    free(f->spki_pem);
    free(f->pkcs1_pem);
    free(f);
    return 0;
}

static int dir_setup(void **state)
{
    struct fixture *f = *state;

    f->dir = testutil_mkdtemp();
    return 0;
}

static int dir_teardown(void **state)
{
    struct fixture *f = *state;

    testutil_rmtree(f->dir);
    free(f->dir);
    f->dir = NULL;
    return 0;
}

/* The forms the tests rely on really are the two PEM kinds. */
static void test_fixture_pem_forms(void **state)
{
    struct fixture *f = *state;

    assert_non_null(strstr(f->spki_pem, "-----BEGIN PUBLIC KEY-----"));
    assert_non_null(strstr(f->pkcs1_pem, "-----BEGIN RSA PUBLIC KEY-----"));
}

static void test_public_from_spki_pem(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    EVP_PKEY *key = keys_public_from_pem(f->spki_pem, strlen(f->spki_pem), err,
                                         sizeof(err));

    if (key == NULL)
        fail_msg("SPKI PEM refused: %s", err);
    assert_int_equal(EVP_PKEY_eq(key, f->key), 1);
    EVP_PKEY_free(key);
}

static void test_public_from_pkcs1_pem(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    EVP_PKEY *key = keys_public_from_pem(f->pkcs1_pem, strlen(f->pkcs1_pem),
                                         err, sizeof(err));

    if (key == NULL)
        fail_msg("PKCS#1 PEM refused: %s", err);
    assert_int_equal(EVP_PKEY_eq(key, f->key), 1);
    EVP_PKEY_free(key);
}

/* A loaded public key verifies what the private key signed. */
static void test_loaded_key_verifies_tokens(void **state)
{
    struct fixture *f = *state;
    char err[256];
    EVP_PKEY *key = keys_public_from_pem(f->pkcs1_pem, strlen(f->pkcs1_pem),
                                         err, sizeof(err));
    char *token = jwt_sign(f->key, "peterparker", false, 1700000000, 60);
    struct jwt_claims claims;

    assert_non_null(key);
    assert_non_null(token);
    assert_int_equal(jwt_verify(key, token, strlen(token), 1700000000, &claims),
                     JWT_OK);
    assert_string_equal(claims.username, "peterparker");
    jwt_claims_free(&claims);
    free(token);
    EVP_PKEY_free(key);
}

static void assert_pem_refused(const char *pem, size_t len)
{
    char err[256] = "";
    EVP_PKEY *key = keys_public_from_pem(pem, len, err, sizeof(err));

    if (key != NULL) {
        EVP_PKEY_free(key);
        fail_msg("accepted as a public key: %.40s", pem);
    }
    assert_true(strlen(err) > 0);
}

static void test_garbage_refused(void **state)
{
    struct fixture *f = *state;

    assert_pem_refused("", 0);
    assert_pem_refused("not a key", 9);
    static const char empty_body[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n"
                                     "-----END PUBLIC KEY-----\n";
    assert_pem_refused(empty_body, strlen(empty_body));
    /* Half a key is no key. */
    assert_pem_refused(f->spki_pem, strlen(f->spki_pem) / 2);
}

/* RS256 needs RSA: an EC key must be refused, not half-used. */
static void test_ec_key_refused(void **state)
{
    (void)state;
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    char *pem;

    assert_non_null(ec);
    pem = public_pem(ec, "SubjectPublicKeyInfo");
    assert_non_null(pem);
    assert_pem_refused(pem, strlen(pem));
    free(pem);
    EVP_PKEY_free(ec);
}

/* Only the two public forms are accepted: a private key PEM is neither. */
static void test_private_pem_is_not_a_public_key(void **state)
{
    struct fixture *f = *state;
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;

    assert_non_null(bio);
    assert_int_equal(
        PEM_write_bio_PrivateKey(bio, f->key, NULL, NULL, 0, NULL, NULL), 1);
    long len = BIO_get_mem_data(bio, &data);
    assert_true(len > 0);
    assert_pem_refused(data, (size_t)len);
    BIO_free(bio);
}

static void test_public_from_file(void **state)
{
    struct fixture *f = *state;
    char path[4200], err[512] = "";

    testutil_join(path, sizeof(path), f->dir, "public.pem");
    testutil_write_file(path, f->spki_pem);
    EVP_PKEY *key = keys_public_from_file(path, err, sizeof(err));
    if (key == NULL)
        fail_msg("public key file refused: %s", err);
    assert_int_equal(EVP_PKEY_eq(key, f->key), 1);
    EVP_PKEY_free(key);
}

static void test_missing_files_named_in_message(void **state)
{
    struct fixture *f = *state;
    char path[4200], err[4400] = "";

    testutil_join(path, sizeof(path), f->dir, "absent.pem");
    assert_null(keys_public_from_file(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    err[0] = '\0';
    assert_null(keys_private_from_file(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
}

static void test_private_file_with_public_key_refused(void **state)
{
    struct fixture *f = *state;
    char path[4200], err[512] = "";

    testutil_join(path, sizeof(path), f->dir, "public.pem");
    testutil_write_file(path, f->spki_pem);
    assert_null(keys_private_from_file(path, err, sizeof(err)));
    assert_true(strlen(err) > 0);
}

static void test_dev_paths(void **state)
{
    (void)state;
    char priv[256], pub[256];

    keys_dev_paths("/srv/data", priv, pub, sizeof(priv));
    assert_int_equal(strncmp(priv, "/srv/data/", 10), 0);
    assert_int_equal(strncmp(pub, "/srv/data/", 10), 0);
    assert_string_not_equal(priv, pub);
}

static void read_whole(const char *path, char *out, size_t size)
{
    FILE *file = fopen(path, "rb");

    assert_non_null(file);
    size_t n = fread(out, 1, size - 1, file);
    out[n] = '\0';
    fclose(file);
    assert_true(n > 0);
}

/* In a directory that does not exist yet, a pair is made and kept. */
static void test_dev_pair_created_once(void **state)
{
    struct fixture *f = *state;
    char dir[4200], priv[4300], pub[4300], err[512] = "";
    char first[8192], second[8192];
    struct stat st;
    bool created = false;

    testutil_join(dir, sizeof(dir), f->dir, "nested/data");
    if (!keys_ensure_dev_pair(dir, &created, err, sizeof(err)))
        fail_msg("keys_ensure_dev_pair failed: %s", err);
    assert_true(created);

    keys_dev_paths(dir, priv, pub, sizeof(priv));
    assert_int_equal(stat(priv, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(pub, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    read_whole(priv, first, sizeof(first));

    created = true;
    assert_true(keys_ensure_dev_pair(dir, &created, err, sizeof(err)));
    assert_false(created);
    read_whole(priv, second, sizeof(second));
    assert_string_equal(first, second);
}

/* The two files are halves of one pair, loadable by this module. */
static void test_dev_pair_matches(void **state)
{
    struct fixture *f = *state;
    char priv[4300], pub[4300], err[512] = "";
    bool created;

    assert_true(keys_ensure_dev_pair(f->dir, &created, err, sizeof(err)));
    keys_dev_paths(f->dir, priv, pub, sizeof(priv));

    EVP_PKEY *private_key = keys_private_from_file(priv, err, sizeof(err));
    if (private_key == NULL)
        fail_msg("dev private key refused: %s", err);
    EVP_PKEY *public_key = keys_public_from_file(pub, err, sizeof(err));
    if (public_key == NULL)
        fail_msg("dev public key refused: %s", err);
    assert_int_equal(EVP_PKEY_eq(public_key, private_key), 1);
    assert_int_equal(EVP_PKEY_get_bits(public_key), 2048);

    char *token = jwt_sign(private_key, "dev", true, 1700000000, 60);
    struct jwt_claims claims;
    assert_non_null(token);
    assert_int_equal(
        jwt_verify(public_key, token, strlen(token), 1700000000, &claims),
        JWT_OK);
    assert_true(claims.admin);
    jwt_claims_free(&claims);
    free(token);
    EVP_PKEY_free(public_key);
    EVP_PKEY_free(private_key);
}

/* A directory that cannot be made is an error with a message. */
static void test_dev_pair_unusable_dir(void **state)
{
    struct fixture *f = *state;
    char file[4200], dir[4300], err[512] = "";
    bool created = true;

    testutil_join(file, sizeof(file), f->dir, "plain-file");
    testutil_write_file(file, "not a directory\n");
    testutil_join(dir, sizeof(dir), file, "data");
    assert_false(keys_ensure_dev_pair(dir, &created, err, sizeof(err)));
    assert_false(created);
    assert_true(strlen(err) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_pem_forms),
        cmocka_unit_test(test_public_from_spki_pem),
        cmocka_unit_test(test_public_from_pkcs1_pem),
        cmocka_unit_test(test_loaded_key_verifies_tokens),
        cmocka_unit_test(test_garbage_refused),
        cmocka_unit_test(test_ec_key_refused),
        cmocka_unit_test(test_private_pem_is_not_a_public_key),
        cmocka_unit_test_setup_teardown(test_public_from_file, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(test_missing_files_named_in_message,
                                        dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(
            test_private_file_with_public_key_refused, dir_setup, dir_teardown),
        cmocka_unit_test(test_dev_paths),
        cmocka_unit_test_setup_teardown(test_dev_pair_created_once, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(test_dev_pair_matches, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(test_dev_pair_unusable_dir, dir_setup,
                                        dir_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
