/*
 * config: every setting of the service, read from the environment.
 *
 * One table in config.c names each setting's variable, type, default,
 * bounds and whether it is secret; parsing, `--help` and the start-up
 * summary are all driven from it, so a setting is added in one place.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum db_engine { ENGINE_SQLITE, ENGINE_POSTGRESQL };
enum db_sync { DB_SYNC_FULL, DB_SYNC_NORMAL };

struct config {
    int engine; /* enum db_engine */
    char *postgres_host;
    int postgres_port;
    char *postgres_db;
    char *postgres_user;
    char *postgres_password;

    char *bind_address;
    int port;
    int workers;
    int max_body_bytes;
    int max_connections;
    int connection_timeout;
    int max_header_bytes;
    int max_connections_per_client;
    int request_timeout;
    int shutdown_timeout;

    char *public_key;
    char *public_key_file;
    char *private_key_file;
    bool admin_auth;

    char *data_dir;
    char *sqlite_path;      /* defaults to DATA_DIR/thoughts.db */
    int sqlite_synchronous; /* enum db_sync */

    int log_level;  /* enum log_level */
    int log_format; /* enum log_format */
    bool access_log;
};

/* Looks a variable up; getenv() in the service, a stub in tests. */
typedef const char *(*config_getter)(const char *name);

/*
 * Fills *cfg from the variables `get` returns, falling back to defaults.
 * On a bad value returns false with a sentence for the operator in err
 * (naming the variable and what it accepts); *cfg is then still safe to
 * pass to config_free().
 */
bool config_load(struct config *cfg, config_getter get, char *err,
                 size_t err_size);

void config_free(struct config *cfg);

/*
 * Splits one line of a docker-compose style env file in place.
 * Returns 1 with *key and *value pointing into line for `KEY=VALUE`
 * (an optional `export ` prefix and matching outer quotes are removed),
 * 0 for a blank or `#` comment line, and -1 for anything else.
 */
int config_parse_env_line(char *line, char **key, char **value);

/*
 * Reads an env file and exports each variable that the environment does
 * not already set (the real environment wins, as with docker-compose).
 * Returns false with a message in err when the file cannot be read or a
 * line is malformed.
 */
bool config_read_env_file(const char *path, char *err, size_t err_size);

/* Writes the settings table (variable, default, meaning) for --help. */
void config_print_help(FILE *out);

/* Logs every effective setting at info level, secrets masked. */
void config_log_summary(const struct config *cfg);

#endif
