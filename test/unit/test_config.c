/* Unit tests for common/config.c: config files merged with the command line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const struct option opts[] = {
    {"tm", required_argument, NULL, 1},   {"headless", no_argument, NULL, 2},
    {"allow", required_argument, NULL, 3}, {"db", required_argument, NULL, 4},
    {"config", required_argument, NULL, 5}, {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};

static char path[64];

static void write_file(const char *text)
{
    strcpy(path, "/tmp/test_config.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void joined(const struct config_argv *c, char *out, size_t len)
{
    out[0] = '\0';
    for (int i = 1; i < c->argc; i++) {
        strncat(out, c->argv[i], len - strlen(out) - 1);
        if (i + 1 < c->argc)
            strncat(out, "|", len - strlen(out) - 1);
    }
}

static void test_file_options_come_first_and_lines_are_kept(void **state)
{
    (void)state;
    write_file("# the time server\n\nheadless\ntm 2   # seconds\n  db \"host=db dbname=clock\"\r\n");
    char *argv[] = {"prog", NULL};
    struct config_argv c;
    char why[300], all[300];
    assert_int_equal(config_merge(path, true, opts, 1, argv, &c, why, sizeof why), 0);
    joined(&c, all, sizeof all);
    assert_string_equal(all, "--headless|--tm|2|--db|host=db dbname=clock");
    assert_int_equal(config_line_of(&c, 1), 3);
    assert_int_equal(config_line_of(&c, 2), 4);
    assert_int_equal(config_line_of(&c, 5), 5);
    assert_int_equal(config_line_of(&c, 0), 0);
    config_free(&c);
    unlink(path);
}

static void test_command_line_wins_even_for_repeatable_options(void **state)
{
    (void)state;
    write_file("tm 2\nallow 10.0.0.1\nallow 10.0.0.2\nheadless\n");
    char *argv[] = {"prog", "--allow", "127.0.0.1", "--tm=5", NULL};
    struct config_argv c;
    char why[300], all[300];
    assert_int_equal(config_merge(path, true, opts, 4, argv, &c, why, sizeof why), 0);
    joined(&c, all, sizeof all);
    assert_string_equal(all, "--headless|--allow|127.0.0.1|--tm=5");
    assert_int_equal(c.file_end, 2);
    assert_int_equal(config_line_of(&c, 2), 0);
    config_free(&c);
    unlink(path);
}

static void expect_error(const char *text, const char *want)
{
    write_file(text);
    char *argv[] = {"prog", NULL};
    struct config_argv c;
    char why[300], full[400];
    assert_int_equal(config_merge(path, true, opts, 1, argv, &c, why, sizeof why), -1);
    snprintf(full, sizeof full, "%s %s", path, want);
    assert_string_equal(why, full);
    unlink(path);
}

static void test_bad_lines_name_file_line_and_fault(void **state)
{
    (void)state;
    expect_error("headless\nspeed 3\n", "line 2: unknown option 'speed' (see --help)");
    expect_error("tm\n", "line 1: tm needs a value");
    expect_error("\n\nheadless yes\n", "line 3: headless takes no value (got 'yes')");
    expect_error("--tm 2\n", "line 1: '--tm': write the option's name without its dashes");
    expect_error("config /etc/x\n", "line 1: a config file cannot name another one");
    expect_error("help\n", "line 1: unknown option 'help' (see --help)");
}

static void test_missing_file(void **state)
{
    (void)state;
    char *argv[] = {"prog", "--tm", "3", NULL};
    struct config_argv c;
    char why[300], all[300];
    assert_int_equal(config_merge("/nonexistent/x.conf", true, opts, 3, argv, &c, why, sizeof why), -1);
    assert_string_equal(why, "/nonexistent/x.conf: No such file or directory");
    /* The default file of an installed program need not exist. */
    assert_int_equal(config_merge("/nonexistent/x.conf", false, opts, 3, argv, &c, why, sizeof why), 0);
    joined(&c, all, sizeof all);
    assert_string_equal(all, "--tm|3");
    config_free(&c);
}

static void test_nul_byte_refused(void **state)
{
    (void)state;
    strcpy(path, "/tmp/test_config.XXXXXX");
    int fd = mkstemp(path);
    assert_int_equal(write(fd, "tm 2\n\0x\n", 8), 8);
    close(fd);
    char *argv[] = {"prog", NULL};
    struct config_argv c;
    char why[300];
    assert_int_equal(config_merge(path, true, opts, 1, argv, &c, why, sizeof why), -1);
    assert_non_null(strstr(why, "holds a NUL byte"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_options_come_first_and_lines_are_kept),
        cmocka_unit_test(test_command_line_wins_even_for_repeatable_options),
        cmocka_unit_test(test_bad_lines_name_file_line_and_fault),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_nul_byte_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
