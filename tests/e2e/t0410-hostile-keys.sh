#!/bin/sh
# Damaged and hostile key files: no error quotes a field of a key file (it
# may be the secret key), a passphrase file others can read is refused like
# a key file, and a key file cannot demand an Argon2id cost above the
# documented maximum.
. "$(dirname "$0")/../lib.sh"
cd "$T"
"$SAASCTL" keygen -q --name k > /dev/null
saas seal --from-literal K=v -n ns --name s -r k.pub -o s.yaml -q
expect_rc 0 "seal to a fresh key"
id=$(cut -d' ' -f2 k.key) sk=$(cut -d' ' -f4 k.key)

# bad NAME LINE: unseal with a key file holding LINE fails, and stderr holds
# none of the line's fields (but the tag words).
bad() {
	printf '%s\n' "$2" > bad.key
	chmod 600 bad.key
	saas unseal s.yaml -k bad.key
	expect_rc 1 "$1: refused"
	expect_err "bad.key" "$1: the file is named"
	leaked=""
	for f in $2; do
		case $f in x25519-secret|x25519|plain|argon2id) continue ;; esac
		[ ${#f} -ge 2 ] && grep -qF -- "$f" "$T/err" && leaked="$leaked $f"
	done
	expect_eq "$leaked" "" "$1: no field of the key file in the error"
}
bad "no protection field" "x25519-secret $id $sk"
bad "an unknown protection" "x25519-secret $id $sk $sk"
bad "fields swapped" "x25519-secret $id $sk plain"
bad "plain with a field too many" "x25519-secret $id plain $sk extra-$sk"
bad "a short key" "x25519-secret $id plain AAAA$(echo "$sk" | cut -c9-)"
bad "the key in the key ID field" "x25519-secret $sk plain $sk"
bad "a key ID of another key" "x25519-secret 0123456789abcdef plain $sk"
bad "argon2id with bad costs" "x25519-secret $id argon2id x$sk 7$sk $sk $sk $sk"
bad "argon2id with fields missing" "x25519-secret $id argon2id 2 67108864 $sk"
printf 'x25519 %s %s leaked\n' "$id" "$sk" > pubish.pub
saas seal --from-literal K=v -n ns --name s -r pubish.pub
expect_rc 1 "a secret key in a .pub is refused"
expect_no_err "$sk" "the .pub refusal does not quote the key"
expect_no_err "$id" "the .pub refusal does not quote the key ID"

# The passphrase file is refused when others can read it, before it is used.
printf 'correct horse\n' > pass
chmod 600 pass
SAASCTL_PASSPHRASE_FILE=$T/pass saas keygen --name locked --passphrase -q
expect_rc 0 "a 0600 passphrase file is accepted"
saas seal --from-literal K=locked -n ns --name l -r locked.pub -o l.yaml -q
for mode in 644 640 604; do
	chmod $mode pass
	SAASCTL_PASSPHRASE_FILE=$T/pass saas unseal l.yaml -k locked.key -o env
	expect_rc 1 "a $mode passphrase file is refused by unseal"
	expect_err "refusing the passphrase file '.*pass' \\(SAASCTL_PASSPHRASE_FILE\\): mode 0$mode lets group or others read it; run 'chmod 600 " "the $mode refusal says why"
	expect_eq "$(cat "$T/out")" "" "nothing is printed with a $mode passphrase file"
done
SAASCTL_PASSPHRASE_FILE=$T/pass saas keygen --name other --passphrase
expect_rc 1 "keygen refuses a readable passphrase file"
expect_err "refusing the passphrase file" "keygen says why"
[ -e other.key ] && not_ok "keygen writes nothing then" || ok "keygen writes nothing then"
expect_no_err "correct horse" "the passphrase is never in the error"
chmod 600 pass
SAASCTL_PASSPHRASE_FILE=$T/pass saas unseal l.yaml -k locked.key -o env
expect_out "^K=locked$" "the passphrase file opens the key once it is 0600"

# Argon2id cost: at most opslimit 3 and memlimit 256 MiB, refused before the
# passphrase is read and in well under a second.
set -- $(cat locked.key)
costly() {
	printf '%s %s argon2id %s %s %s %s %s\n' "$1" "$2" "$ops" "$mem" "$6" "$7" "$8" > costly.key
	chmod 600 costly.key
	start=$(date +%s%N)
	SAASCTL_PASSPHRASE_FILE=$T/pass saas unseal l.yaml -k costly.key -o env
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
}
ops=64 mem=1073741824 costly "$@"
expect_rc 1 "ops 64 and 1 GiB are refused"
expect_err "refusing '.*costly.key': its Argon2id opslimit is above the maximum of 3" "the cost refusal names the maximum"
expect_no_err "1073741824|64 " "the cost refusal quotes no value of the file"
[ "$ms" -lt 1000 ] && ok "the refusal is quick (${ms} ms)" || not_ok "the refusal is quick" "${ms} ms"
ops=2 mem=1073741824 costly "$@"
expect_rc 1 "1 GiB of memory is refused"
expect_err "its Argon2id memlimit is above the maximum of 268435456 bytes \\(256 MiB\\)" "the memory refusal names the maximum"
ops=18446744073709551617 mem=67108864 costly "$@"
expect_rc 1 "an opslimit beyond 64 bits is damage"
expect_err "is damaged: bad Argon2id opslimit" "an overflowing opslimit is explained"
ops=-1 mem=67108864 costly "$@"
expect_err "is damaged: bad Argon2id opslimit" "a negative opslimit is damage, not 2^64-1"
ops=2 mem=67108864 costly "$@"
expect_rc 0 "the cost keygen writes is accepted"

# An empty .pub file is refused, not read through a missing buffer.
: > empty.pub
saas seal --from-literal K=v -n ns --name s -r empty.pub
expect_rc 1 "an empty .pub is refused"
expect_err "'empty.pub' is not a saasctl public key" "the empty .pub is named"
