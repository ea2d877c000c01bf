#!/bin/sh
# saasctl keygen: key files, modes, O_EXCL, passphrase-protected keys and
# the refusal of key files that others can read.
. "$(dirname "$0")/../lib.sh"
cd "$T"

saas keygen --name cluster --out "$T"
expect_rc 0 "keygen exits 0"
expect_out '^[0-9a-f]{16}$' "keygen prints the key ID"
id=$(cat "$T/out")
expect_eq "$(stat -c %a cluster.key)" 600 "the secret key is mode 0600"
expect_eq "$(stat -c %a cluster.pub)" 644 "the public key is mode 0644"
expect_eq "$(cut -d' ' -f1,2,4 cluster.pub)" "x25519 $id cluster" ".pub is 'x25519 KEYID KEY NAME'"
expect_eq "$(wc -l < cluster.pub)" 1 ".pub is one line"

cp cluster.key before.key
saas keygen --name cluster --out "$T"
expect_rc 1 "keygen refuses to overwrite a key pair"
expect_err "cannot create '.*cluster.pub': file exists" "the existing file is named"
expect_file_same cluster.key before.key "the existing secret key is untouched"

saas keygen --name a/b
expect_rc 2 "a name with / is a usage error"

saas --json keygen --name j
expect_rc 0 "keygen --json exits 0"
expect_out '"key_id": "[0-9a-f]{16}"' "--json has the key ID"

# A key others can read is refused, as ssh does.
saas seal --from-literal K=v -n ns --name s -r cluster.pub -o s.yaml -q
expect_rc 0 "seal with -r only works outside a monorepo"
chmod 644 cluster.key
saas unseal s.yaml -k cluster.key
expect_rc 1 "a 0644 key file is refused"
expect_err "refusing '.*cluster.key': mode 0644 lets group or others read it" "the refusal says why"
expect_eq "$(cat "$T/out")" "" "nothing is printed with a refused key"
chmod 640 cluster.key
saas unseal s.yaml -k cluster.key
expect_rc 1 "a 0640 key file is refused"
chmod 600 cluster.key
saas unseal s.yaml -k cluster.pub
expect_rc 1 "a .pub given to -k is refused"
expect_err "is a public key; -k wants the secret key" "a .pub given to -k is explained"

# Passphrase-protected keys: from SAASCTL_PASSPHRASE_FILE.
printf 'correct horse battery\n' > pass
chmod 600 pass
SAASCTL_PASSPHRASE_FILE=$T/pass saas keygen --name locked --passphrase
expect_rc 0 "keygen --passphrase reads SAASCTL_PASSPHRASE_FILE"
expect_eq "$(cut -d' ' -f3 locked.key)" argon2id "the key file says argon2id"
if grep -q 'correct horse' locked.key; then not_ok "the passphrase is not in the key file"; else ok "the passphrase is not in the key file"; fi
saas seal --from-literal K=locked-value -n ns --name s -r locked.pub -o l.yaml -q
SAASCTL_PASSPHRASE_FILE=$T/pass saas unseal l.yaml -k locked.key -o env
expect_rc 0 "the right passphrase opens the key"
expect_out "^K=locked-value$" "the locked key opens the item"
printf 'wrong horse\n' > bad
chmod 600 bad
SAASCTL_PASSPHRASE_FILE=$T/bad saas unseal l.yaml -k locked.key
expect_rc 1 "a wrong passphrase fails"
expect_err "cannot open '.*locked.key': wrong passphrase" "a wrong passphrase is a clear error"
expect_no_err "wrong horse|correct horse" "the passphrase is not in the error"
# No terminal and no passphrase file: a clear error, not a hang.
setsid sh -c '"$0" unseal l.yaml -k locked.key' "$SAASCTL" > "$T/out" 2> "$T/err" < /dev/null; rc=$?
expect_rc 1 "no terminal and no passphrase file fails"
expect_err "no terminal; set SAASCTL_PASSPHRASE_FILE" "the missing passphrase source is explained"

# The passphrase from a terminal (a pty via python's pty module).
$PY - "$SAASCTL" "$T" > "$T/pty.out" 2>&1 <<'PYEOF'
import os, pty, sys, time
saasctl, t = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(t)
    os.execv(saasctl, [saasctl, "keygen", "--name", "tty", "--passphrase"])
out = b""
def expect(word):
    global out
    while word not in out:
        out += os.read(fd, 1024)
expect(b"passphrase for"); os.write(fd, b"tty pass\n")
expect(b"again:"); os.write(fd, b"tty pass\n")
try:
    while True:
        d = os.read(fd, 1024)
        if not d: break
        out += d
except OSError:
    pass
_, st = os.waitpid(pid, 0)
print("status", os.waitstatus_to_exitcode(st))
print("echoed" if b"tty pass" in out else "not echoed")
PYEOF
grep -q '^status 0$' "$T/pty.out" && ok "keygen --passphrase reads the terminal" || not_ok "keygen --passphrase reads the terminal" "$(cat "$T/pty.out")"
grep -q '^not echoed$' "$T/pty.out" && ok "the passphrase is not echoed" || not_ok "the passphrase is not echoed" "$(cat "$T/pty.out")"
printf 'tty pass\n' > ttypass
chmod 600 ttypass
SAASCTL_PASSPHRASE_FILE=$T/ttypass saas seal --from-literal K=v -n ns --name s -r tty.pub -o t.yaml -q
SAASCTL_PASSPHRASE_FILE=$T/ttypass saas unseal t.yaml -k tty.key -o env
expect_rc 0 "the key made on a terminal opens with its passphrase"
