/*
 * keys: loading RSA keys from PEM, and the development key pair.
 *
 * Returned EVP_PKEY objects belong to the caller (EVP_PKEY_free).
 */
#ifndef AUTH_KEYS_H
#define AUTH_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

/* An RSA public key from PEM text (SubjectPublicKeyInfo or PKCS#1). */
EVP_PKEY *keys_public_from_pem(const char *pem, size_t len, char *err,
                               size_t err_size);

EVP_PKEY *keys_public_from_file(const char *path, char *err, size_t err_size);

EVP_PKEY *keys_private_from_file(const char *path, char *err, size_t err_size);

/*
 * Paths of the development key pair kept in data_dir, written into the
 * caller's buffers.
 */
void keys_dev_paths(const char *data_dir, char *private_path, char *public_path,
                    size_t size);

/*
 * Makes sure the development key pair exists in data_dir, creating the
 * directory and a new 2048-bit pair when absent.  Sets *created when it
 * made one.  Returns false with a message in err on failure.
 */
bool keys_ensure_dev_pair(const char *data_dir, bool *created, char *err,
                          size_t err_size);

#endif
