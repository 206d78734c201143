/* Unit tests for common/pgarray.c: PostgreSQL array literals that any text survives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "pgarray.h"

static void test_empty_array(void **state)
{
    (void)state;
    struct pgarray a;
    pgarray_init(&a);
    assert_string_equal(pgarray_text(&a), "{}");
    pgarray_free(&a);
}

static void test_numbers_and_bools(void **state)
{
    (void)state;
    struct pgarray a, b;
    pgarray_init(&a);
    pgarray_init(&b);
    pgarray_add_i64(&a, 1);
    pgarray_add_i64(&a, -42);
    pgarray_add_i64(&a, INT64_MAX);
    pgarray_add_bool(&b, true);
    pgarray_add_bool(&b, false);
    assert_string_equal(pgarray_text(&a), "{\"1\",\"-42\",\"9223372036854775807\"}");
    assert_string_equal(pgarray_text(&b), "{\"t\",\"f\"}");
    pgarray_free(&a);
    pgarray_free(&b);
}

/* NULL is an SQL NULL; the text "NULL" stays text. */
static void test_null_and_the_word_null(void **state)
{
    (void)state;
    struct pgarray a;
    pgarray_init(&a);
    pgarray_add(&a, NULL);
    pgarray_add(&a, "NULL");
    pgarray_add(&a, "");
    assert_string_equal(pgarray_text(&a), "{NULL,\"NULL\",\"\"}");
    pgarray_free(&a);
}

static void test_quotes_backslashes_and_separators(void **state)
{
    (void)state;
    struct pgarray a;
    pgarray_init(&a);
    pgarray_add(&a, "O'Brien \"Ana\"");
    pgarray_add(&a, "a\\b, {c} d");
    pgarray_add(&a, "\xc3\x91usta");
    assert_string_equal(pgarray_text(&a),
                        "{\"O'Brien \\\"Ana\\\"\",\"a\\\\b, {c} d\",\"\xc3\x91usta\"}");
    pgarray_free(&a);
}

/* Text can be read again between adds, and long arrays grow past the first buffer. */
static void test_grows_and_reads_between_adds(void **state)
{
    (void)state;
    struct pgarray a;
    pgarray_init(&a);
    pgarray_add(&a, "x");
    assert_string_equal(pgarray_text(&a), "{\"x\"}");
    char big[64];
    memset(big, '"', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int i = 0; i < 1000; i++)
        pgarray_add(&a, big);
    const char *t = pgarray_text(&a);
    assert_non_null(t);
    assert_int_equal(a.count, 1001);
    /* {"x"} then 1000 times ,"<63 escaped quotes>" */
    assert_int_equal(strlen(t), 5 + 1000 * (1 + 2 + 2 * 63));
    assert_int_equal(t[strlen(t) - 1], '}');
    pgarray_free(&a);
    assert_null(a.buf);
    assert_int_equal(a.count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_array),
        cmocka_unit_test(test_numbers_and_bools),
        cmocka_unit_test(test_null_and_the_word_null),
        cmocka_unit_test(test_quotes_backslashes_and_separators),
        cmocka_unit_test(test_grows_and_reads_between_adds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
