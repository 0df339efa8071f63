/* config: the settings table and everything driven from it. */
#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xalloc.h"

enum setting_type { SET_STRING, SET_INT, SET_SWITCH, SET_CHOICE };

struct setting {
    const char *name; /* the environment variable */
    enum setting_type type;
    size_t offset;              /* of the field in struct config */
    const char *fallback;       /* default, parsed like a user's value */
    long min, max;              /* SET_INT bounds */
    const char *const *choices; /* SET_CHOICE, stored as the index */
    bool secret;
    const char *help;
};

static const char *const engines[] = {"SQLITE", "POSTGRESQL", NULL};
static const char *const levels[] = {"error", "warning", "info", "debug", NULL};
static const char *const formats[] = {"text", "json", NULL};
static const char *const sync_modes[] = {"full", "normal", NULL};

#define FIELD(f) offsetof(struct config, f)

static const struct setting settings[] = {
    {"DATABASE_ENGINE", SET_CHOICE, FIELD(engine), "SQLITE", 0, 0, engines,
     false, "storage engine: SQLITE or POSTGRESQL"},
    {"SQLITE_PATH", SET_STRING, FIELD(sqlite_path), "", 0, 0, NULL, false,
     "SQLite database file (default: DATA_DIR/thoughts.db)"},
    {"DATA_DIR", SET_STRING, FIELD(data_dir), "data", 0, 0, NULL, false,
     "directory for the SQLite file and the development key pair"},
    {"SQLITE_SYNCHRONOUS", SET_CHOICE, FIELD(sqlite_synchronous), "full", 0, 0,
     sync_modes, false,
     "full: no answered write is lost on power loss; normal: faster, the "
     "last writes may be lost"},
    {"POSTGRES_HOST", SET_STRING, FIELD(postgres_host), "localhost", 0, 0, NULL,
     false, "PostgreSQL host"},
    {"POSTGRES_PORT", SET_INT, FIELD(postgres_port), "5432", 1, 65535, NULL,
     false, "PostgreSQL port"},
    {"POSTGRES_DB", SET_STRING, FIELD(postgres_db), "thoughts", 0, 0, NULL,
     false, "PostgreSQL database name"},
    {"POSTGRES_USER", SET_STRING, FIELD(postgres_user), "postgres", 0, 0, NULL,
     false, "PostgreSQL user"},
    {"POSTGRES_PASSWORD", SET_STRING, FIELD(postgres_password), "", 0, 0, NULL,
     true, "PostgreSQL password"},
    {"BIND_ADDRESS", SET_STRING, FIELD(bind_address), "0.0.0.0", 0, 0, NULL,
     false, "address to listen on (IPv4 or IPv6 literal)"},
    {"PORT", SET_INT, FIELD(port), "8000", 1, 65535, NULL, false,
     "TCP port to listen on"},
    {"WORKERS", SET_INT, FIELD(workers), "32", 1, 256, NULL, false,
     "worker threads, each with its own database connection"},
    {"MAX_BODY_BYTES", SET_INT, FIELD(max_body_bytes), "1048576", 1024, INT_MAX,
     NULL, false, "largest request body accepted (larger: 413)"},
    {"MAX_CONNECTIONS", SET_INT, FIELD(max_connections), "1024", 1, 100000,
     NULL, false, "simultaneous client connections"},
    {"MAX_HEADER_BYTES", SET_INT, FIELD(max_header_bytes), "16384", 1024,
     1048576, NULL, false,
     "largest request line plus headers accepted (larger: 431)"},
    {"MAX_CONNECTIONS_PER_CLIENT", SET_INT, FIELD(max_connections_per_client),
     "128", 0, 100000, NULL, false,
     "simultaneous connections from one client address (0: no limit)"},
    {"CONNECTION_TIMEOUT", SET_INT, FIELD(connection_timeout), "30", 1, 3600,
     NULL, false, "seconds an idle or stalled connection is kept"},
    {"REQUEST_TIMEOUT", SET_INT, FIELD(request_timeout), "30", 1, 3600, NULL,
     false,
     "seconds a client has to send a whole request, counted from connecting "
     "or from its previous response (later: 408)"},
    {"SHUTDOWN_TIMEOUT", SET_INT, FIELD(shutdown_timeout), "8", 0, 600, NULL,
     false, "seconds to let in-flight requests finish on SIGTERM"},
    {"PUBLIC_KEY", SET_STRING, FIELD(public_key), "", 0, 0, NULL, false,
     "PEM text of the RS256 public key that verifies tokens"},
    {"PUBLIC_KEY_FILE", SET_STRING, FIELD(public_key_file), "", 0, 0, NULL,
     false, "file holding that public key (instead of PUBLIC_KEY)"},
    {"PRIVATE_KEY_FILE", SET_STRING, FIELD(private_key_file), "", 0, 0, NULL,
     false, "private key the `token` command signs with"},
    {"ADMIN_AUTH", SET_SWITCH, FIELD(admin_auth), "on", 0, 0, NULL, false,
     "on: /admin/ needs an admin token; off: open, as the original"},
    {"LOG_LEVEL", SET_CHOICE, FIELD(log_level), "info", 0, 0, levels, false,
     "error, warning, info or debug"},
    {"LOG_FORMAT", SET_CHOICE, FIELD(log_format), "text", 0, 0, formats, false,
     "text, or json for one JSON object per line"},
    {"ACCESS_LOG", SET_SWITCH, FIELD(access_log), "on", 0, 0, NULL, false,
     "one line per request on stdout"},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

static void *field(struct config *cfg, const struct setting *s)
{
    return (char *)cfg + s->offset;
}

static const void *cfield(const struct config *cfg, const struct setting *s)
{
    return (const char *)cfg + s->offset;
}

static bool parse_int(const char *text, const struct setting *s, int *out)
{
    char *end;

    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < s->min || v > s->max)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_switch(const char *text, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool parse_choice(const char *text, const struct setting *s, int *out)
{
    for (int i = 0; s->choices[i] != NULL; i++) {
        if (strcasecmp(text, s->choices[i]) == 0) {
            *out = i;
            return true;
        }
    }
    return false;
}

/* Describes what a setting accepts, for error messages and --help. */
static void describe_accepted(const struct setting *s, char *out, size_t size)
{
    switch (s->type) {
    case SET_STRING:
        snprintf(out, size, "any text");
        break;
    case SET_INT:
        snprintf(out, size, "a whole number from %ld to %ld", s->min, s->max);
        break;
    case SET_SWITCH:
        snprintf(out, size, "on or off");
        break;
    case SET_CHOICE: {
        size_t n = (size_t)snprintf(out, size, "one of");
        for (int i = 0; s->choices[i] != NULL && n < size; i++)
            n += (size_t)snprintf(out + n, size - n, "%s %s", i ? "," : "",
                                  s->choices[i]);
        break;
    }
    }
}

static bool parse_setting(struct config *cfg, const struct setting *s,
                          const char *text)
{
    switch (s->type) {
    case SET_STRING:
        *(char **)field(cfg, s) = xstrdup(text);
        return true;
    case SET_INT:
        return parse_int(text, s, field(cfg, s));
    case SET_SWITCH:
        return parse_switch(text, field(cfg, s));
    case SET_CHOICE:
        return parse_choice(text, s, field(cfg, s));
    }
    return false;
}

static bool ip_literal(const char *text)
{
    unsigned char addr[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, text, addr) == 1 ||
           inet_pton(AF_INET6, text, addr) == 1;
}

/* Cross-setting rules and derived values, after every value parsed. */
static bool finish(struct config *cfg, char *err, size_t err_size)
{
    if (cfg->public_key[0] != '\0' && cfg->public_key_file[0] != '\0') {
        snprintf(err, err_size,
                 "PUBLIC_KEY and PUBLIC_KEY_FILE are both set; "
                 "set only one of them");
        return false;
    }
    if (cfg->data_dir[0] == '\0') {
        snprintf(err, err_size, "DATA_DIR is empty; set it to a directory");
        return false;
    }
    /* Checked here, not when binding, so that a typo is exit code 3. */
    if (!ip_literal(cfg->bind_address)) {
        snprintf(err, err_size,
                 "BIND_ADDRESS=%s is not valid: it must be an IPv4 or IPv6 "
                 "address (for example 0.0.0.0, 127.0.0.1 or ::)",
                 cfg->bind_address);
        return false;
    }
    if (cfg->sqlite_path[0] == '\0') {
        struct buf path = BUF_INIT;
        buf_printf(&path, "%s/thoughts.db", cfg->data_dir);
        free(cfg->sqlite_path);
        cfg->sqlite_path = path.data;
    }
    return true;
}

bool config_load(struct config *cfg, config_getter get, char *err,
                 size_t err_size)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        const char *value = get(s->name);
        bool from_user = value != NULL;

        if (!from_user)
            value = s->fallback;
        if (parse_setting(cfg, s, value))
            continue;

        char accepted[160];
        describe_accepted(s, accepted, sizeof(accepted));
        snprintf(err, err_size, "%s=%s is not valid: it must be %s", s->name,
                 s->secret ? "(hidden)" : value, accepted);
        return false;
    }
    return finish(cfg, err, err_size);
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (settings[i].type == SET_STRING) {
            char **p = field(cfg, &settings[i]);
            free(*p);
            *p = NULL;
        }
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
                       end[-1] == '\n'))
        end--;
    *end = '\0';
    return s;
}

