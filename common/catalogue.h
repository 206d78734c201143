/* catalogue: the catalogue file's format (db/catalogue.tsv), checked line by line as
 * db/load-catalogue loads it, and its books written as PostgreSQL COPY text.
 *
 * One book per line, exactly 5 TAB-separated fields:
 *   isbn13 <TAB> title <TAB> author <TAB> year <TAB> cover
 * A trailing CR is dropped; lines starting with # and lines of only spaces and TABs are
 * skipped. ISBN: 13 digits with a valid ISBN-13 check digit, each once in the file;
 * title 1..255 and author 1..127 bytes, not only spaces; year an integer in
 * -4000..9999; cover a PNG file name relative to the images folder, an absolute path,
 * or empty. Line numbers count every line, skipped ones too.
 *
 * Not app_server/catalogue.h (the books in an app server's memory, from its database):
 * this one knows the file. */
#ifndef BT_CATALOGUE_H
#define BT_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CATALOGUE_ISBN_LEN 13
#define CATALOGUE_TITLE_MAX 255
#define CATALOGUE_AUTHOR_MAX 127
#define CATALOGUE_YEAR_MIN (-4000)
#define CATALOGUE_YEAR_MAX 9999
/* Once this many errors are reported, the next line to check stops the reading. */
#define CATALOGUE_ERRORS_MAX 20

/* A field of a line: pointing into the line, not NUL-terminated. */
struct catalogue_field {
    const char *s;
    size_t len;
};

struct catalogue_entry {
    char isbn[CATALOGUE_ISBN_LEN + 1];
    struct catalogue_field title, author, cover;
    int year;
};

/* Called once per error (a line may have several): line 0 for an error of no line
 * ("too many errors, stopping", a read or write error). */
typedef void (*catalogue_report_fn)(void *ctx, long line, const char *msg);
/* Reads a cover file whole into *data (malloc'ed, freed by the caller). 0, or -1 if it
 * cannot be read. */
typedef int (*catalogue_cover_fn)(void *ctx, const char *path, unsigned char **data, size_t *n);

struct catalogue_seen;

struct catalogue_reader {
    const char *images;         /* where relative cover names are */
    catalogue_report_fn report;
    void *report_ctx;
    catalogue_cover_fn read_cover;  /* catalogue_read_file unless set otherwise */
    void *cover_ctx;
    long line;                  /* the last line read */
    int errors;
    long books;                 /* books written (the id of the last one) */
    long covers;
    struct catalogue_seen *seen;    /* ISBN -> its first line, open addressing */
    size_t nseen, cap;
};

enum catalogue_verdict {
    CATALOGUE_SKIP,     /* a comment or a blank line */
    CATALOGUE_BOOK,     /* well formed: *out filled, its cover still to be read */
    CATALOGUE_BAD,      /* errors reported */
    CATALOGUE_STOP      /* too many errors before it: reported, nothing checked */
};

void catalogue_reader_init(struct catalogue_reader *r, const char *images,
                           catalogue_report_fn report, void *report_ctx);
void catalogue_reader_free(struct catalogue_reader *r);

/* Checks the next line (len bytes without its newline; a trailing CR is dropped, hence
 * not const). */
enum catalogue_verdict catalogue_read_line(struct catalogue_reader *r, char *line, size_t len,
                                           struct catalogue_entry *out);

/* Does data start as a PNG file does? */
bool catalogue_png(const unsigned char *data, size_t n);
/* The default catalogue_cover_fn: the file, if it can be read and is not empty. */
int catalogue_read_file(void *unused, const char *path, unsigned char **data, size_t *n);

/* Writes e as the next row of "COPY book (id, isbn, title, author, year, cover,
 * cover_type) FROM STDIN", text format, with its cover (NULL: none), and counts it:
 * r->books is its id. 0, or -1 on a write error. */
int catalogue_copy_row(struct catalogue_reader *r, FILE *out, const struct catalogue_entry *e,
                       const unsigned char *cover, size_t cover_len);

/* The whole file: checks every line of in, reads and checks the covers of the good ones
 * and writes those as COPY rows to out. 0 if every line was good, -1 after any error
 * (each reported; out is then to be thrown away). */
int catalogue_convert(struct catalogue_reader *r, FILE *in, FILE *out);

#endif
