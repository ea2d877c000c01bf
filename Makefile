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
BIN     := $(BUILD)/saasctl

.PHONY: all check run-tests demo deps bench install uninstall clean completions

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

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libsaasctl.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(BUILD)/libsaasctl.a $(ALL_LDFLAGS) $(PC_LIBS)

# Small programs the shell tests call (not tests themselves).
$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libsaasctl.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(BUILD)/libsaasctl.a $(ALL_LDFLAGS) $(PC_LIBS)

-include $(SRC_O:.o=.d) $(CMD_O:.o=.d)

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

run-tests: $(BIN) $(UNIT_BIN) $(TOOL_BIN)
	@SAASCTL=$(abspath $(BIN)) UNIT_DIR=$(abspath $(BUILD)/tests) \
		TOOLS=$(abspath $(BUILD)/tools) \
		SANITIZE='$(SANITIZE)' tests/run.sh $(T)

demo: deps
	@$(MAKE) --no-print-directory all
	@examples/demo.sh

deps:
	@tests/deps.sh

bench: all
	@for b in tests/bench/*/run.sh; do [ -x "$$b" ] && "$$b" || exit 1; done

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
