#!/bin/sh
# One-shot (compose `kafka-tls`, as root, once per kafka-tls volume): a private CA for the
# compose broker, the broker's certificate (CN=kafka, for kafka and localhost) and the
# administrator's (CN=lintas-admin), as PEM files with unencrypted keys that only the broker
# (uid 1000 in apache/kafka) can read. The CA's certificate is also copied into kafka-ca for the
# Lintas services (by kafka-principals). Nothing is made again if it exists: delete the volume
# kafka-tls to renew everything (then restart kafka and the services).
set -eu
dir=/tls
umask 077
if [ -s "$dir/ca.crt" ] && [ -s "$dir/kafka.pem" ] && [ -s "$dir/admin.pem" ]; then
  echo "kafka-tls: certificates exist"; exit 0
fi
work=$(mktemp -d)
openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -days 825 \
  -subj "/CN=lintas-compose-kafka-ca" -keyout "$work/ca.key" -out "$dir/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
issue() { # name, subjectAltName or empty
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -subj "/CN=$1" \
    -keyout "$work/$1.key" -out "$work/$1.csr"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n%s\n' \
    "${2:+subjectAltName=$2}" > "$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA "$dir/ca.crt" -CAkey "$work/ca.key" -CAcreateserial \
    -days 825 -extfile "$work/$1.ext" -out "$work/$1.crt"
  # Kafka's PEM key store: the PKCS#8 key, then the certificate chain.
  openssl pkcs8 -topk8 -nocrypt -in "$work/$1.key" > "$dir/$1.pem"
  cat "$work/$1.crt" "$dir/ca.crt" >> "$dir/$1.pem"
}
issue kafka "DNS:kafka,DNS:localhost"
issue lintas-admin ""
mv "$dir/lintas-admin.pem" "$dir/admin.pem"
# The CA's key is not kept: no further certificate can be signed with it.
rm -rf "$work"
chown 1000:1000 "$dir"/*.pem "$dir/ca.crt"
chmod 0400 "$dir"/*.pem
chmod 0444 "$dir/ca.crt"
echo "kafka-tls: CA, broker and administrator certificates made"
