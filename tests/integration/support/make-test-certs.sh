#!/bin/sh
# Makes the certificates the TLS tests use, into DIR (which must exist), with the openssl
# command: a CA; server certificates for 127.0.0.1 and localhost with serials 1001 and
# 1002; a client certificate; an expired client certificate; and a second CA with a
# client certificate of its own. EC P-256 keys: quick to make.
set -eu
dir=$1
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ca() {  # NAME
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.pem" -subj "/CN=parley test $1" -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

leaf() {  # NAME CA SERIAL DAYS EXTENSIONS
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=parley test $1"
  printf '%s\n' "$5" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$3" -days "$4" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

server_ext='subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth'
client_ext='extendedKeyUsage=clientAuth'

ca ca
ca other-ca
leaf server ca 0x1001 2 "$server_ext"
leaf server2 ca 0x1002 2 "$server_ext"
leaf client ca 0x2001 2 "$client_ext"
# notAfter a day before notBefore: expired from the moment it is made.
leaf expired ca 0x2002 -1 "$client_ext"
leaf stranger other-ca 0x3001 2 "$client_ext"
