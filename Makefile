# Bibliotime. `make` builds bin/, `make test` builds with sanitizers and runs every test,
# `make fuzz` runs the fuzz targets (10^7 executions), `make bench` runs the benchmarks,
# `make run` starts the whole system.

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
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

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
