# Bibliotime. `make` builds bin/, `make test` builds with sanitizers and runs every test,
# `make fuzz` runs the fuzz targets (10^7 executions), `make bench` runs the benchmarks,
# `make run` starts the whole system; `make install` / `make uninstall` (PREFIX, DESTDIR)
# and `make deb` (build/deb) are for operators.

CC      ?= cc
SAN     ?= 0
# INSTALL_BUILD=1 is `make install`'s own build (see "install" below): the folders of an
# installed system compiled in, the packager's flags (EXTRA_*FLAGS) added.
INSTALL_BUILD ?= 0
ifeq ($(INSTALL_BUILD),1)
BUILD   := build/install
BIN     := build/install/bin
OPT     := -O2 -g
else ifeq ($(SAN),1)
BUILD   := build/san
BIN     := build/san/bin
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
else
BUILD   := build/release
BIN     := bin
OPT     := -O2 -g
endif

PKGS     := libtirpc libpq libcrypto sdl2 SDL2_image SDL2_ttf
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CPPFLAGS := -D_GNU_SOURCE -iquote common -iquote common/ui -iquote test/sim -iquote $(BUILD)/gen $(PKG_CFLAGS)
# Messages are cut to the bounds of their buffers and .x strings on purpose, so
# -Wformat-truncation's "may be truncated" is no finding here.
CFLAGS   := -std=c11 $(OPT) -pthread -Wall -Wextra -Werror -Wno-format-truncation
# Only for rpcgen's output (PLATFORM.md).
GEN_CFLAGS := $(CFLAGS) -Wno-unused-variable -Wno-unused-parameter -Wno-cast-function-type
LDFLAGS  := $(OPT) -pthread
LDLIBS   := $(PKG_LIBS) -lm

# The version is debian/changelog's (its first line), for the installed programs'
# --version and the package alike.
VERSION       ?= $(or $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null),1.0)
# Where `make install` puts things (GNU names; DESTDIR is prefixed to every one of them
# when copying, never compiled in). Configuration stays in /etc whatever PREFIX says, as
# the programs look for it there.
PREFIX        ?= /usr/local
prefix        ?= $(PREFIX)
exec_prefix   ?= $(prefix)
bindir        ?= $(exec_prefix)/bin
sbindir       ?= $(exec_prefix)/sbin
libexecdir    ?= $(exec_prefix)/libexec
datarootdir   ?= $(prefix)/share
datadir       ?= $(datarootdir)
mandir        ?= $(datarootdir)/man
SYSCONFDIR    ?= /etc
sysconfdir    ?= $(SYSCONFDIR)
# systemd reads /usr/local/lib/systemd/system too; Debian 12 packages use /lib/systemd/system.
unitdir       ?= $(prefix)/lib/systemd/system
confdir       := $(sysconfdir)/bibliotime
pkgdatadir    := $(datadir)/bibliotime
pkglibexecdir := $(libexecdir)/bibliotime

ifeq ($(INSTALL_BUILD),1)
# The installed programs read $(confdir)/NAME.conf when present (common/proc.c).
CPPFLAGS += -DBT_CONFIG_DIR='"$(confdir)"' -DBT_VERSION='"$(VERSION)"' $(EXTRA_CPPFLAGS)
CFLAGS   += $(EXTRA_CFLAGS)
GEN_CFLAGS += $(EXTRA_CFLAGS)
LDFLAGS  += $(EXTRA_LDFLAGS)
endif

# The windows' languages (gettext): build/locale for bin/, $(localedir) when installed.
include po/po.mk

