/* fuzz_catalogue: a catalogue file as db/load-catalogue checks it (common/catalogue.c,
 * through catalogue_convert: lines, fields, ISBNs across lines, covers, COPY rows).
 * Covers come from a stand-in for the files: a name with "png" in it reads as a PNG
 * file (the magic, then the name), one with "txt" as a text file, any other cannot be
 * read. */
#include "catalogue.h"
#include "fuzzlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *fuzz_null;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static void fuzz_report(void *ctx, long line, const char *msg)
{
    (void)ctx;
    (void)line;
    if (strlen(msg) == 0) /* every error says what */
        abort();
}

static int fuzz_cover(void *ctx, const char *path, unsigned char **data, size_t *n)
{
    (void)ctx;
    static const unsigned char magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    bool png = strstr(path, "png") != NULL;
    if (!png && !strstr(path, "txt"))
        return -1;
    size_t len = strlen(path);
    *n = len + (png ? sizeof magic : 0);
    *data = malloc(*n);
    if (!*data)
        return -1;
    if (png)
        memcpy(*data, magic, sizeof magic);
    memcpy(*data + (png ? sizeof magic : 0), path, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (!fuzz_null && !(fuzz_null = fopen("/dev/null", "w")))
        abort();
    if (n == 0)
        return 0;
    FILE *in = fmemopen((void *)data, n, "r");
    if (!in)
        return 0;
    struct catalogue_reader r;
    catalogue_reader_init(&r, "/images", fuzz_report, NULL);
    r.read_cover = fuzz_cover;
    int rc = catalogue_convert(&r, in, fuzz_null);
    /* All or nothing: a good file wrote every book; a bad one reported why. */
    if ((rc == 0) != (r.errors == 0) || r.books > r.line || r.covers > r.books)
        abort();
    catalogue_reader_free(&r);
    fclose(in);
    return 0;
}

static void fuzz_text_seed(const char *name, const char *text)
{
    fuzzlib_seed(name, text, strlen(text));
}

void fuzz_seeds(void)
{
    fuzz_text_seed("default-head",
                   "# Bibliotime default catalogue\n"
                   "9780142437247\tMoby-Dick\tHerman Melville\t1851\t9780142437247.png\n"
                   "9780141439518\tPride and Prejudice\tJane Austen\t1813\t9780141439518.png\n"
                   "9780060883287\tOne Hundred Years of Solitude\tGabriel García Márquez\t1967\t\n"
                   "\n"
                   "9780141441146\tJane Eyre\tCharlotte Brontë\t1847\t/abs/cover.png\n");
    fuzz_text_seed("generated",
                   "9780000000019\tGenerated Title 00001\tAda Lovelace\t1800\t\n"
                   "9780000000026\tGenerated Title 00002\tAlan Turing\t2024\t\n"
                   "9780000000033\tBack\\slash\tC. R. Lf\t-4000\t\r\n");
    fuzz_text_seed("errors",
                   "978014243724\tShort ISBN\tA\t1851\t\n"
                   "9780142437248\tWrong check\tA\t1851\t\n"
                   "9780142437247\t \tA\t10000\t\n"
                   "9780142437247\tDuplicate\t\t-4001\t\n"
                   "only\ttwo\n"
                   "9780141439518\tNot a PNG\tA\t1813\tnotes.txt\n"
                   "9780451524935\tNo cover file\tA\t1949\tmissing.jpg\n");
}
