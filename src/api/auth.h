/*
 * api/auth: who is calling.  Holds the public key, loaded once at
 * start-up, and turns a request's Authorization header into claims or
 * into the contract's 401/403 answer.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <stdbool.h>

#include "auth/jwt.h"
#include "core/config.h"
#include "http/server.h"

/*
 * Loads PUBLIC_KEY or PUBLIC_KEY_FILE; with neither, creates (once) and
 * uses the development key pair in DATA_DIR, warning that it did.
 */
bool api_auth_setup(const struct config *cfg, char *err, size_t err_size);

void api_auth_shutdown(void);

enum api_auth_need { API_AUTH_USER, API_AUTH_ADMIN };

/*
 * Checks the caller's token.  On success fills *claims (the caller frees
 * them with jwt_claims_free) and returns true.  Otherwise it has already
 * answered 401 (or 403 for a valid token without admin rights) and
 * returns false.  With ADMIN_AUTH off, API_AUTH_ADMIN always succeeds
 * and leaves *claims empty.
 */
bool api_authenticate(struct http_request *req, enum api_auth_need need,
                      struct jwt_claims *claims);

#endif
