/*
 * thoughts-backend: the command line.
 *
 *   thoughts-backend [--env-file FILE] [serve]     run the HTTP service
 *   thoughts-backend [--env-file FILE] init-db     create the schema, exit
 *   thoughts-backend [--env-file FILE] token USERNAME [--admin] [--ttl S]
 *   thoughts-backend [--env-file FILE] healthcheck   probe GET /livez
 *   thoughts-backend --help | --version
 *
 * Exit codes: 0 success, 1 runtime failure (cannot listen, database or
 * key trouble), 2 bad command line, 3 bad configuration.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/auth.h"
#include "api/router.h"
#include "auth/jwt.h"
#include "auth/keys.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/probe.h"
#include "http/server.h"
#include "store/store.h"

#define VERSION "1.0.0"

enum exit_code {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_CONFIG = 3
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: thoughts-backend [--env-file FILE] [COMMAND]\n"
            "\n"
            "Commands:\n"
            "  serve                 run the HTTP API (the default)\n"
            "  init-db               create the database schema and exit\n"
            "  token USERNAME [--admin] [--ttl SECONDS]\n"
            "                        print an Authorization header value "
            "signed with\n"
            "                        PRIVATE_KEY_FILE or the development "
            "key pair\n"
            "  healthcheck           exit 0 when the server on PORT answers "
            "GET /livez\n"
            "                        with 200 within 2 s, else 1 (for "
            "container\n"
            "                        health checks)\n"
            "  --help, --version\n"
            "\n"
            "Options:\n"
            "  --env-file FILE       read NAME=VALUE lines (docker-compose "
            "style);\n"
            "                        variables already set in the "
            "environment win\n"
            "\n"
            "Exit codes: 0 success, 1 runtime failure, 2 bad command line,\n"
            "3 bad configuration.\n\n");
    config_print_help(out);
}

static const char *env_getter(const char *name)
{
    return getenv(name);
}

/*
 * Follows LOG_FORMAT=json before the configuration is parsed, so that a
 * collector that expects JSON also gets the line saying why start-up
 * failed.
 */
static void early_log_format(void)
{
    const char *format = getenv("LOG_FORMAT");

    if (format != NULL && strcasecmp(format, "json") == 0)
        log_set_format(LOG_JSON);
}

static bool load_config(struct config *cfg)
{
    char err[512];

    early_log_format();
    if (!config_load(cfg, env_getter, err, sizeof(err))) {
        log_error("configuration: %s", err);
        return false;
    }
    log_set_level((enum log_level)cfg->log_level);
    log_set_format((enum log_format)cfg->log_format);
    log_set_access(cfg->access_log);
    return true;
}

