#include "catalogue.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* A message quotes at most this much of a field: a line of a megabyte of junk gets a
 * readable error. */
#define CATALOGUE_MSG_MAX 600

struct catalogue_seen {
    uint64_t key;       /* the ISBN's value + 1; 0: a free slot */
    long line;
};

static const unsigned char catalogue_png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

void catalogue_reader_init(struct catalogue_reader *r, const char *images,
                           catalogue_report_fn report, void *report_ctx)
{
    memset(r, 0, sizeof *r);
    r->images = images;
    r->report = report;
    r->report_ctx = report_ctx;
    r->read_cover = catalogue_read_file;
}

void catalogue_reader_free(struct catalogue_reader *r)
{
    free(r->seen);
    r->seen = NULL;
    r->nseen = r->cap = 0;
}

__attribute__((format(printf, 3, 4)))
static void catalogue_report(struct catalogue_reader *r, long line, const char *fmt, ...)
{
    char msg[CATALOGUE_MSG_MAX + 200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->errors++;
    if (r->report)
        r->report(r->report_ctx, line, msg);
}

/* ---- the ISBNs seen so far ---- */

static size_t catalogue_slot(const struct catalogue_seen *t, size_t cap, uint64_t key)
{
    size_t i = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (cap - 1);
    while (t[i].key != 0 && t[i].key != key)
        i = (i + 1) & (cap - 1);
    return i;
}

static int catalogue_grow(struct catalogue_reader *r)
{
    size_t cap = r->cap ? r->cap * 2 : 64;
    struct catalogue_seen *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < r->cap; i++)
        if (r->seen[i].key)
            t[catalogue_slot(t, cap, r->seen[i].key)] = r->seen[i];
    free(r->seen);
    r->seen = t;
    r->cap = cap;
    return 0;
}

/* The line that had this ISBN first, or 0 (then it is this line's from now on); -1 out
 * of memory. */
static long catalogue_seen_at(struct catalogue_reader *r, const char *isbn)
{
    uint64_t key = 0;
    for (int i = 0; i < CATALOGUE_ISBN_LEN; i++)
        key = key * 10 + (uint64_t)(isbn[i] - '0');
    key++; /* 0000000000000 is a valid ISBN-13, and 0 marks a free slot */
    if ((r->nseen + 1) * 2 > r->cap && catalogue_grow(r) < 0)
        return -1;
    struct catalogue_seen *e = &r->seen[catalogue_slot(r->seen, r->cap, key)];
    if (e->key)
        return e->line;
    *e = (struct catalogue_seen){key, r->line};
    r->nseen++;
    return 0;
}

/* ---- the fields ---- */

static bool catalogue_blank(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || s[i] == '\0')
            return false;
    return true;
}

static bool catalogue_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return n > 0;
}

static bool catalogue_isbn_check(const char *s)
{
    int sum = 0;
    for (int i = 0; i < CATALOGUE_ISBN_LEN; i++)
        sum += (s[i] - '0') * (i % 2 ? 3 : 1);
    return sum % 10 == 0;
}

/* -?[0-9]+, at most 6 characters, within the years allowed. */
static bool catalogue_year(const struct catalogue_field *f, int *year)
{
    const char *s = f->s;
    size_t n = f->len;
    if (n > 6)
        return false;
    bool neg = n > 0 && s[0] == '-';
    if (!catalogue_digits(s + neg, n - neg))
        return false;
    int v = 0;
    for (size_t i = neg; i < n; i++)
        v = v * 10 + (s[i] - '0');
    if (neg)
        v = -v;
    if (v < CATALOGUE_YEAR_MIN || v > CATALOGUE_YEAR_MAX)
        return false;
    *year = v;
    return true;
}

static int catalogue_quote_len(size_t n)
{
    return n > CATALOGUE_MSG_MAX ? CATALOGUE_MSG_MAX : (int)n;
}

