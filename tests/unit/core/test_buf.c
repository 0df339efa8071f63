/*
 * Unit tests for core/buf: content, length and the trailing NUL after
 * every operation, growth, and reuse after reset and free.
 */
#include "testutil.h"

#include "core/buf.h"

static void test_fresh_buffer_is_empty_string(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
    assert_null(b.data);
}

static void test_append_puts_printf_concatenate(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_append(&b, "abc", 3);
    buf_puts(&b, "-def");
    buf_printf(&b, "-%d-%s-%05.1f", 42, "x", 2.5);
    assert_string_equal(buf_str(&b), "abc-def-42-x-002.5");
    assert_int_equal(b.len, strlen("abc-def-42-x-002.5"));
    assert_true(b.cap > b.len);
    buf_free(&b);
}

static void test_append_keeps_embedded_nul(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 3);
    assert_int_equal(b.data[3], '\0');
    buf_free(&b);
}

static void test_empty_append_gives_terminated_string(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_append(&b, "", 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

/* Growth by many small steps and one large one must keep every byte. */
static void test_growth_keeps_content(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char big[5000];

    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        buf_append(&b, &c, 1);
    }
    assert_int_equal(b.len, 10000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    assert_int_equal(b.data[10000], '\0');

    memset(big, 'Z', sizeof(big));
    buf_append(&b, big, sizeof(big));
    assert_int_equal(b.len, 15000);
    assert_int_equal(b.data[14999], 'Z');
    assert_int_equal(b.data[15000], '\0');
    assert_true(b.cap >= b.len + 1);
    buf_free(&b);
}

static void test_printf_longer_than_first_allocation(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char expect[301];

    memset(expect, 'q', 300);
    expect[300] = '\0';
    buf_puts(&b, "x");
    buf_printf(&b, "%s", expect);
    assert_int_equal(b.len, 301);
    assert_int_equal(b.data[0], 'x');
    assert_string_equal(b.data + 1, expect);
    buf_free(&b);
}

static void test_consume_drops_prefix(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_puts(&b, "hello world");
    buf_consume(&b, 6);
    assert_string_equal(buf_str(&b), "world");
    assert_int_equal(b.len, 5);

    buf_consume(&b, 0);
    assert_string_equal(buf_str(&b), "world");

    buf_consume(&b, 5);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");

    buf_puts(&b, "abc");
    buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

static void test_consume_on_fresh_buffer(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_consume(&b, 3);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_puts(&b, "some content");
    char *data = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_string_equal(buf_str(&b), "");

    buf_puts(&b, "again");
    assert_string_equal(buf_str(&b), "again");
    buf_free(&b);
}

static void test_reset_on_fresh_buffer(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
}

static void test_free_leaves_buffer_reusable(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;

    buf_puts(&b, "first");
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_string_equal(buf_str(&b), "");

    buf_puts(&b, "second");
    assert_string_equal(buf_str(&b), "second");
    buf_free(&b);
    buf_free(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_buffer_is_empty_string),
        cmocka_unit_test(test_append_puts_printf_concatenate),
        cmocka_unit_test(test_append_keeps_embedded_nul),
        cmocka_unit_test(test_empty_append_gives_terminated_string),
        cmocka_unit_test(test_growth_keeps_content),
        cmocka_unit_test(test_printf_longer_than_first_allocation),
        cmocka_unit_test(test_consume_drops_prefix),
        cmocka_unit_test(test_consume_on_fresh_buffer),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_reset_on_fresh_buffer),
        cmocka_unit_test(test_free_leaves_buffer_reusable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
