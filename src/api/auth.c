/* api/auth: the bearer-token gate in front of /api/me/ and /admin/. */
#include "api/auth.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/respond.h"
#include "auth/keys.h"
#include "core/log.h"

static EVP_PKEY *public_key;
static bool admin_auth = true;

static EVP_PKEY *load_dev_key(const char *data_dir, char *err, size_t err_size)
{
    char priv[PATH_MAX], pub[PATH_MAX];
    bool created;

    if (!keys_ensure_dev_pair(data_dir, &created, err, err_size))
        return NULL;
    keys_dev_paths(data_dir, priv, pub, sizeof(priv));
    if (created)
        log_warning("no PUBLIC_KEY or PUBLIC_KEY_FILE set: created a "
                    "development key pair in %s; do not use it in "
                    "production",
                    data_dir);
    else
        log_warning("no PUBLIC_KEY or PUBLIC_KEY_FILE set: using the "
                    "development key pair in %s",
                    data_dir);
    return keys_public_from_file(pub, err, err_size);
}

bool api_auth_setup(const struct config *cfg, char *err, size_t err_size)
{
    char why[300];

    admin_auth = cfg->admin_auth;
    if (cfg->public_key[0] != '\0') {
        public_key = keys_public_from_pem(
            cfg->public_key, strlen(cfg->public_key), why, sizeof(why));
        if (public_key == NULL)
            snprintf(err, err_size, "PUBLIC_KEY: %s", why);
    } else if (cfg->public_key_file[0] != '\0') {
        public_key =
            keys_public_from_file(cfg->public_key_file, why, sizeof(why));
        if (public_key == NULL)
            snprintf(err, err_size, "PUBLIC_KEY_FILE: %s", why);
    } else {
        public_key = load_dev_key(cfg->data_dir, why, sizeof(why));
        if (public_key == NULL)
            snprintf(err, err_size, "development key pair: %s", why);
    }
    if (!admin_auth)
        log_warning("ADMIN_AUTH=off: /admin/ routes are open to anyone "
                    "who can reach the port");
    return public_key != NULL;
}

void api_auth_shutdown(void)
{
    EVP_PKEY_free(public_key);
    public_key = NULL;
}

static void refuse(struct http_request *req, enum jwt_result r)
{
    /* The reason is logged; the token itself never is. */
    log_debug("401 for %s %s: %s", http_method(req), http_path(req),
              jwt_result_describe(r));
    http_add_header(req, "WWW-Authenticate", "Bearer");
    if (r == JWT_NO_HEADER || r == JWT_BAD_SCHEME)
        api_send_error(req, 401,
                       "Authorization header missing or not of the form "
                       "'Bearer <token>'");
    else
        api_send_error(req, 401, "The token is invalid or has expired");
}

bool api_authenticate(struct http_request *req, enum api_auth_need need,
                      struct jwt_claims *claims)
{
    const char *token;
    size_t len;

    memset(claims, 0, sizeof(*claims));
    if (need == API_AUTH_ADMIN && !admin_auth)
        return true;

    enum jwt_result r;
    /* Two credentials are no credential: which one counts is ambiguous. */
    if (http_header_count(req, "Authorization") > 1)
        r = JWT_BAD_SCHEME;
    else
        r = jwt_from_header(http_header(req, "Authorization"), &token, &len);
    if (r == JWT_OK)
        r = jwt_verify(public_key, token, len, time(NULL), claims);
    if (r != JWT_OK) {
        refuse(req, r);
        return false;
    }
    if (need == API_AUTH_ADMIN && !claims->admin) {
        log_debug("403 for %s %s: token has no admin claim", http_method(req),
                  http_path(req));
        jwt_claims_free(claims);
        api_send_error(req, 403, "This action needs an admin token");
        return false;
    }
    return true;
}
