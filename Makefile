# saasctl: see README.md. `make` builds, `make check` runs every test.
VERSION    = 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
DESTDIR   ?=
PKG_CONFIG ?= pkg-config
CC        ?= cc
INSTALL   ?= install

LIBS_PC    = libcurl yaml-0.1 jansson libsodium libgit2 libssh2
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(LIBS_PC) 2>/dev/null)
# libcurl, libgit2 and libssh2 are loaded on first use (src/lazycurl.c,
# src/lazygit.c), so they are not linked; the binary opens the exact
# versions it was built against.
LAZY_PC    = libcurl libgit2 libssh2
PC_LIBS   := $(shell $(PKG_CONFIG) --libs $(filter-out $(LAZY_PC),$(LIBS_PC)) 2>/dev/null) -ldl -pthread
soname     = $(shell objdump -p $$($(PKG_CONFIG) --variable=libdir $(1))/$(2) 2>/dev/null | sed -n 's/^ *SONAME *//p')
LAZY_DEFS := -DLIBGIT2_SONAME='"$(call soname,libgit2,libgit2.so)"' \
	-DLIBSSH2_SONAME='"$(call soname,libssh2,libssh2.so)"'

CFLAGS    ?= -O2 -g
WARNINGS   = -Wall -Wextra -Wno-unused-parameter -Wformat=2 -Wshadow -Wstrict-prototypes
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS) $(PC_CFLAGS) -DSAASCTL_VERSION='"$(VERSION)"' $(LAZY_DEFS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS)

ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
BUILD = build/san
else
BUILD = build/std
endif

