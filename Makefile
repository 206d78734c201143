# Bibliotime. `make` builds bin/, `make test` builds with sanitizers and runs every test,
# `make bench` runs the benchmarks, `make run` starts the whole system.

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

.PHONY: all tools units test unit system bench run screenshots clean deps
.SECONDARY:

all: $(PROGRAMS)

tools: $(TOOLS)
units: $(UNITS)

# rpcgen names its header after the .x file; "time.h" would shadow <time.h>, so the
# header becomes NAME_rpc.h and the generated sources are pointed at it.
$(BUILD)/gen/%_rpc.h: rpc/%.x
	@mkdir -p $(dir $@)
	rm -f $@ && rpcgen -M -h -o $@ $<
$(BUILD)/gen/%_xdr.c: rpc/%.x $(BUILD)/gen/%_rpc.h
	rm -f $@ && rpcgen -M -c -o $@.tmp $< && sed 's|^#include ".*$*\.h"|#include "$*_rpc.h"|' $@.tmp > $@ && rm -f $@.tmp
$(BUILD)/gen/%_clnt.c: rpc/%.x $(BUILD)/gen/%_rpc.h
	rm -f $@ && rpcgen -M -l -o $@.tmp $< && sed 's|^#include ".*$*\.h"|#include "$*_rpc.h"|' $@.tmp > $@ && rm -f $@.tmp
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

deps:
	scripts/deps

# Unit tests, then the whole system on loopback, all built with ASan and UBSan.
test: deps
	$(MAKE) SAN=1 all tools units
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
