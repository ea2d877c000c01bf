#!/bin/sh
# make install / uninstall with DESTDIR and PREFIX: the binary, every man
# page, the three shells' completions; uninstall leaves no file behind.
. "$(dirname "$0")/../lib.sh"
need make

# A copy of what install reads, with the binary under test, so the test
# neither builds nor touches the working tree.
S=$T/src
mkdir -p "$S"
cp "$TOP/Makefile" "$S/"
cp -r "$TOP/man" "$TOP/completions" "$S/"
cp "$SAASCTL" "$S/saasctl"

D=$T/dest
run make -s -C "$S" -o all install DESTDIR="$D"
expect_rc 0 "make install DESTDIR=... succeeds"
B=$D/usr/local
[ -x "$B/bin/saasctl" ] && ok "the binary goes to PREFIX/bin" || not_ok "the binary goes to PREFIX/bin"
for p in "$TOP"/man/*.1; do
	[ -f "$B/share/man/man1/$(basename "$p")" ] || { not_ok "man page $(basename "$p") is installed"; continue; }
	ok "man page $(basename "$p") is installed"
done
[ -f "$B/share/man/man5/saasctl.yaml.5" ] && ok "saasctl.yaml(5) goes to man5" || not_ok "saasctl.yaml(5) goes to man5"
[ -f "$B/share/bash-completion/completions/saasctl" ] && ok "bash completion is installed where bash-completion looks" || not_ok "bash completion is installed"
[ -f "$B/share/zsh/vendor-completions/_saasctl" ] && ok "zsh completion is installed in vendor-completions" || not_ok "zsh completion is installed"
[ -f "$B/share/fish/vendor_completions.d/saasctl.fish" ] && ok "fish completion is installed in vendor_completions.d" || not_ok "fish completion is installed"

run "$B/bin/saasctl" --version
expect_out '^saasctl [0-9]' "the installed binary runs"
w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$B/share/man/man1/saasctl-lint.1" 2>&1 >/dev/null)
expect_eq "$w" "" "an installed man page renders"
got=$(PATH="$B/bin:$PATH" bash -c '. "$1"; COMP_WORDS=(saasctl li); COMP_CWORD=1; _saasctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$B/share/bash-completion/completions/saasctl")
expect_eq "$got" "lint" "the installed bash completion completes"
[ "$(stat -c %a "$B/bin/saasctl")" = 755 ] && ok "the binary is mode 755" || not_ok "the binary is mode 755"

run make -s -C "$S" uninstall DESTDIR="$D"
expect_rc 0 "make uninstall succeeds"
expect_eq "$(find "$D" -type f | head -5)" "" "uninstall removes every installed file"

# PREFIX.
run make -s -C "$S" -o all install DESTDIR="$D" PREFIX=/usr
[ -x "$D/usr/bin/saasctl" ] && [ -f "$D/usr/share/man/man1/saasctl.1" ] && ok "PREFIX=/usr installs under /usr" || not_ok "PREFIX=/usr installs under /usr"
run make -s -C "$S" uninstall DESTDIR="$D" PREFIX=/usr
expect_eq "$(find "$D" -type f | head -5)" "" "uninstall with the same PREFIX removes everything"
