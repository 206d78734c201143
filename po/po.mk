# po/po.mk: the catalogues of the windows' and the client's texts (gettext, domain
# "bibliotime"). The Makefile includes it (`include po/po.mk`, after the folders of
# `make install`); it adds its own edges: `all` builds the catalogues, `install` and
# `uninstall` copy and remove them.
#
#   po/bibliotime.pot   the texts, extracted from the sources (`make pot`)
#   po/es.po, en.po     Spanish (Mexico) and English; `make po-update` merges a new
#                       .pot into them (English: msginit, the texts as they are)
#   build/locale/LANG/LC_MESSAGES/bibliotime.mo
#                       what the programs read when they run from bin/ or
#                       build/san/bin (common/i18n.c finds build/locale from
#                       /proc/self/exe; BIBLIOTIME_LOCALEDIR overrides it)
#   $(localedir)        where `make install` puts them, compiled into the install
#                       build as LOCALEDIR (default $(datarootdir)/locale)
#   make po-check       the .pot matches the sources and es.po translates all of it
#
# Needs gettext (msgfmt, xgettext, msgmerge, msginit, msgattrib, msgcomm).

PO_DOMAIN     := bibliotime
PO_DIR        := po
PO_LOCALE_DIR := build/locale
PO_LANGS      := $(patsubst $(PO_DIR)/%.po,%,$(wildcard $(PO_DIR)/*.po))
PO_POT        := $(PO_DIR)/$(PO_DOMAIN).pot
MO_FILES      := $(PO_LANGS:%=$(PO_LOCALE_DIR)/%/LC_MESSAGES/$(PO_DOMAIN).mo)
# The sources that mark texts: _(), N_(), C_() (a text with a context), ngettext().
PO_SOURCES     = $(sort $(shell grep -lP '(^|\W)(N?_|C_|ngettext)\x28' \
                   common/*.c common/ui/*.c time_server/*.c app_server/*.c client/*.c \
                   replication_server/*.c 2>/dev/null))
PO_XGETTEXT   := xgettext --language=C --from-code=UTF-8 --keyword=_ --keyword=N_ \
                 --keyword=C_:1c,2 --keyword=ngettext:1,2 --add-comments=TRANSLATORS: \
                 --package-name=Bibliotime --package-version=$(or $(VERSION),1.0) \
                 --msgid-bugs-address="the Bibliotime issues (issues show)" --sort-by-file
# Recursive: the Makefile's datarootdir (which follows prefix) is read when used.
localedir     ?= $(if $(datarootdir),$(datarootdir),/usr/local/share)/locale

# Keep the Makefile's default goal whatever the place of the include.
PO_SAVED_GOAL := $(.DEFAULT_GOAL)

.PHONY: mo pot po-update po-check install-locale uninstall-locale

all: mo
mo: $(MO_FILES)

$(PO_LOCALE_DIR)/%/LC_MESSAGES/$(PO_DOMAIN).mo: $(PO_DIR)/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@.tmp $< && mv $@.tmp $@

# The .pot is rewritten only when the texts changed (not for a new creation date).
pot:
	$(PO_XGETTEXT) -o $(PO_POT).tmp $(PO_SOURCES)
	@if [ -f $(PO_POT) ] && diff -q -I '^"POT-Creation-Date:' $(PO_POT) $(PO_POT).tmp >/dev/null; \
	then rm -f $(PO_POT).tmp; echo "$(PO_POT): up to date"; \
	else mv $(PO_POT).tmp $(PO_POT); echo "$(PO_POT): rewritten"; fi

po-update: pot
	msgmerge --quiet --update --backup=none --no-fuzzy-matching $(PO_DIR)/es.po $(PO_POT)
	msginit --no-translator --locale=en -i $(PO_POT) -o $(PO_DIR)/en.po 2>/dev/null
	@msgfmt --statistics -o /dev/null $(PO_DIR)/es.po

# Fails when a marked text is missing from the .pot, or Spanish lacks a translation.
po-check:
	@t=$$(mktemp); trap 'rm -f "$$t"' EXIT; \
	 $(PO_XGETTEXT) -o - $(PO_SOURCES) | msgcomm --unique -o - - $(PO_POT) >"$$t" || exit 1; \
	 if [ -s "$$t" ]; then cat "$$t"; \
	   echo "po-check: $(PO_POT) is not the sources' texts: make po-update" >&2; exit 1; fi
	@set -e; for l in $(PO_LANGS); do msgfmt --check -o /dev/null $(PO_DIR)/$$l.po; done
	@u=$$(msgattrib --untranslated --no-obsolete $(PO_DIR)/es.po | grep -c '^msgid ' || true); \
	 f=$$(msgattrib --only-fuzzy --no-obsolete $(PO_DIR)/es.po | grep -c '^msgid ' || true); \
	 n=$$(msgattrib --no-obsolete $(PO_DIR)/es.po | grep -c '^msgid ' || true); \
	 if [ "$$u" != 0 ] || [ "$$f" != 0 ]; then echo "po-check: es.po has untranslated or fuzzy texts" >&2; \
	   msgattrib --untranslated --only-fuzzy $(PO_DIR)/es.po >&2; exit 1; fi; \
	 echo "po-check: $(PO_POT) matches the sources; es.po translates all $$((n - 1)) texts"

install-locale: $(MO_FILES)
	$(foreach l,$(PO_LANGS),install -d $(DESTDIR)$(localedir)/$(l)/LC_MESSAGES && \
		install -m 644 $(PO_LOCALE_DIR)/$(l)/LC_MESSAGES/$(PO_DOMAIN).mo \
		$(DESTDIR)$(localedir)/$(l)/LC_MESSAGES/$(PO_DOMAIN).mo &&) true

uninstall-locale:
	rm -f $(PO_LANGS:%=$(DESTDIR)$(localedir)/%/LC_MESSAGES/$(PO_DOMAIN).mo)

install: install-locale
uninstall: uninstall-locale

# The installed programs look for their catalogues in $(localedir), compiled into
# common/i18n.o of the install build (rebuilt when localedir changes).
ifeq ($(INSTALL_BUILD),1)
.PHONY: po-force
po-force:
$(BUILD)/common/i18n.o: CPPFLAGS += -DLOCALEDIR='"$(localedir)"'
$(BUILD)/common/i18n.o: $(BUILD)/localedir
$(BUILD)/localedir: po-force
	@mkdir -p $(@D)
	@echo '$(localedir)' | cmp -s - $@ || echo '$(localedir)' >$@
endif

.DEFAULT_GOAL := $(PO_SAVED_GOAL)
