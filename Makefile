# poold - one non-recursive Makefile; safe under make -j.
#
#   make            build server/poold
#   make run        build and start the demo server in the foreground
#   make check      unit tests, fuzz-corpus replay, integration tests
#   make asan|tsan  the same binaries under ASan+UBSan / TSan (build/asan, build/tsan)
#   make check SAN=asan   every test against the sanitizer build
#   make fuzz       libFuzzer targets (clang) in build/fuzz
#   make format | format-check | install | clean
#
# Every Debian package a target needs is listed once, below.  A missing one is
# installed with apt-get when make runs as root; otherwise make prints the
# exact command and stops.

.DEFAULT_GOAL := all
SHELL := /bin/bash
PKG_CONFIG ?= pkg-config
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=

# ---- Debian packages, per target --------------------------------------------
PKGS_BUILD := pkg-config libsqlite3-dev libconfig-dev check libjansson-dev \
	libncurses-dev libsystemd-dev libsodium-dev
PKGS_CHECK := sqlite3 prometheus tmux groff
PKGS_FUZZ := clang libclang-rt-14-dev
PKGS_BENCH := wrk nginx valgrind
PC_MODULES := sqlite3 libconfig jansson ncursesw libsystemd libsodium

# $(call need_pkgs,LIST): install what is missing (root) or print the line
define need_pkgs
	@miss=; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || miss="$$miss $$p"; \
	done; \
	if [ -n "$$miss" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "  APT    $$miss"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$miss >/dev/null || exit 1; \
	  else \
	    echo "missing Debian packages; run:" >&2; \
	    echo "  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y$$miss" >&2; exit 1; \
	  fi; \
	fi
endef

# ---- flags ------------------------------------------------------------------
CSTD := -std=gnu11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wpointer-arith -Wundef -Wno-unused-parameter

SAN ?=
ifeq ($(SAN),)
B := build
OPT ?= -O2 -g
else ifeq ($(SAN),asan)
B := build/asan
OPT ?= -O1 -g -fno-omit-frame-pointer
SANFL := -fsanitize=address,undefined -fno-sanitize-recover=all
else ifeq ($(SAN),tsan)
B := build/tsan
OPT ?= -O1 -g
SANFL := -fsanitize=thread
else
$(error SAN must be empty, asan or tsan)
endif
# the default build puts its binaries in the tree, as the README shows
BIN := $(if $(SAN),$(B),.)
# ACCT=0: accounting compiled out, to measure what it costs
ACCT ?= 1
ifeq ($(ACCT),0)
B := $(B)/noacct
BIN := $(B)
ACCTFL := -DPOOLD_NO_ACCOUNTING
endif

NOCONF_GOALS := clean format format-check help
ifneq ($(filter-out $(NOCONF_GOALS),$(or $(MAKECMDGOALS),all)),)
include build/config.mk
endif

build/config.mk: Makefile
	@mkdir -p $(@D)
	$(call need_pkgs,$(PKGS_BUILD))
	@pc=$(PKG_CONFIG); { \
	  echo "PKG_CFLAGS := $$($$pc --cflags $(PC_MODULES))"; \
	  echo "PKG_LIBS := $$($$pc --libs $(PC_MODULES))"; \
	  echo "CHECK_CFLAGS := $$($$pc --cflags check)"; \
	  echo "CHECK_LIBS := $$($$pc --libs check)"; } > $@.tmp && mv $@.tmp $@

ALL_CFLAGS = $(CSTD) $(WARN) $(OPT) $(SANFL) $(ACCTFL) -I. $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFL) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lpthread

ifndef V
Q := @
endif