/* Name of the field and its limit: "empty title", "title longer than 255 bytes". */
static bool catalogue_text(struct catalogue_reader *r, const struct catalogue_field *f,
                           const char *what, size_t max)
{
    if (catalogue_blank(f->s, f->len, " ")) {
        catalogue_report(r, r->line, "empty %s", what);
        return false;
    }
    if (f->len > max) {
        catalogue_report(r, r->line, "%s longer than %zu bytes", what, max);
        return false;
    }
    return true;
}

static bool catalogue_isbn(struct catalogue_reader *r, const struct catalogue_field *f,
                           char isbn[CATALOGUE_ISBN_LEN + 1])
{
    if (f->len != CATALOGUE_ISBN_LEN || !catalogue_digits(f->s, f->len)) {
        catalogue_report(r, r->line, "ISBN \"%.*s\" is not 13 digits", catalogue_quote_len(f->len),
                         f->s);
        return false;
    }
    memcpy(isbn, f->s, CATALOGUE_ISBN_LEN);
    isbn[CATALOGUE_ISBN_LEN] = '\0';
    if (!catalogue_isbn_check(isbn)) {
        catalogue_report(r, r->line, "ISBN %s has a wrong check digit", isbn);
        return false;
    }
    long first = catalogue_seen_at(r, isbn);
    if (first < 0) {
        catalogue_report(r, r->line, "out of memory keeping the ISBNs seen");
        return false;
    }
    if (first > 0) {
        catalogue_report(r, r->line, "ISBN %s already on line %ld", isbn, first);
        return false;
    }
    return true;
}

enum catalogue_verdict catalogue_read_line(struct catalogue_reader *r, char *line, size_t len,
                                           struct catalogue_entry *out)
{
    r->line++;
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
    if ((len > 0 && line[0] == '#') || catalogue_blank(line, len, " \t"))
        return CATALOGUE_SKIP;
    if (r->errors >= CATALOGUE_ERRORS_MAX) {
        catalogue_report(r, 0, "too many errors, stopping");
        return CATALOGUE_STOP;
    }
    struct catalogue_field f[5];
    size_t nf = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != '\t')
            continue;
        if (nf < 5)
            f[nf] = (struct catalogue_field){line + start, i - start};
        nf++;
        start = i + 1;
    }
    if (nf != 5) {
        catalogue_report(r, r->line,
                         "%zu fields, want 5 (isbn, title, author, year, cover; TAB-separated)", nf);
        return CATALOGUE_BAD;
    }
    memset(out, 0, sizeof *out);
    bool ok = catalogue_isbn(r, &f[0], out->isbn);
    ok = catalogue_text(r, &f[1], "title", CATALOGUE_TITLE_MAX) && ok;
    ok = catalogue_text(r, &f[2], "author", CATALOGUE_AUTHOR_MAX) && ok;
    if (!catalogue_year(&f[3], &out->year)) {
        catalogue_report(r, r->line, "year \"%.*s\" is not an integer in %d..%d",
                         catalogue_quote_len(f[3].len), f[3].s, CATALOGUE_YEAR_MIN,
                         CATALOGUE_YEAR_MAX);
        ok = false;
    }
    out->title = f[1];
    out->author = f[2];
    out->cover = f[4];
    return ok ? CATALOGUE_BOOK : CATALOGUE_BAD;
}

/* ---- covers and COPY rows ---- */

bool catalogue_png(const unsigned char *data, size_t n)
{
    return data && n >= sizeof catalogue_png_magic &&
           memcmp(data, catalogue_png_magic, sizeof catalogue_png_magic) == 0;
}

int catalogue_read_file(void *unused, const char *path, unsigned char **data, size_t *n)
{
    (void)unused;
    *data = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 0, len = 0;
    unsigned char *buf = NULL;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb)
                break;
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool ok = !ferror(f) && feof(f) && len > 0;
    fclose(f);
    if (!ok) {
        free(buf);
        return -1;
    }
    *data = buf;
    *n = len;
    return 0;
}

