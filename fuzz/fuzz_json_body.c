/*
 * fuzz_json_body: taking `text` out of a JSON request body, exactly as
 * POST /api/me/thoughts/ does (thoughts_json_text), then the text rules
 * that decide between 201 and 400.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/thoughts.h"
#include "core/text.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf text = BUF_INIT;
    enum thoughts_json r = thoughts_json_text((const char *)data, size, &text);

    if (r != THOUGHTS_JSON_TEXT && text.len != 0)
        abort();
    if (r == THOUGHTS_JSON_TEXT) {
        enum text_check check =
            text_check(buf_str(&text), text.len, STORE_TEXT_MAX);
        /* A NUL anywhere must be refused, never cut the text short. */
        if (check == TEXT_OK && memchr(buf_str(&text), '\0', text.len))
            abort();
    }
    buf_free(&text);
    return 0;
}
