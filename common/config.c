#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX_BYTES (1 << 20)

struct config_item {
    const struct option *opt;
    char *value; /* NULL for an option without one */
    int line;
};

static const struct option *config_find(const struct option *opts, const char *name)
{
    for (const struct option *o = opts; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

static char *config_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* Splits text into items in place. n_items may be NULL (checking only). */
static int config_parse(char *text, size_t size, const char *path, const struct option *opts,
                        struct config_item *items, int *n_items, char *why, size_t len)
{
    if (memchr(text, '\0', size)) {
        snprintf(why, len, "%s: holds a NUL byte: not a text file", path);
        return -1;
    }
    int n = 0, line = 0;
    char *next = text;
    while (next && *next) {
        char *s = next;
        line++;
        next = strchr(s, '\n');
        if (next)
            *next++ = '\0';
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        s = config_trim(s);
        if (!*s)
            continue;
        char *value = s + strcspn(s, " \t");
        if (*value)
            *value++ = '\0';
        value = config_trim(value);
        size_t vlen = strlen(value);
        if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
            value[vlen - 1] = '\0';
            value++;
        }
        if (s[0] == '-') {
            snprintf(why, len, "%s line %d: '%s': write the option's name without its dashes",
                     path, line, s);
            return -1;
        }
        const struct option *o = config_find(opts, s);
        if (!o || strcmp(s, "help") == 0) {
            snprintf(why, len, "%s line %d: unknown option '%s' (see --help)", path, line, s);
            return -1;
        }
        if (strcmp(s, "config") == 0) {
            snprintf(why, len, "%s line %d: a config file cannot name another one", path, line);
            return -1;
        }
        if (o->has_arg == required_argument && !*value) {
            snprintf(why, len, "%s line %d: %s needs a value", path, line, s);
            return -1;
        }
        if (o->has_arg == no_argument && *value) {
            snprintf(why, len, "%s line %d: %s takes no value (got '%s')", path, line, s, value);
            return -1;
        }
        if (items) {
            items[n].opt = o;
            items[n].value = o->has_arg == no_argument ? NULL : value;
            items[n].line = line;
        }
        n++;
    }
    if (n_items)
        *n_items = n;
    return 0;
}

int config_check_text(char *text, const struct option *opts, char *why, size_t len)
{
    return config_parse(text, strlen(text), "config", opts, NULL, NULL, why, len);
}

static char *config_read(const char *path, bool must_exist, size_t *size, char *why, size_t len,
                         bool *missing)
{
    *missing = false;
    FILE *f = fopen(path, "r");
    if (!f) {
        *missing = errno == ENOENT && !must_exist;
        snprintf(why, len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(CONFIG_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, CONFIG_MAX_BYTES + 1, f) : 0;
    bool bad = ferror(f);
    fclose(f);
    if (!text || bad || n > CONFIG_MAX_BYTES) {
        snprintf(why, len, "%s: %s", path, !text ? "out of memory" : bad ? "cannot be read"
                                                                       : "larger than 1 MB");
        free(text);
        return NULL;
    }
    text[n] = '\0';
    *size = n;
    return text;
}

/* Is the option named on the command line (as --name or --name=value)? */
static bool config_on_command_line(const char *name, int argc, char **argv)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strncmp(argv[i], "--", 2) == 0 && strncmp(argv[i] + 2, name, n) == 0 &&
            (argv[i][2 + n] == '\0' || argv[i][2 + n] == '='))
            return true;
    }
    return false;
}

int config_merge(const char *path, bool must_exist, const struct option *opts, int argc,
                 char **argv, struct config_argv *out, char *why, size_t len)
{
    memset(out, 0, sizeof *out);
    out->path = path;
    size_t size = 0;
    bool missing;
    char *text = config_read(path, must_exist, &size, why, len, &missing);
    int n = 0;
    struct config_item *items = NULL;
    if (text) {
        items = calloc(size / 2 + 1, sizeof *items);
        if (!items) {
            snprintf(why, len, "%s: out of memory", path);
            free(text);
            return -1;
        }
        if (config_parse(text, size, path, opts, items, &n, why, len) < 0) {
            free(items);
            free(text);
            return -1;
        }
    } else if (!missing) {
        return -1;
    }
    /* argv[0], two slots an item, the command line, NULL */
    out->argv = calloc((size_t)(1 + 2 * n + argc), sizeof *out->argv);
    out->line = calloc((size_t)(1 + 2 * n), sizeof *out->line);
    char *names = malloc((size_t)n * 132 + 1);
    if (!out->argv || !out->line || !names) {
        snprintf(why, len, "%s: out of memory", path);
        free(names);
        free(items);
        free(text);
        config_free(out);
        return -1;
    }
    out->storage = text;
    int k = 0;
    out->argv[k++] = argv[0];
    char *w = names;
    for (int i = 0; i < n; i++) {
        if (config_on_command_line(items[i].opt->name, argc, argv))
            continue;
        snprintf(w, 132, "--%.128s", items[i].opt->name);
        out->line[k] = items[i].line;
        out->argv[k++] = w;
        w += strlen(w) + 1;
        if (items[i].value) {
            out->line[k] = items[i].line;
            out->argv[k++] = items[i].value;
        }
    }
    out->file_end = k;
    for (int i = 1; i < argc; i++)
        out->argv[k++] = argv[i];
    out->argv[k] = NULL;
    out->argc = k;
    free(items);
    out->names = names;
    return 0;
}

int config_line_of(const struct config_argv *c, int index)
{
    return index > 0 && index < c->file_end ? c->line[index] : 0;
}

void config_free(struct config_argv *c)
{
    free(c->argv);
    free(c->line);
    free(c->names);
    free(c->storage);
    memset(c, 0, sizeof *c);
}