/* COPY's text format: a backslash starts an escape, TAB, newline and CR end fields or
 * rows (TAB and newline cannot be in a field; a CR inside one can). */
static void catalogue_copy_text(FILE *out, const struct catalogue_field *f)
{
    for (size_t i = 0; i < f->len; i++) {
        char c = f->s[i];
        if (c == '\\')
            fputs("\\\\", out);
        else if (c == '\r')
            fputs("\\r", out);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else
            fputc(c, out);
    }
}

static void catalogue_copy_hex(FILE *out, const unsigned char *data, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char buf[4096];
    size_t k = 0;
    fputs("\\\\x", out);
    for (size_t i = 0; i < n; i++) {
        buf[k++] = digits[data[i] >> 4];
        buf[k++] = digits[data[i] & 15];
        if (k == sizeof buf) {
            fwrite(buf, 1, k, out);
            k = 0;
        }
    }
    fwrite(buf, 1, k, out);
}

int catalogue_copy_row(struct catalogue_reader *r, FILE *out, const struct catalogue_entry *e,
                       const unsigned char *cover, size_t cover_len)
{
    r->books++;
    fprintf(out, "%ld\t%s\t", r->books, e->isbn);
    catalogue_copy_text(out, &e->title);
    fputc('\t', out);
    catalogue_copy_text(out, &e->author);
    fprintf(out, "\t%d\t", e->year);
    if (cover) {
        r->covers++;
        catalogue_copy_hex(out, cover, cover_len);
        fputs("\timage/png\n", out);
    } else {
        fputs("\\N\t\\N\n", out);
    }
    return ferror(out) ? -1 : 0;
}

/* Reads and checks the cover of a good line, then writes the line. 0, 1 the cover is
 * bad (reported), -1 a write error. */
static int catalogue_book(struct catalogue_reader *r, FILE *out, const struct catalogue_entry *e)
{
    if (e->cover.len == 0)
        return catalogue_copy_row(r, out, e, NULL, 0);
    const char *images = r->images ? r->images : ".";
    bool absolute = e->cover.s[0] == '/';
    size_t n = (absolute ? 0 : strlen(images) + 1) + e->cover.len + 1;
    char *path = malloc(n);
    if (!path) {
        catalogue_report(r, r->line, "out of memory reading a cover");
        return 1;
    }
    snprintf(path, n, "%s%s%.*s", absolute ? "" : images, absolute ? "" : "/",
             (int)e->cover.len, e->cover.s);
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = 1;
    /* A NUL in the name would name another file. */
    if (memchr(e->cover.s, '\0', e->cover.len) ||
        r->read_cover(r->cover_ctx, path, &data, &len) < 0)
        catalogue_report(r, r->line, "cannot read cover %s", path);
    else if (!catalogue_png(data, len))
        catalogue_report(r, r->line, "cover %s is not a PNG file", path);
    else
        rc = catalogue_copy_row(r, out, e, data, len);
    free(data);
    free(path);
    return rc;
}

int catalogue_convert(struct catalogue_reader *r, FILE *in, FILE *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc >= 0 && (n = getline(&line, &cap, in)) >= 0) {
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        struct catalogue_entry e;
        switch (catalogue_read_line(r, line, len, &e)) {
        case CATALOGUE_SKIP:
        case CATALOGUE_BAD:
            break;
        case CATALOGUE_STOP:
            rc = -1;
            break;
        case CATALOGUE_BOOK:
            if (catalogue_book(r, out, &e) < 0) {
                catalogue_report(r, 0, "cannot write the COPY data: %s", strerror(errno));
                rc = -1;
            }
            break;
        }
    }
    if (rc == 0 && ferror(in))
        catalogue_report(r, 0, "cannot read the catalogue: %s", strerror(errno));
    free(line);
    return r->errors ? -1 : 0;
}
