#!/bin/sh
# Generates a private CA and the certificates the kube-apiserver fixture and
# its clients use, with openssl, into DIR:
#   ca.crt ca.key              the cluster CA
#   server.crt server.key      for 127.0.0.1 / localhost / kubernetes
#   client-rsa.crt/.key        RSA client certificate, CN=alice
#   client-ec.crt/.key         EC (P-256) client certificate, CN=k3s-admin
#   other-ca.crt               an unrelated CA (for "wrong CA" tests)
# Usage: mkcerts.sh DIR
set -eu
d=$1
mkdir -p "$d"
cd "$d"
q() { "$@" 2>/dev/null; }

q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt \
	-days 2 -subj "/CN=fixture-ca"
q openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key \
	-out other-ca.crt -days 2 -subj "/CN=other-ca"

cat > server.ext <<EOF
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
EOF
q openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
	-subj "/CN=kube-apiserver"
q openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	-out server.crt -days 2 -extfile server.ext

printf 'extendedKeyUsage=clientAuth\n' > client.ext
q openssl req -newkey rsa:2048 -nodes -keyout client-rsa.key \
	-out client-rsa.csr -subj "/O=system:masters/CN=alice"
q openssl x509 -req -in client-rsa.csr -CA ca.crt -CAkey ca.key \
	-CAcreateserial -out client-rsa.crt -days 2 -extfile client.ext

q openssl ecparam -name prime256v1 -genkey -noout -out client-ec.key
q openssl req -new -key client-ec.key -out client-ec.csr \
	-subj "/O=system:masters/CN=k3s-admin"
q openssl x509 -req -in client-ec.csr -CA ca.crt -CAkey ca.key \
	-CAcreateserial -out client-ec.crt -days 2 -extfile client.ext
rm -f ./*.csr ./*.ext ./*.srl
chmod 600 ./*.key
