/* i18n: the programs' texts in Spanish or English, through gettext (domain "bibliotime",
 * catalogues built from po/ into build/locale, or LOCALEDIR once installed).
 *
 * What a person reads goes through _() (windows, dialogs, the client's terminal
 * output); log lines and what goes into a database stay English, for operators and
 * scripts. The language comes from LANGUAGE (its first entry), else LC_ALL, else
 * LC_MESSAGES, else LANG: es* gives Spanish, anything else English. It does not need
 * the es_MX locale to be generated: only LC_MESSAGES is set (to C.UTF-8) and LANGUAGE
 * chooses the catalogue, so numbers, option parsing and everything else stay in the C
 * locale. The C library's and libpq's own catalogues are kept out (they would turn
 * strerror() and database errors, which end up in log lines and the clock DB, into
 * Spanish). */
#ifndef BT_I18N_H
#define BT_I18N_H

#include <libintl.h>

#define I18N_DOMAIN "bibliotime"

#define _(s) gettext(s)
/* Marks a text for translation where it is defined; translated where it is shown. */
#define N_(s) (s)
/* A text with a context, for short texts that mean different things ("e" the key for
 * "exit"): xgettext --keyword=C_:1c,2. */
#define C_(ctx, s) i18n_pgettext(ctx "\004" s, s)

enum i18n_lang { I18N_EN = 0, I18N_ES = 1 };

/* Chooses the language, binds the catalogue and loads it (so a daemon that becomes an
 * unprivileged user right after still has it). Call first thing in main, before any
 * thread starts (it sets LANGUAGE and PGLOCALEDIR in the environment). Idempotent. */
enum i18n_lang i18n_init(void);
enum i18n_lang i18n_lang(void);
/* "es" or "en". */
const char *i18n_code(void);
/* Where the catalogues were looked for ("" before i18n_init). */
const char *i18n_localedir(void);
/* The language the environment asks for, as i18n_init decides it (for tests). */
enum i18n_lang i18n_lang_from_env(void);

/* pgettext: msgid with its context in front ("ctx\004msgid"); msgid when untranslated. */
const char *i18n_pgettext(const char *ctx_msgid, const char *msgid);

#endif
