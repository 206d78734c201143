/* i18n: gettext set-up (see i18n.h). */
#include "i18n.h"

#include <libgen.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The installed catalogues (make install: -DLOCALEDIR="$(localedir)"). */
#ifndef LOCALEDIR
#define LOCALEDIR "/usr/share/locale"
#endif

static bool i18n_done;
static enum i18n_lang i18n_current = I18N_EN;
static char i18n_dir[PATH_MAX];

static const char *const i18n_codes[] = {[I18N_EN] = "en", [I18N_ES] = "es"};

/* The first language a value names: "es_MX.UTF-8", "es:en", "es" give Spanish. */
static enum i18n_lang i18n_lang_of(const char *v)
{
    return strncasecmp(v, "es", 2) == 0 && (v[2] == '\0' || strchr("_.@:", v[2]))
               ? I18N_ES
               : I18N_EN;
}

enum i18n_lang i18n_lang_from_env(void)
{
    static const char *const vars[] = {"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return i18n_lang_of(v);
    }
    return I18N_EN;
}

static bool i18n_has_catalogue(const char *dir, enum i18n_lang lang)
{
    char path[PATH_MAX + 64];
    int n = snprintf(path, sizeof path, "%s/%s/LC_MESSAGES/%s.mo", dir, i18n_codes[lang],
                     I18N_DOMAIN);
    return n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0;
}

/* BIBLIOTIME_LOCALEDIR; else the checkout's build/locale when the program runs from it
 * (bin/, build/san/bin, the test tools in build/san/test); else LOCALEDIR. */
static void i18n_find_dir(enum i18n_lang lang)
{
    const char *env = getenv("BIBLIOTIME_LOCALEDIR");
    if (env && *env) {
        snprintf(i18n_dir, sizeof i18n_dir, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        const char *bin = dirname(exe);
        static const char *const rel[] = {"../build/locale", "../../locale", "../locale"};
        for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            char cand[PATH_MAX];
            int k = snprintf(cand, sizeof cand, "%s/%s", bin, rel[i]);
            char real[PATH_MAX];
            if (k > 0 && (size_t)k < sizeof cand && realpath(cand, real) &&
                i18n_has_catalogue(real, lang)) {
                snprintf(i18n_dir, sizeof i18n_dir, "%s", real);
                return;
            }
        }
    }
    snprintf(i18n_dir, sizeof i18n_dir, "%s", LOCALEDIR);
}

enum i18n_lang i18n_init(void)
{
    if (i18n_done)
        return i18n_current;
    i18n_done = true;
    enum i18n_lang lang = i18n_lang_from_env();
    i18n_find_dir(lang);
    /* gettext ignores LANGUAGE in the "C" locale: C.UTF-8 (always there on Debian) is
     * not "C", and changes nothing else. Without it, the person's own locale if it is
     * not C either; else no catalogue at all (English). */
    const char *loc = setlocale(LC_MESSAGES, "C.UTF-8");
    if (!loc) {
        loc = setlocale(LC_MESSAGES, "");
        if (loc && (strcmp(loc, "C") == 0 || strcmp(loc, "POSIX") == 0))
            loc = NULL;
    }
    if (!loc)
        lang = I18N_EN;
    i18n_current = lang;
    setenv("LANGUAGE", i18n_codes[lang], 1);
    bindtextdomain(I18N_DOMAIN, i18n_dir);
    bind_textdomain_codeset(I18N_DOMAIN, "UTF-8");
    textdomain(I18N_DOMAIN);
    /* Only our catalogue: the C library's (strerror) and libpq's messages stay English,
     * as the log lines and DB rows they end up in. Neither has a catalogue in our
     * folder; libpq binds its own domain on first use, from PGLOCALEDIR. */
    bindtextdomain("libc", i18n_dir);
    setenv("PGLOCALEDIR", i18n_dir, 1);
    /* Loads the catalogue now, while the files are readable (a daemon started as root
     * becomes an unprivileged user next; the catalogue stays mapped). */
    (void)gettext("");
    return lang;
}

enum i18n_lang i18n_lang(void)
{
    return i18n_current;
}

const char *i18n_code(void)
{
    return i18n_codes[i18n_current];
}

const char *i18n_localedir(void)
{
    return i18n_dir;
}

const char *i18n_pgettext(const char *ctx_msgid, const char *msgid)
{
    const char *t = gettext(ctx_msgid);
    return t == ctx_msgid ? msgid : t;
}
