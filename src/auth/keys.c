/* keys: PEM loading and the zero set-up development key pair. */
#include "auth/keys.h"
#include "core/fsdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/decoder.h>

static void openssl_reason(char *err, size_t err_size, const char *what)
{
    unsigned long code = ERR_get_error();
    char reason[200] = "unknown reason";

    if (code != 0)
        ERR_error_string_n(code, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, err_size, "%s: %s", what, reason);
}

/* Only RSA keys can verify RS256; anything else is a configuration error. */
static EVP_PKEY *require_rsa(EVP_PKEY *key, char *err, size_t err_size)
{
    if (key != NULL && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        snprintf(err, err_size, "the key is not an RSA key");
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

EVP_PKEY *keys_public_from_pem(const char *pem, size_t len, char *err,
                               size_t err_size)
{
    EVP_PKEY *key = NULL;
    const unsigned char *data = (const unsigned char *)pem;

    /* The decoder takes SubjectPublicKeyInfo and PKCS#1 forms alike. */
    OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
        &key, "PEM", NULL, "RSA", EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (dctx == NULL || OSSL_DECODER_from_data(dctx, &data, &len) != 1) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    if (key == NULL) {
        openssl_reason(err, err_size,
                       "the public key is not a PEM RSA public key");
        return NULL;
    }
    ERR_clear_error();
    return require_rsa(key, err, err_size);
}

/* Reads a whole small file; returns a malloc'd buffer or NULL. */
static char *read_file(const char *path, size_t *len, char *err,
                       size_t err_size)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;

    if (f == NULL) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    data = malloc(65536);
    if (data != NULL) {
        *len = fread(data, 1, 65535, f);
        data[*len] = '\0';
    }
    fclose(f);
    if (data == NULL)
        snprintf(err, err_size, "out of memory reading %s", path);
    return data;
}

EVP_PKEY *keys_public_from_file(const char *path, char *err, size_t err_size)
{
    size_t len;
    char *pem = read_file(path, &len, err, err_size);

    if (pem == NULL)
        return NULL;
    EVP_PKEY *key = keys_public_from_pem(pem, len, err, err_size);
    free(pem);
    return key;
}

EVP_PKEY *keys_private_from_file(const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");

    if (f == NULL) {
        snprintf(err, err_size, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL) {
        openssl_reason(err, err_size, "not a PEM private key");
        return NULL;
    }
    return require_rsa(key, err, err_size);
}

void keys_dev_paths(const char *data_dir, char *private_path, char *public_path,
                    size_t size)
{
    snprintf(private_path, size, "%s/dev-private.pem", data_dir);
    snprintf(public_path, size, "%s/dev-public.pem", data_dir);
}

/*
 * Writes a PEM file through a temporary name and rename(), so a reader
 * never sees half a key and two processes starting together agree.
 */
static bool write_pem(const char *path, EVP_PKEY *key, bool private_key,
                      char *err, size_t err_size)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, private_key ? 0600 : 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        snprintf(err, err_size, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    int ok = private_key
                 ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_PUBKEY(f, key);
    if (fclose(f) != 0 || ok != 1 || rename(tmp, path) != 0) {
        snprintf(err, err_size, "cannot write %s", path);
        unlink(tmp);
        return false;
    }
    return true;
}

bool keys_ensure_dev_pair(const char *data_dir, bool *created, char *err,
                          size_t err_size)
{
    char priv[4096], pub[4096];

    *created = false;
    keys_dev_paths(data_dir, priv, pub, sizeof(priv));
    if (access(priv, R_OK) == 0 && access(pub, R_OK) == 0)
        return true;
    if (!fsdir_make(data_dir, err, err_size))
        return false;

    EVP_PKEY *key = EVP_RSA_gen(2048);
    if (key == NULL) {
        openssl_reason(err, err_size, "cannot generate an RSA key");
        return false;
    }
    bool ok = write_pem(priv, key, true, err, err_size) &&
              write_pem(pub, key, false, err, err_size);
    EVP_PKEY_free(key);
    *created = ok;
    return ok;
}