SRC_C   := $(sort $(wildcard src/*.c))
CMD_C   := $(sort $(wildcard cmd/*.c))
UNIT_C  := $(sort $(wildcard tests/unit/test-*.c))
SRC_O   := $(SRC_C:%.c=$(BUILD)/%.o)
CMD_O   := $(CMD_C:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_C:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_C  := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(TOOL_C:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_C  := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_NAMES := $(FUZZ_C:tests/fuzz/%.c=%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
BIN     := $(BUILD)/saasctl

.PHONY: all check run-tests demo deps bench install uninstall clean completions fuzz

all: saasctl

saasctl: $(BIN)
	cp $(BIN) $@

$(BIN): $(CMD_O) $(BUILD)/libsaasctl.a
	$(CC) $(ALL_CFLAGS) -o $@ $(CMD_O) $(BUILD)/libsaasctl.a $(ALL_LDFLAGS) $(PC_LIBS)

$(BUILD)/libsaasctl.a: $(SRC_O)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Every byte a backup exports goes through the LZ4 decoder, the Native
# walk and the row hashes of src/clickhouse.c: -O3 vectorises their loops
# (tests/bench/backup; make HOT_CFLAGS= to build it as the rest).
HOT_CFLAGS ?= -O3
$(BUILD)/src/clickhouse.o: ALL_CFLAGS += $(HOT_CFLAGS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libsaasctl.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(BUILD)/libsaasctl.a $(ALL_LDFLAGS) $(PC_LIBS)

# Small programs the shell tests call (not tests themselves); they may
# drive library modules that no command uses yet.
$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsaasctl.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(BUILD)/libsaasctl.a $(ALL_LDFLAGS) $(PC_LIBS)

# The fuzz harnesses with a replay main() instead of libFuzzer: make check
# runs every corpus file through them (tests/e2e/t0012-fuzz-corpus.sh).
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(BUILD)/libsaasctl.a
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) -Isrc -o $@ $< tests/fuzz/replay.c \
		$(BUILD)/libsaasctl.a $(ALL_LDFLAGS) $(PC_LIBS)

-include $(SRC_O:.o=.d) $(CMD_O:.o=.d)

# libFuzzer: each harness (tests/fuzz/fuzz-*.c) for FUZZ_SECONDS, built
# with clang, ASan and UBSan. New inputs that reach new code are merged
# into tests/fuzz/corpus/<harness>/ (only those that add coverage to what
# is there), crashes go to tests/fuzz/crashes/.
# FUZZ_TARGETS=fuzz-image picks some.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BUILD    = build/fuzz
FUZZ_CFLAGS   = -std=gnu11 $(WARNINGS) -Wno-format-nonliteral -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all $(PC_CFLAGS) \
	-DSAASCTL_VERSION='"$(VERSION)"' $(LAZY_DEFS)
FUZZ_SRC_O   := $(SRC_C:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/libsaasctl.a: $(FUZZ_SRC_O)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/bin/%: tests/fuzz/%.c $(FUZZ_BUILD)/libsaasctl.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Isrc -o $@ $< \
		$(FUZZ_BUILD)/libsaasctl.a $(PC_LIBS)

-include $(FUZZ_SRC_O:.o=.d)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/bin/%)
	@mkdir -p tests/fuzz/crashes; failed=""; \
	for h in $(FUZZ_TARGETS); do \
		mkdir -p tests/fuzz/corpus/$$h; new=$$(mktemp -d); \
		echo "fuzz: $$h for $(FUZZ_SECONDS) s"; \
		LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
		$(FUZZ_BUILD)/bin/$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=tests/fuzz/crashes/$$h- \
			$$new tests/fuzz/corpus/$$h || failed="$$failed $$h"; \
		$(FUZZ_BUILD)/bin/$$h -merge=1 tests/fuzz/corpus/$$h $$new \
			> $$new.log 2>&1 || cat $$new.log; \
		rm -rf $$new $$new.log; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: found crashes in$$failed (tests/fuzz/crashes/)"; exit 1; fi

# Completions are generated from the command table and committed, so that
# installing needs no build; tests/e2e/t0002-docs.sh fails when they drift.
completions: $(BIN)
	$(BIN) completion bash > completions/saasctl.bash
	$(BIN) completion zsh > completions/_saasctl
	$(BIN) completion fish > completions/saasctl.fish

# Every test: unit tests (C) and end-to-end tests (shell) against real
# servers. Ends with one line "N passed, N failed". T=PATTERN runs some.
# check and demo install what is missing first (deps), then build in a
# fresh make: flags from pkg-config are read when the Makefile is parsed,
# which on a fresh machine is before the libraries exist.
check: deps
	@$(MAKE) --no-print-directory run-tests

run-tests: $(BIN) $(UNIT_BIN) $(TOOL_BIN) $(REPLAY_BIN)
	@SAASCTL=$(abspath $(BIN)) UNIT_DIR=$(abspath $(BUILD)/tests) \
		TOOLS=$(abspath $(BUILD)/tools) FUZZ_REPLAY=$(abspath $(BUILD)/fuzz) \
		SANITIZE='$(SANITIZE)' tests/run.sh $(T)

demo: deps
	@$(MAKE) --no-print-directory all
	@examples/demo.sh

deps:
	@tests/deps.sh

# Every benchmark, or those whose folder name contains B (make bench
# B=backup-lifecycle). The backup ones look at the store with s3-tool.
bench: $(BIN) $(TOOL_BIN)
	@for b in tests/bench/*$(B)*/run.sh; do [ -x "$$b" ] || continue; \
		SAASCTL=$(abspath $(BIN)) TOOLS=$(abspath $(BUILD)/tools) "$$b" || exit 1; done

install: all
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 755 saasctl $(DESTDIR)$(BINDIR)/saasctl
	$(INSTALL) -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 completions/saasctl.bash $(DESTDIR)$(BASHCOMPDIR)/saasctl
	$(INSTALL) -m 644 completions/_saasctl $(DESTDIR)$(ZSHCOMPDIR)/_saasctl
	$(INSTALL) -m 644 completions/saasctl.fish $(DESTDIR)$(FISHCOMPDIR)/saasctl.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/saasctl
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/saasctl $(DESTDIR)$(ZSHCOMPDIR)/_saasctl \
		$(DESTDIR)$(FISHCOMPDIR)/saasctl.fish

clean:
	rm -rf build saasctl