static int serve(const struct config *cfg)
{
    char err[512];
    sigset_t stop_signals;
    int sig;

    /* Block the stop signals in every thread; main waits for them. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    log_info("thoughts-backend %s starting", VERSION);
    router_init();
    metrics_set_build_info(
        VERSION, cfg->engine == ENGINE_POSTGRESQL ? "POSTGRESQL" : "SQLITE");
    config_log_summary(cfg);
    if (!api_auth_setup(cfg, err, sizeof(err)) ||
        !store_setup(cfg, false, err, sizeof(err))) {
        log_error("%s", err);
        api_auth_shutdown();
        return EXIT_RUNTIME;
    }

    struct http_options opts = {
        .bind_address = cfg->bind_address,
        .port = cfg->port,
        .workers = cfg->workers,
        .max_body = (size_t)cfg->max_body_bytes,
        .max_connections = cfg->max_connections,
        .connection_timeout = cfg->connection_timeout,
        .max_header = (size_t)cfg->max_header_bytes,
        .max_per_client = cfg->max_connections_per_client,
        .request_timeout = cfg->request_timeout,
    };
    if (!http_start(&opts, router_handle, err, sizeof(err))) {
        log_error("%s", err);
        api_auth_shutdown();
        return EXIT_RUNTIME;
    }
    log_info("listening on %s port %d with %d workers", cfg->bind_address,
             cfg->port, cfg->workers);

    sigwait(&stop_signals, &sig);
    log_info("received %s: finishing requests in flight (up to %d s)",
             sig == SIGINT ? "SIGINT" : "SIGTERM", cfg->shutdown_timeout);
    http_stop(cfg->shutdown_timeout);
    store_shutdown();
    api_auth_shutdown();
    log_info("stopped");
    return EXIT_OK;
}

static int init_db(const struct config *cfg)
{
    char err[512];

    if (!store_setup(cfg, true, err, sizeof(err))) {
        log_error("%s", err);
        return EXIT_RUNTIME;
    }
    log_info("database schema is ready");
    return EXIT_OK;
}

/* The key `token` signs with: PRIVATE_KEY_FILE, else the dev pair. */
static EVP_PKEY *signing_key(const struct config *cfg)
{
    char err[512], priv[PATH_MAX], pub[PATH_MAX];
    bool created;

    if (cfg->private_key_file[0] != '\0') {
        EVP_PKEY *key =
            keys_private_from_file(cfg->private_key_file, err, sizeof(err));
        if (key == NULL)
            log_error("PRIVATE_KEY_FILE: %s", err);
        return key;
    }
    if (cfg->public_key[0] != '\0' || cfg->public_key_file[0] != '\0') {
        log_error("a public key is configured but PRIVATE_KEY_FILE is not; "
                  "set PRIVATE_KEY_FILE to the matching private key");
        return NULL;
    }
    if (!keys_ensure_dev_pair(cfg->data_dir, &created, err, sizeof(err))) {
        log_error("development key pair: %s", err);
        return NULL;
    }
    keys_dev_paths(cfg->data_dir, priv, pub, sizeof(priv));
    EVP_PKEY *key = keys_private_from_file(priv, err, sizeof(err));
    if (key == NULL)
        log_error("development key pair: %s", err);
    return key;
}

static int token(const struct config *cfg, int argc, char **argv)
{
    const char *username = NULL;
    bool admin = false;
    long ttl = 3600;

    for (int i = 0; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--admin") == 0) {
            admin = true;
        } else if (strcmp(argv[i], "--ttl") == 0 && i + 1 < argc) {
            ttl = strtol(argv[++i], &end, 10);
            if (*end != '\0' || ttl <= 0 || ttl > 10L * 365 * 86400) {
                fprintf(stderr, "--ttl takes a number of seconds\n");
                return EXIT_USAGE;
            }
        } else if (username == NULL && argv[i][0] != '-') {
            username = argv[i];
        } else {
            fprintf(stderr, "token: unexpected argument %s\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (username == NULL || username[0] == '\0') {
        fprintf(stderr, "usage: thoughts-backend token USERNAME [--admin] "
                        "[--ttl SECONDS]\n");
        return EXIT_USAGE;
    }

    EVP_PKEY *key = signing_key(cfg);
    if (key == NULL)
        return EXIT_RUNTIME;
    char *jwt = jwt_sign(key, username, admin, time(NULL), ttl);
    EVP_PKEY_free(key);
    if (jwt == NULL) {
        log_error("cannot sign the token with this key");
        return EXIT_RUNTIME;
    }
    printf("Bearer %s\n", jwt);
    free(jwt);
    return EXIT_OK;
}

/* Exit 0 when the server on this host answers GET /livez with 200. */
static int healthcheck(const struct config *cfg)
{
    const char *host = probe_local_address(cfg->bind_address);
    int status;

    enum probe_result r = probe_get(host, cfg->port, "/livez", 2000, &status);
    if (r == PROBE_OK) {
        printf("healthy: GET /livez on %s port %d answered 200\n", host,
               cfg->port);
        return EXIT_OK;
    }
    if (status != 0)
        fprintf(stderr, "unhealthy: GET /livez on %s port %d answered %d\n",
                host, cfg->port, status);
    else
        fprintf(stderr, "unhealthy: GET /livez on %s port %d: %s\n", host,
                cfg->port, probe_result_text(r));
    return EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
    int i = 1;
    char err[512];

    early_log_format();
    if (i < argc && strcmp(argv[i], "--env-file") == 0) {
        if (i + 1 >= argc) {
            fprintf(stderr, "--env-file needs a file name\n");
            return EXIT_USAGE;
        }
        if (!config_read_env_file(argv[i + 1], err, sizeof(err))) {
            log_error("%s", err);
            return EXIT_CONFIG;
        }
        i += 2;
    }

    const char *command = i < argc ? argv[i++] : "serve";
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(command, "--version") == 0) {
        printf("thoughts-backend %s\n", VERSION);
        return EXIT_OK;
    }
    if (strcmp(command, "serve") != 0 && strcmp(command, "init-db") != 0 &&
        strcmp(command, "token") != 0 && strcmp(command, "healthcheck") != 0) {
        fprintf(stderr, "unknown command %s\n\n", command);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(command, "token") != 0 && i < argc) {
        fprintf(stderr, "%s takes no arguments (got %s)\n", command, argv[i]);
        return EXIT_USAGE;
    }

    struct config cfg;
    if (!load_config(&cfg)) {
        config_free(&cfg);
        return EXIT_CONFIG;
    }
    int rc;
    if (strcmp(command, "serve") == 0)
        rc = serve(&cfg);
    else if (strcmp(command, "init-db") == 0)
        rc = init_db(&cfg);
    else if (strcmp(command, "healthcheck") == 0)
        rc = healthcheck(&cfg);
    else
        rc = token(&cfg, argc - i, argv + i);
    config_free(&cfg);
    return rc;
}
