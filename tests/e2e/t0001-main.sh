#!/bin/sh
# The binary's front door: global options, help, exit statuses, suggestions.
. "$(dirname "$0")/../lib.sh"

saas --version
expect_rc 0 "--version exits 0"
expect_out '^saasctl [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"

saas --help
expect_rc 0 "--help exits 0"
expect_out '^  help ' "--help lists the commands"

saas
expect_rc 2 "no command is a usage error"
expect_err '^usage: saasctl' "no command prints the usage"

saas help completion
expect_rc 0 "help COMMAND exits 0"
expect_out '^usage: saasctl completion bash\|zsh\|fish$' "help COMMAND prints the usage"
expect_out 'shell completion script' "help COMMAND prints the summary"

saas completion -h
expect_rc 0 "COMMAND -h exits 0"
expect_out '^usage: saasctl completion ' "COMMAND -h prints the usage"

saas complesion bash
expect_rc 2 "an unknown command is a usage error"
expect_err "'complesion' is not a saasctl command" "an unknown command is named"
expect_err '^	completion$' "an unknown command suggests the nearest name"

saas zzzzzzzz
expect_rc 2 "a far-off command is a usage error"
expect_no_err 'most similar' "a far-off command suggests nothing"

saas help nosuch
expect_rc 2 "help of an unknown command is a usage error"

saas --frobnicate
expect_rc 2 "an unknown global option is a usage error"
expect_err "unknown option '--frobnicate'" "an unknown global option is named"

saas --color=sometimes help
expect_rc 2 "a bad --color value is a usage error"

saas completion tcsh
expect_rc 2 "a bad argument is a usage error"
expect_err '^usage: saasctl completion' "a usage error prints the usage"

# Output errors are failures: a full disk must not look like success.
if [ -w /dev/full ]; then
	"$SAASCTL" help > /dev/full 2> "$T/err"; rc=$?
	expect_rc 1 "a failed write to stdout exits 1"
	expect_err 'cannot write output' "a failed write to stdout is reported"
fi
