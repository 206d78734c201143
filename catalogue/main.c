/* catalogue: checks a catalogue file and turns it into COPY data: db/load-catalogue's
 * first pass (the rules are in common/catalogue.h).
 *
 *   catalogue [--images DIR] [--copy FILE] TSV
 *
 * TSV: the catalogue ("-": standard input). --images: where cover names that are not
 * absolute are (default: images). --copy: write the books there as the rows of
 * "COPY book (id, isbn, title, author, year, cover, cover_type) FROM STDIN" (text
 * format); without it the file is only checked.
 * Every error goes to stderr as "load-catalogue: TSV line N: why" (the loader's own
 * messages: its user runs the loader); then, if any, the exit status is 1. Otherwise it
 * prints "BOOKS COVERS" (the counts) and exits 0. Usage errors: exit 2. */
#include "catalogue.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void catalogue_main_report(void *ctx, long line, const char *msg)
{
    const char *name = ctx;
    if (line > 0)
        fprintf(stderr, "load-catalogue: %s line %ld: %s\n", name, line, msg);
    else
        fprintf(stderr, "load-catalogue: %s\n", msg);
}

static int catalogue_main_usage(FILE *to)
{
    fprintf(to, "usage: catalogue [--images DIR] [--copy FILE] TSV|-\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"images", required_argument, NULL, 'i'},
        {"copy", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *images = "images", *copy = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'i': images = optarg; break;
        case 'c': copy = optarg; break;
        case 'h': catalogue_main_usage(stdout); return 0;
        default: return catalogue_main_usage(stderr);
        }
    }
    if (optind != argc - 1)
        return catalogue_main_usage(stderr);
    const char *tsv = argv[optind];
    bool from_stdin = strcmp(tsv, "-") == 0;
    FILE *in = from_stdin ? stdin : fopen(tsv, "r");
    if (!in) {
        fprintf(stderr, "load-catalogue: cannot read catalogue %s: %s\n", tsv, strerror(errno));
        return 1;
    }
    FILE *out = copy ? fopen(copy, "w") : fopen("/dev/null", "w");
    if (!out) {
        fprintf(stderr, "catalogue: cannot write %s: %s\n", copy ? copy : "/dev/null",
                strerror(errno));
        return 1;
    }
    struct catalogue_reader r;
    catalogue_reader_init(&r, images, catalogue_main_report, (void *)(from_stdin ? "stdin" : tsv));
    int rc = catalogue_convert(&r, in, out);
    if (fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "catalogue: writing %s: %s\n", copy ? copy : "/dev/null", strerror(errno));
        rc = -1;
    }
    if (!from_stdin)
        fclose(in);
    if (rc == 0)
        printf("%ld %ld\n", r.books, r.covers);
    catalogue_reader_free(&r);
    return rc == 0 ? 0 : 1;
}
