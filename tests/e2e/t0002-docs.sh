#!/bin/sh
# Docs follow the command table: every command has a man page whose
# SYNOPSIS holds the exact usage --help prints, and the committed shell
# completions are what the table generates. Each real shell completes.
. "$(dirname "$0")/../lib.sh"
need bash zsh fish

# The entries, from the help listing: "  name  summary".
"$SAASCTL" help | sed -n '/^commands:/,/^$/p' | awk -F '  +' 'NF > 2 { print $2 }' > "$T/names"
[ -s "$T/names" ] && ok "help lists entries" || not_ok "help lists entries"

# Man SYNOPSIS text: troff fonts and escapes removed, one line per line.
synopsis() {
	sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$1" | grep -v '^\.' |
		sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\(em/—/g' -e 's/\\e/\\/g'
}
while read -r name; do
	group=${name%% *}
	page=$TOP/man/saasctl-$group.1
	if [ ! -f "$page" ]; then
		not_ok "'$name' has a man page" "missing man/saasctl-$group.1"
		continue
	fi
	usage=$("$SAASCTL" $name --help | sed -n 's/^usage: //p')
	if synopsis "$page" | grep -Fxq -- "$usage"; then
		ok "'$name': man SYNOPSIS matches --help"
	else
		not_ok "'$name': man SYNOPSIS matches --help" "help: $usage" "man:  $(synopsis "$page" | tr '\n' '|')"
	fi
done < "$T/names"

# man pages render without warnings.
for page in "$TOP"/man/*.[15]; do
	w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	expect_eq "$w" "" "$(basename "$page") renders without warnings"
done

# Committed completions are exactly what the table generates.
for pair in bash:saasctl.bash zsh:_saasctl fish:saasctl.fish; do
	sh=${pair%%:*} file=${pair#*:}
	"$SAASCTL" completion "$sh" > "$T/gen"
	expect_file_same "$T/gen" "$TOP/completions/$file" "completions/$file is generated from the table (make completions)"
done

# Each real shell completes "saasctl li<TAB>" to "lint" and "saasctl he<TAB>"
# to "help".
mkdir -p "$T/bin"; ln -s "$SAASCTL" "$T/bin/saasctl"; export PATH="$T/bin:$PATH"
for pair in li:lint he:help; do
	prefix=${pair%%:*} want=${pair#*:}
	got=$(bash -c '. "$1"; COMP_WORDS=(saasctl "$2"); COMP_CWORD=1; _saasctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP/completions/saasctl.bash" "$prefix")
	expect_eq "$got" "$want" "bash completes 'saasctl $prefix' to '$want'"

	got=$(fish -c "source $TOP/completions/saasctl.fish; complete -C 'saasctl $prefix'" | cut -f1)
	expect_eq "$got" "$want" "fish completes 'saasctl $prefix' to '$want'"

	# zsh: drive a real interactive completion through zpty.
	got=$(TERM=dumb HOME=$T zsh -f "$TOP/tests/zsh-complete.zsh" "$TOP/completions" "saasctl $prefix" 2>&1)
	expect_eq "$got" "$want" "zsh completes 'saasctl $prefix' to '$want'"
done

# Subcommand and option completion (bash): "saasctl completion " offers nothing
# special, "saasctl completion -" offers --help.
got=$(bash -c '. "$1"; COMP_WORDS=(saasctl completion --he); COMP_CWORD=2; _saasctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP/completions/saasctl.bash")
expect_eq "$got" "--help" "bash completes a command's options"