# ---- sources ----------------------------------------------------------------
LIB_SRCS := $(sort $(wildcard lib/*.c shm/*.c) $(filter-out server/main.c,$(wildcard server/*.c)))
POOLD_SRCS := server/main.c
POOLMON_SRCS := $(sort $(wildcard tools/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
INTEG_SRCS := $(sort $(wildcard tests/integration/*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/*_fuzz.c))
FUZZ_NAMES := $(patsubst tests/fuzz/%_fuzz.c,%,$(FUZZ_SRCS))

o = $(patsubst %.c,$(B)/%.o,$(1))
LIB_OBJS := $(call o,$(LIB_SRCS))
ALL_OBJS := $(call o,$(LIB_SRCS) $(POOLD_SRCS) $(POOLMON_SRCS) $(UNIT_SRCS) $(INTEG_SRCS) \
	$(FUZZ_SRCS) tests/fuzz/replay.c)

POOLD := $(BIN)/server/poold
POOLMON := $(BIN)/tools/poolmon
UNIT := $(B)/tests/unit/check_unit
INTEG := $(B)/tests/integration/check_integration
REPLAYS := $(patsubst %,$(B)/tests/fuzz/%_replay,$(FUZZ_NAMES))

# ---- build ------------------------------------------------------------------
all: $(POOLD) $(POOLMON)

$(B)/libpoold.a: $(LIB_OBJS)
	@mkdir -p $(@D); echo "  AR      $@"
	$(Q)rm -f $@; $(AR) rcs $@ $^

$(POOLD): $(call o,$(POOLD_SRCS)) $(B)/libpoold.a
	@mkdir -p $(@D); echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(POOLMON): $(call o,$(POOLMON_SRCS)) $(B)/libpoold.a
	@mkdir -p $(@D); echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT): $(call o,$(UNIT_SRCS)) $(B)/libpoold.a
	@mkdir -p $(@D); echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CHECK_LIBS)

$(INTEG): $(call o,$(INTEG_SRCS)) $(B)/libpoold.a
	@mkdir -p $(@D); echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CHECK_LIBS)

# gcc-built drivers that replay a fuzz target's corpus (no clang needed)
$(B)/tests/fuzz/%_replay: $(B)/tests/fuzz/%_fuzz.o $(B)/tests/fuzz/replay.o $(B)/libpoold.a
	@mkdir -p $(@D); echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# every object depends on a flags stamp that changes only when the flags do
$(B)/%.o: %.c $(B)/.flags
	@mkdir -p $(@D); echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<
$(B)/tests/%.o: tests/%.c $(B)/.flags
	@mkdir -p $(@D); echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

FLAGS_SIG = $(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) $(ALL_LDFLAGS)
$(B)/.flags: FORCE
	@mkdir -p $(@D); echo '$(FLAGS_SIG)' | cmp -s - $@ || echo '$(FLAGS_SIG)' > $@

# ---- run --------------------------------------------------------------------
run: $(POOLD)
	@mkdir -p var
	$(POOLD) -f -c conf/poold.conf

# ---- tests ------------------------------------------------------------------
check-deps:
	$(call need_pkgs,$(PKGS_CHECK))

check: check-unit check-fuzz-replay check-integration

# every test binary, for a parallel build before a serial test run
check-build: $(POOLD) $(POOLMON) $(UNIT) $(INTEG) $(REPLAYS)

check-unit: $(UNIT) | check-deps
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(UNIT)

check-fuzz-replay: $(REPLAYS) | check-deps
	@for n in $(FUZZ_NAMES); do \
	  echo "  REPLAY  tests/fuzz/corpus/$$n"; \
	  $(B)/tests/fuzz/$${n}_replay tests/fuzz/corpus/$$n || exit 1; \
	done

# integration tests boot the real binary; under a sanitizer, slower
check-integration: $(INTEG) $(POOLD) $(POOLMON) | check-deps
	POOLD_BIN=$(abspath $(POOLD)) POOLMON_BIN=$(abspath $(POOLMON)) CK_TIMEOUT_MULTIPLIER=$(if $(SAN),4,1) \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 $(INTEG)

asan tsan:
	$(MAKE) SAN=$@ all $(B)/tests/unit/check_unit

# ---- fuzzing (clang + libFuzzer) --------------------------------------------
FUZZ_CC := clang
FUZZ_FL := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1
fuzz-deps:
	$(call need_pkgs,$(PKGS_FUZZ))

fuzz: $(patsubst %,build/fuzz/%_fuzz,$(FUZZ_NAMES))
	@echo "fuzz targets in build/fuzz; run one with e.g."
	@echo "  build/fuzz/http_parser_fuzz -max_total_time=600 build/fuzz/corpus-http_parser tests/fuzz/corpus/http_parser"

build/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(LIB_SRCS) | fuzz-deps
	@mkdir -p $(@D) build/fuzz/corpus-$*; echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(CSTD) -Wall -Wextra -Werror -I. $(PKG_CFLAGS) $(FUZZ_FL) \
	  -o $@ $< $(LIB_SRCS) $(PKG_LIBS) -lpthread

# ---- bench (issue: performance) ---------------------------------------------
bench:
	@echo "make bench: not yet (the benchmark arrives with the performance work)" >&2
	@exit 1

# ---- format, install, clean -------------------------------------------------
FORMAT_FILES = $(shell git ls-files '*.[ch]' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

install: $(POOLD)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/etc/poold \
	  $(DESTDIR)$(PREFIX)/share/doc/poold
	install -m 0755 $(POOLD) $(DESTDIR)$(PREFIX)/sbin/poold
	install -m 0644 conf/poold.conf $(DESTDIR)$(PREFIX)/share/doc/poold/poold.conf
	test -e $(DESTDIR)$(PREFIX)/etc/poold/poold.conf || \
	  install -m 0644 conf/poold.conf $(DESTDIR)$(PREFIX)/etc/poold/poold.conf

clean:
	rm -rf build server/poold tools/poolmon

.PHONY: all run check check-build check-deps check-unit check-fuzz-replay check-integration \
	asan tsan fuzz fuzz-deps bench format format-check install clean FORCE
FORCE:
# keep intermediate objects (the replay drivers' .o files) between runs
.SECONDARY:

-include $(ALL_OBJS:.o=.d)
