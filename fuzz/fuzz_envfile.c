/*
 * fuzz_envfile: the env-file line parser and the settings table behind
 * it.  Each line of the input goes through config_parse_env_line(); the
 * pairs it yields are then fed to config_load() as the environment, so
 * every setting's parser sees hostile values too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/xalloc.h"

#define MAX_PAIRS 64

static const char *pair_key[MAX_PAIRS];
static const char *pair_value[MAX_PAIRS];
static size_t n_pairs;

static const char *from_pairs(const char *name)
{
    const char *found = NULL;

    for (size_t i = 0; i < n_pairs; i++) {
        if (strcmp(pair_key[i], name) == 0)
            found = pair_value[i];
    }
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xmalloc(size + 1);
    char *line = text;

    memcpy(text, data, size);
    text[size] = '\0';
    n_pairs = 0;
    while (line != NULL && n_pairs < MAX_PAIRS) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        char *key, *value;
        if (config_parse_env_line(line, &key, &value) == 1) {
            pair_key[n_pairs] = key;
            pair_value[n_pairs] = value;
            n_pairs++;
        }
        line = next;
    }

    struct config cfg;
    char err[256];
    config_load(&cfg, from_pairs, err, sizeof(err));
    config_free(&cfg);
    free(text);
    return 0;
}