RPC_X      := $(wildcard rpc/*.x)
RPC_NAMES  := $(notdir $(RPC_X:.x=))
GEN_H      := $(RPC_NAMES:%=$(BUILD)/gen/%_rpc.h)
GEN_C      := $(RPC_NAMES:%=$(BUILD)/gen/%_xdr.c) $(RPC_NAMES:%=$(BUILD)/gen/%_clnt.c)
GEN_O      := $(GEN_C:$(BUILD)/gen/%.c=$(BUILD)/gen/%.o)

COMMON_SRC := $(wildcard common/*.c common/ui/*.c)
COMMON_O   := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIBCOMMON  := $(BUILD)/libcommon.a

DAEMONS    := time_server app_server client replication_server
# db/load-catalogue's first pass (catalogue/): a program of its own folder, built as
# the daemons are, so it lands in bin/ (and build/san/bin for the tests).
UTILS      := catalogue
PROGRAMS   := $(DAEMONS:%=$(BIN)/%) $(UTILS:%=$(BIN)/%)

# The synchronisation simulation, shared by its unit test and its tool.
SIM_SRC    := $(wildcard test/sim/*.c)
SIM_O      := $(SIM_SRC:%.c=$(BUILD)/%.o)
LIBSIM     := $(BUILD)/libsim.a

TOOL_SRC   := $(wildcard test/tools/*.c)
TOOLS      := $(TOOL_SRC:test/tools/%.c=$(BUILD)/test/%)
UNIT_SRC   := $(wildcard test/unit/test_*.c)
UNITS      := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)

.PHONY: all tools units test unit system bench run screenshots clean deps fuzz fuzz-build
.SECONDARY:

all: $(PROGRAMS)

tools: $(TOOLS)
units: $(UNITS)

# rpcgen names its header after the .x file; "time.h" would shadow <time.h>, so the
# header becomes NAME_rpc.h and the generated sources are pointed at it. The same rules
# for this build's folder and the fuzz build's.
define gen_rules
$(1)/gen/%_rpc.h: rpc/%.x
	@mkdir -p $$(dir $$@)
	rm -f $$@ && rpcgen -M -h -o $$@ $$<
$(1)/gen/%_xdr.c: rpc/%.x $(1)/gen/%_rpc.h
	rm -f $$@ && rpcgen -M -c -o $$@.tmp $$< && sed 's|^#include ".*$$*\.h"|#include "$$*_rpc.h"|' $$@.tmp > $$@ && rm -f $$@.tmp
$(1)/gen/%_clnt.c: rpc/%.x $(1)/gen/%_rpc.h
	rm -f $$@ && rpcgen -M -l -o $$@.tmp $$< && sed 's|^#include ".*$$*\.h"|#include "$$*_rpc.h"|' $$@.tmp > $$@ && rm -f $$@.tmp
endef
$(eval $(call gen_rules,$(BUILD)))

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	$(CC) $(CPPFLAGS) $(GEN_CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(COMMON_O) $(GEN_O)
	rm -f $@ && ar rcs $@ $^

# One daemon per folder: every .c in the folder, linked with the support library.
define daemon_rule
$(1)_O := $$(patsubst %.c,$(BUILD)/%.o,$$(wildcard $(1)/*.c))
$(BIN)/$(1): $$($(1)_O) $(LIBCOMMON)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(DAEMONS) $(UTILS),$(eval $(call daemon_rule,$(d))))

$(LIBSIM): $(SIM_O)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/test/%: $(BUILD)/test/tools/%.o $(LIBSIM) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/test/test_%: $(BUILD)/test/unit/test_%.o $(LIBSIM) $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS)

# ---- fuzzing: libFuzzer targets (test/fuzz/fuzz_*.c) under ASan and UBSan ----
# libFuzzer is clang's, and gcc's sanitizer runtimes do not mix with clang's: the support
# library, the generated XDR code and the servers' folders are compiled again with
# clang into build/fuzz, whatever SAN says. Each folder but its main() becomes an
# archive, so a target links only the members it uses.
FUZZ_CC      := clang-14
FUZZ_BUILD   := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OPT     := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_CPPFLAGS := -D_GNU_SOURCE -iquote common -iquote common/ui -iquote test/fuzz \
                -iquote time_server -iquote app_server -iquote replication_server \
                -iquote $(FUZZ_BUILD)/gen $(PKG_CFLAGS)
FUZZ_CFLAGS  := -std=c11 $(FUZZ_OPT) -fsanitize=fuzzer-no-link -pthread -Wall -Wextra -Werror
FUZZ_GEN_CFLAGS := $(FUZZ_CFLAGS) -Wno-unused-variable -Wno-unused-parameter \
                -Wno-cast-function-type
FUZZ_GEN_H   := $(RPC_NAMES:%=$(FUZZ_BUILD)/gen/%_rpc.h)
FUZZ_GEN_O   := $(GEN_C:$(BUILD)/gen/%.c=$(FUZZ_BUILD)/gen/%.o)
FUZZ_LIBCOMMON := $(FUZZ_BUILD)/libcommon.a
FUZZ_FOLDERS := time_server app_server replication_server
FUZZ_FOLDER_A := $(FUZZ_FOLDERS:%=$(FUZZ_BUILD)/%.a)
FUZZ_SRC     := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(FUZZ_SRC:test/fuzz/%.c=$(FUZZ_BUILD)/%)

$(eval $(call gen_rules,$(FUZZ_BUILD)))

$(FUZZ_BUILD)/gen/%.o: $(FUZZ_BUILD)/gen/%.c $(FUZZ_GEN_H)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_GEN_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/%.o: %.c $(FUZZ_GEN_H)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIBCOMMON): $(COMMON_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_GEN_O)
	rm -f $@ && ar rcs $@ $^

define fuzz_folder_rule
$(FUZZ_BUILD)/$(1).a: $$(patsubst %.c,$(FUZZ_BUILD)/%.o,$$(filter-out $(1)/main.c,$$(wildcard $(1)/*.c)))
	rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach d,$(FUZZ_FOLDERS),$(eval $(call fuzz_folder_rule,$(d))))

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/test/fuzz/fuzz_%.o $(FUZZ_BUILD)/test/fuzz/fuzzlib.o \
                      $(FUZZ_FOLDER_A) $(FUZZ_LIBCOMMON)
	$(FUZZ_CC) $(FUZZ_OPT) -fsanitize=fuzzer -pthread -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_TARGETS)

# At least 10^7 executions in all (test/fuzz/run says how many ran), the corpus in
# test/fuzz/corpus kept as it is; a crash ends it non-zero with the input saved.
fuzz: deps
	$(MAKE) fuzz-build
	test/fuzz/run --total $(or $(FUZZ_RUNS),10000000)

deps:
	scripts/deps

# Unit tests, then the whole system on loopback, all built with ASan and UBSan.
test: deps
	$(MAKE) SAN=1 all tools units
	$(MAKE) fuzz-build
	test/run-all

unit: deps
	$(MAKE) SAN=1 units
	test/run-all unit

bench: deps
	$(MAKE) all tools
	test/bench/run-all

run: deps
	$(MAKE) all
	scripts/run

# One PNG of each window in a scripted state, into docs/ (for the README).
screenshots: deps
	$(MAKE) all
	scripts/screenshots

# ---- install, man pages, Debian package ---------------------------------------------
# `make install` builds the programs once more in build/install (INSTALL_BUILD=1: the
# configuration folder $(confdir) and VERSION compiled in, so an installed program reads
# $(confdir)/NAME.conf; bin/ keeps reading none), makes the man pages from that build's
# --help and --version with help2man, and copies. Installed names:
#   $(sbindir)/bibliotime-{time,app,replication}-server, $(bindir)/bibliotime-client,
#   $(pkglibexecdir)/catalogue (db/load-catalogue's checker: no command of its own),
#   $(mandir)/man8, man1, $(pkgdatadir)/{db,images,rpc.names,keygen},
#   $(confdir)/*.conf (real, commented files; one the owner changed is kept), $(unitdir).
IB          := build/install
D            = $(DESTDIR)
SBIN_PROGS  := bibliotime-time-server bibliotime-app-server bibliotime-replication-server
BIN_PROGS   := bibliotime-client
# bibliotime-time-server -> time_server, its folder and build name.
prog_folder  = $(subst -,_,$(patsubst bibliotime-%,%,$(1)))
MAN_PAGES   := $(SBIN_PROGS:%=$(IB)/man/%.8) $(BIN_PROGS:%=$(IB)/man/%.1)
CONF_FILES  := time-server.conf replication-server.conf app-server-1.conf app-server-2.conf \
               client.conf
UNIT_FILES  := bibliotime-time-server.service bibliotime-replication-server.service \
               bibliotime-app-server@.service
DB_DATA     := $(wildcard db/*.sql) db/catalogue.tsv
COVERS      := $(wildcard images/*.png)
STAGED      := $(CONF_FILES:%=$(IB)/etc/%) $(UNIT_FILES:%=$(IB)/systemd/%) \
               $(IB)/share/load-catalogue
# The installed db/load-catalogue finds the checker relative to its own folder, so a copy
# under DESTDIR works as the final one does.
CHECKER_REL  = $(shell realpath -m --relative-to=$(pkgdatadir)/db $(pkglibexecdir))

# What the install build depends on: a change of any of these rebuilds it (the file is
# rewritten only when they change).
INSTALL_STAMP := $(CC) | $(VERSION) | $(bindir) $(sbindir) $(pkglibexecdir) $(pkgdatadir) \
                 $(mandir) $(confdir) $(unitdir) | $(EXTRA_CPPFLAGS) | $(EXTRA_CFLAGS) | \
                 $(EXTRA_LDFLAGS)
.PHONY: install install-build install-stage uninstall deb FORCE
FORCE:
$(IB)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(INSTALL_STAMP)' | cmp -s - $@ || echo '$(INSTALL_STAMP)' >$@

ifeq ($(INSTALL_BUILD),1)
$(COMMON_O) $(GEN_O) $(foreach d,$(DAEMONS) $(UTILS),$($(d)_O)): $(IB)/flags
endif

SUBST = sed -e 's|@sbindir@|$(sbindir)|g' -e 's|@bindir@|$(bindir)|g' \
            -e 's|@confdir@|$(confdir)|g' -e 's|@pkgdatadir@|$(pkgdatadir)|g' \
            -e 's|@unitdir@|$(unitdir)|g'
$(IB)/etc/app-server-%.conf: dist/etc/app-server.conf $(IB)/flags
	@mkdir -p $(@D)
	$(SUBST) -e 's|@N@|$*|g' $< >$@
$(IB)/etc/%.conf: dist/etc/%.conf $(IB)/flags
	@mkdir -p $(@D)
	$(SUBST) $< >$@
$(IB)/systemd/%.service: dist/systemd/%.service $(IB)/flags
	@mkdir -p $(@D)
	$(SUBST) $< >$@
$(IB)/share/load-catalogue: db/load-catalogue $(IB)/flags
	@mkdir -p $(@D)
	sed 's|^INSTALLED_CHECKER_DIR=$$|INSTALLED_CHECKER_DIR=$(CHECKER_REL)|' $< >$@
	@grep -q '^INSTALLED_CHECKER_DIR=.' $@ || { echo "db/load-catalogue: no INSTALLED_CHECKER_DIR= line to set" >&2; rm -f $@; exit 1; }

# help2man runs each program under its installed name (a link) with --config=/dev/null, so
# that a config file of the building machine's cannot change or break what it reads;
# man/NAME.h2m (its folders filled in) adds NAME, FILES, RPC PROGRAMS, EXIT STATUS, EXAMPLES and SEE ALSO.
define man_rule
$(IB)/man/$(1).$(2): $(IB)/bin/$(call prog_folder,$(1)) man/$(1).h2m $(IB)/flags
	@mkdir -p $(IB)/names $(IB)/man
	@command -v help2man >/dev/null || { echo "make: help2man not found (scripts/deps installs it)" >&2; exit 1; }
	ln -sfn ../bin/$(call prog_folder,$(1)) $(IB)/names/$(1)
	$(SUBST) man/$(1).h2m >$(IB)/man/$(1).h2m
	help2man --no-info --section=$(2) --manual=Bibliotime --source='Bibliotime $(VERSION)' \
		--include=$(IB)/man/$(1).h2m --help-option='--config=/dev/null --help' \
		--version-option='--config=/dev/null --version' --output=$$@.tmp $(IB)/names/$(1)
	mv $$@.tmp $$@
endef
$(foreach p,$(SBIN_PROGS),$(eval $(call man_rule,$(p),8)))
$(foreach p,$(BIN_PROGS),$(eval $(call man_rule,$(p),1)))

# In the install build's make (INSTALL_BUILD=1): everything install copies.
install-stage: $(PROGRAMS) $(MAN_PAGES) $(STAGED)

install-build:
	+$(MAKE) INSTALL_BUILD=1 install-stage

install: install-build
	install -d $(D)$(sbindir) $(D)$(bindir) $(D)$(pkglibexecdir) $(D)$(mandir)/man8 \
		$(D)$(mandir)/man1 $(D)$(pkgdatadir)/db $(D)$(pkgdatadir)/images $(D)$(unitdir) \
		$(D)$(confdir)
	$(foreach p,$(SBIN_PROGS),install -m 755 $(IB)/bin/$(call prog_folder,$(p)) $(D)$(sbindir)/$(p) &&) true
	$(foreach p,$(BIN_PROGS),install -m 755 $(IB)/bin/$(call prog_folder,$(p)) $(D)$(bindir)/$(p) &&) true
	install -m 755 $(IB)/bin/catalogue $(D)$(pkglibexecdir)/catalogue
	install -m 644 $(SBIN_PROGS:%=$(IB)/man/%.8) $(D)$(mandir)/man8/
	install -m 644 $(BIN_PROGS:%=$(IB)/man/%.1) $(D)$(mandir)/man1/
	install -m 644 $(DB_DATA) $(D)$(pkgdatadir)/db/
	install -m 755 db/setup $(D)$(pkgdatadir)/db/setup
	install -m 755 $(IB)/share/load-catalogue $(D)$(pkgdatadir)/db/load-catalogue
	install -m 644 $(COVERS) $(D)$(pkgdatadir)/images/
	install -m 644 rpc/rpc.names $(D)$(pkgdatadir)/rpc.names
	install -m 755 scripts/keygen $(D)$(pkgdatadir)/keygen
	install -m 644 $(UNIT_FILES:%=$(IB)/systemd/%) $(D)$(unitdir)/
	@# A config file its owner changed is kept; the shipped one is there to compare with.
	@for f in $(CONF_FILES); do \
		t=$(D)$(confdir)/$$f; \
		if [ -e "$$t" ] && ! cmp -s $(IB)/etc/$$f "$$t"; then \
			echo "make install: kept $$t (changed since it was installed; the shipped one is $(IB)/etc/$$f)"; \
		else \
			echo "install -m 644 $(IB)/etc/$$f $$t"; install -m 644 $(IB)/etc/$$f "$$t" || exit 1; \
		fi; \
	done
	@echo "make install: installed under $(or $(DESTDIR),/) (prefix $(prefix), config $(confdir)); append $(pkgdatadir)/rpc.names to /etc/rpc for names in rpcinfo -p"

# Removes what install put, but a config file that differs from the shipped one (said),
# and the folders of Bibliotime's own once empty.
uninstall:
	+$(MAKE) INSTALL_BUILD=1 $(CONF_FILES:%=$(IB)/etc/%)
	rm -f $(SBIN_PROGS:%=$(D)$(sbindir)/%) $(BIN_PROGS:%=$(D)$(bindir)/%) \
		$(D)$(pkglibexecdir)/catalogue \
		$(SBIN_PROGS:%=$(D)$(mandir)/man8/%.8) $(BIN_PROGS:%=$(D)$(mandir)/man1/%.1) \
		$(addprefix $(D)$(pkgdatadir)/db/,$(notdir $(DB_DATA)) setup load-catalogue) \
		$(addprefix $(D)$(pkgdatadir)/images/,$(notdir $(COVERS))) \
		$(D)$(pkgdatadir)/rpc.names $(D)$(pkgdatadir)/keygen \
		$(UNIT_FILES:%=$(D)$(unitdir)/%)
	@for f in $(CONF_FILES); do \
		t=$(D)$(confdir)/$$f; \
		[ -e "$$t" ] || continue; \
		if cmp -s $(IB)/etc/$$f "$$t"; then echo "rm -f $$t"; rm -f "$$t"; \
		else echo "make uninstall: kept $$t (changed since it was installed)"; fi; \
	done
	rmdir $(D)$(pkgdatadir)/db $(D)$(pkgdatadir)/images $(D)$(pkgdatadir) \
		$(D)$(pkglibexecdir) $(D)$(confdir) 2>/dev/null || true

# `make deb`: the working tree as it is (tracked and new files, not what .gitignore
# leaves out) copied to build/deb/bibliotime-VERSION and built there with
# dpkg-buildpackage (debian/), so its `debian/rules clean` cleans the copy, never this
# tree; then lintian, failing on errors. The .deb lands in build/deb.
DEB_DIR      := build/deb
DEB_VERSION   = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_ARCH      = $(shell dpkg --print-architecture)
DEB_JOBS     ?= 3
deb: deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/bibliotime-$(DEB_VERSION)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			xargs -0 sh -c 'for f; do [ -f "$$f" ] && printf "%s\0" "$$f"; done' sh | \
			tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/bibliotime-$(DEB_VERSION); \
	else \
		tar --exclude=./build --exclude=./bin --exclude=./var -cf - . | \
			tar -xf - -C $(DEB_DIR)/bibliotime-$(DEB_VERSION); \
	fi
	cd $(DEB_DIR)/bibliotime-$(DEB_VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -us -uc -b -j$(DEB_JOBS) >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; echo "make deb: dpkg-buildpackage failed (log: $(DEB_DIR)/build.log)" >&2; exit 1; }
	@echo "lintian $(DEB_DIR)/bibliotime_$(DEB_VERSION)_$(DEB_ARCH).changes"
	@rc=0; lintian --fail-on error $(DEB_DIR)/bibliotime_$(DEB_VERSION)_$(DEB_ARCH).changes \
		>$(DEB_DIR)/lintian.txt 2>&1 || rc=$$?; cat $(DEB_DIR)/lintian.txt; \
		[ $$rc = 0 ] || echo "make deb: lintian found errors (above)" >&2; exit $$rc
	@echo "make deb: $(DEB_DIR)/bibliotime_$(DEB_VERSION)_$(DEB_ARCH).deb"

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