static bool valid_name(const char *s)
{
    if (*s == '\0' || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s != '\0'; s++) {
        char c = *s;
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

int config_parse_env_line(char *line, char **key, char **value)
{
    char *s = trim(line);

    if (*s == '\0' || *s == '#')
        return 0;
    if (strncmp(s, "export ", 7) == 0)
        s = trim(s + 7);

    char *eq = strchr(s, '=');
    if (eq == NULL)
        return -1;
    *eq = '\0';
    char *k = trim(s);
    char *v = trim(eq + 1);
    if (!valid_name(k))
        return -1;

    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        v++;
    }
    *key = k;
    *value = v;
    return 1;
}

bool config_read_env_file(const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    bool ok = true;

    if (f == NULL) {
        snprintf(err, err_size, "cannot read env file %s: %s", path,
                 strerror(errno));
        return false;
    }
    while (getline(&line, &cap, f) != -1) {
        char *key, *value;
        lineno++;
        int r = config_parse_env_line(line, &key, &value);
        if (r == 0)
            continue;
        if (r < 0) {
            snprintf(err, err_size,
                     "%s line %u: expected NAME=VALUE, a comment or a blank "
                     "line",
                     path, lineno);
            ok = false;
            break;
        }
        setenv(key, value, 0);
    }
    free(line);
    fclose(f);
    return ok;
}

void config_print_help(FILE *out)
{
    fprintf(out, "Settings (environment variables):\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        fprintf(out, "  %-20s %s\n", s->name, s->help);
        if (s->fallback[0] != '\0')
            fprintf(out, "  %-20s   default: %s\n", "", s->fallback);
    }
}

static void format_value(const struct config *cfg, const struct setting *s,
                         char *out, size_t size)
{
    const void *p = cfield(cfg, s);

    switch (s->type) {
    case SET_STRING: {
        const char *v = *(char *const *)p;
        if (v[0] != '\0' && s->secret)
            snprintf(out, size, "********");
        else if (strlen(v) > 60 || strchr(v, '\n') != NULL)
            snprintf(out, size, "(%zu bytes)", strlen(v));
        else
            snprintf(out, size, "%s", v);
        break;
    }
    case SET_INT:
        snprintf(out, size, "%d", *(const int *)p);
        break;
    case SET_SWITCH:
        snprintf(out, size, "%s", *(const bool *)p ? "on" : "off");
        break;
    case SET_CHOICE:
        snprintf(out, size, "%s", s->choices[*(const int *)p]);
        break;
    }
}

void config_log_summary(const struct config *cfg)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char value[128];
        format_value(cfg, &settings[i], value, sizeof(value));
        log_info("setting %s=%s", settings[i].name, value);
    }
}
