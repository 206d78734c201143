/* config: a program's options from a file, so an operator need not write long command
 * lines. One long option a line, without its dashes: "name value" (the rest of the line
 * is the value, surrounding blanks dropped) or "name" for an option that takes none;
 * '#' starts a comment; blank lines are skipped. An option given on the command line
 * wins over the file's lines of that name (all of them, for a repeatable one). */
#ifndef BT_CONFIG_H
#define BT_CONFIG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

struct config_argv {
    int argc;
    char **argv;      /* argv[0], the file's options, then the command line's */
    int file_end;     /* argv[1 .. file_end-1] came from the file */
    int *line;        /* the file line of each of those */
    const char *path;
    char *storage;    /* the file's text, which argv's values point into */
    char *names;      /* the "--name" strings */
};

/* Reads path and builds the merged argument list. A missing file is an error only if
 * must_exist (an explicit --config); then *out has the command line alone. Returns 0,
 * or -1 with why ("FILE line N: unknown option 'x'", ...) filled. */
int config_merge(const char *path, bool must_exist, const struct option *opts, int argc,
                 char **argv, struct config_argv *out, char *why, size_t len);
/* The file line an argument index came from, or 0 if from the command line. */
int config_line_of(const struct config_argv *c, int index);
void config_free(struct config_argv *c);

/* Parses the text of a config file alone (for fuzzing): 0 or -1 with why filled. */
int config_check_text(char *text, const struct option *opts, char *why, size_t len);

#endif
