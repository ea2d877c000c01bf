#!/bin/sh
# An independent implementation of saasctl-sealed(5) in Python (PyNaCl and
# hashlib, nothing of saasctl) opens what saasctl seals, and saasctl opens
# what it seals. Written from the man page alone.
. "$(dirname "$0")/../lib.sh"
cd "$T"
$PY -c 'import nacl.bindings' 2>/dev/null || { not_ok "needs python3-nacl (run make deps)"; exit 1; }
"$SAASCTL" keygen -q --name a > /dev/null
"$SAASCTL" keygen -q --name b > /dev/null
head -c 3000 /dev/urandom > bin
printf 'h\303\251llo' > utf8
"$SAASCTL" seal --from-file BIN=bin --from-file "$(printf 'cl\303\251')=utf8" --from-literal EMPTY= \
	--name app -n web -r a.pub -r b.pub -o strict.yaml 2>/dev/null
"$SAASCTL" seal --from-literal K=ns-wide --name app -n web --scope namespace -r b.pub -o ns.yaml 2>/dev/null
"$SAASCTL" seal --from-literal K=everywhere --name app --scope cluster -r a.pub -o cl.yaml 2>/dev/null

cat > oracle.py <<'PYEOF'
import base64, hashlib, sys, yaml
from nacl.bindings import (crypto_scalarmult, crypto_scalarmult_base,
    crypto_aead_xchacha20poly1305_ietf_decrypt as dec,
    crypto_aead_xchacha20poly1305_ietf_encrypt as enc)
from nacl.utils import random

def read_secret(path):
    tag, kid, prot, sk = open(path).read().split()
    assert tag == "x25519-secret" and prot == "plain"
    return base64.b64decode(sk), kid

def read_public(path):
    tag, kid, pk = open(path).read().split()[:3]
    return base64.b64decode(pk), kid

def key_id(pk):
    return hashlib.blake2b(pk, digest_size=32).digest()[:8]

def lp(s):
    return len(s).to_bytes(4, "big") + s

def aad(doc, item):
    scope = doc["spec"].get("scope", "strict")
    ns = doc["metadata"].get("namespace", "") if scope != "cluster" else ""
    name = doc["metadata"]["name"] if scope == "strict" else ""
    return b"\x01" + lp(scope.encode()) + lp(ns.encode()) + lp(name.encode()) + lp(item.encode())

def wrap_key(q, E, R):
    return hashlib.blake2b(q + E + R, digest_size=64).digest()[32:]

def open_item(doc, item, sk):
    b = base64.b64decode(doc["spec"]["encryptedData"][item])
    assert b[0] == 1
    E, N, n = b[1:33], b[33:57], b[57]
    R = crypto_scalarmult_base(sk)
    a = aad(doc, item)
    for i in range(n):
        w = b[58 + 56 * i: 58 + 56 * (i + 1)]
        if w[:8] == key_id(R):
            K = dec(w[8:], a, N, wrap_key(crypto_scalarmult(sk, E), E, R))
            return dec(b[58 + 56 * n:], a, N, K)
    raise SystemExit("no wrap for our key ID")

def seal_item(doc, item, value, pks):
    e = random(32); E = crypto_scalarmult_base(e)
    K, N = random(32), random(24)
    a = aad(doc, item)
    wraps = b""
    for R in sorted(pks, key=key_id):
        wraps += key_id(R) + enc(K, a, N, wrap_key(crypto_scalarmult(e, R), E, R))
    return base64.b64encode(bytes([1]) + E + N + bytes([len(pks)]) + wraps + enc(value, a, N, K)).decode()

cmd = sys.argv[1]
if cmd == "open":
    doc = yaml.safe_load(open(sys.argv[2]))
    sk, kid = read_secret(sys.argv[3])
    assert key_id(crypto_scalarmult_base(sk)).hex() == kid, "key ID of the .key file"
    for item in sorted(doc["spec"]["encryptedData"]):
        sys.stdout.buffer.write(item.encode() + b"=" + base64.b64encode(open_item(doc, item, sk)) + b"\n")
elif cmd == "seal":
    pks = []
    for p in sys.argv[3:]:
        pk, kid = read_public(p)
        assert key_id(pk).hex() == kid, "key ID of the .pub file"
        pks.append(pk)
    doc = {"apiVersion": "saasctl.dev/v1", "kind": "SealedSecret",
           "metadata": {"name": "py", "namespace": "oracle"},
           "spec": {"scope": "strict", "recipients": sorted(key_id(p).hex() for p in pks),
                    "encryptedData": {}, "template": {"type": "Opaque"}}}
    doc["spec"]["encryptedData"]["FROM_PYTHON"] = seal_item(doc, "FROM_PYTHON", sys.argv[2].encode(), pks)
    yaml.safe_dump(doc, sys.stdout)
PYEOF

b64() { printf '%s' "$1" | base64 -w0; }
run $PY oracle.py open strict.yaml a.key
expect_rc 0 "the oracle opens a strict item with recipient a"
grep -Fxq "BIN=$(base64 -w0 < bin)" "$T/out" && ok "the oracle gets the binary value" || not_ok "the oracle gets the binary value"
expect_out "^EMPTY=\$" "the oracle gets the empty value"
grep -Fxq "$(printf 'cl\303\251')=$(base64 -w0 < utf8)" "$T/out" && ok "the oracle gets the UTF-8 item" || not_ok "the oracle gets the UTF-8 item"
run $PY oracle.py open strict.yaml b.key
expect_rc 0 "the oracle opens with recipient b"
run $PY oracle.py open ns.yaml b.key
expect_out "^K=$(b64 ns-wide)\$" "the oracle opens a namespace-scoped item"
run $PY oracle.py open cl.yaml a.key
expect_out "^K=$(b64 everywhere)\$" "the oracle opens a cluster-scoped item"

# And the other way: saasctl opens what the oracle sealed.
$PY oracle.py seal "sealed by python" a.pub b.pub > py.yaml
saas unseal py.yaml -k b.key -o env
expect_rc 0 "saasctl opens an item sealed by the oracle"
expect_out "^FROM_PYTHON='sealed by python'\$" "the value is the oracle's"
saas secrets verify py.yaml -k a.key
expect_rc 0 "the oracle's file verifies"
