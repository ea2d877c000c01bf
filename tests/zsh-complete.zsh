# zsh -f tests/zsh-complete.zsh COMPLETIONS_DIR "WORDS"
# Runs zsh's real completion system in a pseudo-terminal (zpty): types
# WORDS and a TAB, and prints the candidates completion offered, one per
# line. compadd is wrapped only to record what it adds.
zmodload zsh/zpty
out=${TMPDIR:-/tmp}/zsh-complete.$$
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd() {
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd \"\$@\"; return; fi
  local -a hits; builtin compadd -A hits \"\$@\"
  print -l -- \$hits >> $out
  builtin compadd \"\$@\"
}"
zpty -w z "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no"
zpty -w -n z "$2"$'\t'
# Wait until completion has written its candidates (or give up).
for i in {1..50}; do [[ -s $out ]] && break; sleep 0.1; done
sleep 0.2
zpty -d z
sort -u $out 2>/dev/null
rm -f $out
