#!/usr/bin/env bash
# Writes Tests/TLSTestSupport/TestCertificates.swift: two test certificate authorities (P-256, valid
# for 100 years) and the emulator's server certificates they sign, as PEM string constants.
#
# The HTTPS tests used to make these at run time with swift-certificates and swift-crypto; those two
# packages (and a second copy of BoringSSL) cost the test build more than a minute on two cores for
# five certificates. Run this again only to change a name or after 2125. Needs openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/TLSTestSupport/TestCertificates.swift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
days=36500

# An authority: $1 file stem, $2 common name.
authority() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/$1-key.pem"
  openssl req -x509 -new -key "$work/$1-key.pem" -sha256 -days "$days" -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$work/$1.pem" 2>/dev/null
}

# A server certificate: $1 file stem, $2 authority stem, $3 subjectAltName.
server() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/$1-ec.pem"
  openssl pkcs8 -topk8 -nocrypt -in "$work/$1-ec.pem" -out "$work/$1-key.pem"
  openssl req -new -key "$work/$1-key.pem" -subj "/CN=localhost" -out "$work/$1.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
    "$3" >"$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.pem" -CAkey "$work/$2-key.pem" -CAcreateserial \
    -days "$days" -sha256 -extfile "$work/$1.ext" -out "$work/$1.pem" 2>/dev/null
  openssl verify -CAfile "$work/$2.pem" "$work/$1.pem" >/dev/null
}

authority ca "licprov test CA"
server server ca "DNS:localhost,DNS:api.cryptlex.test,IP:127.0.0.1"
server server-names ca "DNS:localhost,DNS:api.cryptlex.test"
authority other "another test CA"
server other-server other "DNS:localhost,IP:127.0.0.1"

literal() { printf '"""\n%s\n        """' "$(sed 's/^/        /' "$work/$1.pem")"; }
{
  echo '// Written by scripts/make-test-certificates.sh: do not edit; run the script again.'
  echo
  echo 'extension TestCertificateAuthority {'
  echo '    /// The authority the tests trust ("licprov test CA"), its server certificate for localhost,'
  echo '    /// api.cryptlex.test and 127.0.0.1, and the same names without the address.'
  echo '    public static let licprov = TestCertificateAuthority('
  echo '        name: "licprov test CA",'
  echo "        certificatePEM: $(literal ca),"
  echo "        serverPEM: $(literal server),"
  echo "        serverKeyPEM: $(literal server-key),"
  echo "        namesOnlyServerPEM: $(literal server-names),"
  echo "        namesOnlyServerKeyPEM: $(literal server-names-key))"
  echo
  echo '    /// An authority that signed none of the emulator'"'"'s certificates ("another test CA").'
  echo '    public static let other = TestCertificateAuthority('
  echo '        name: "another test CA",'
  echo "        certificatePEM: $(literal other),"
  echo "        serverPEM: $(literal other-server),"
  echo "        serverKeyPEM: $(literal other-server-key))"
  echo '}'
} >"$out"
swift format -i "$out"
echo "wrote $out" >&2
