/* fuzz_keyring: a key file's text as every daemon reads it at start-up
 * (common/keyring.c, keyring_parse; keyring_load adds only the file's mode check). */
#include "fuzzlib.h"
#include "keyring.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    static struct keyring r;
    char why[300];
    if (keyring_parse(&r, (const char *)data, n, why, sizeof why) == 0) {
        for (int i = 0; i < r.n; i++)
            keyring_find(&r, r.key[i].id);
        keyring_find(&r, 0);
    }
    keyring_clear(&r);
    return 0;
}

static void fuzz_text_seed(const char *name, const char *text)
{
    fuzzlib_seed(name, text, strlen(text));
}

void fuzz_seeds(void)
{
    fuzz_text_seed("one-hex", "1 SHA256 HEX:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    fuzz_text_seed("two-keys", "# new key first\n"
                               "2 SHA256 HEX:A1B2C3D4E5F60718293A4B5C6D7E8F90\n"
                               "1 SHA256 a-text-key-of-24-bytes!\n");
    fuzz_text_seed("comments", "\n# keys for the lab\n\t# indented comment\n"
                               "4294967295 SHA256 HEX:0123456789abcdef0123456789abcdef\r\n");
    fuzz_text_seed("bad-algo", "3 MD5 HEX:0123456789abcdef0123456789abcdef\n");
    fuzz_text_seed("short-key", "5 SHA256 HEX:0011\n");
    fuzz_text_seed("no-newline", "9 SHA256 sixteen-bytes-key");
}
