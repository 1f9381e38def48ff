#!/bin/sh
# One-shot (docker-compose.yml `registry-credentials`), at every start before the registry: one
# registry user per role (read, write, admin), its password made once into that role's volume
# as `user:password` (the file LINTAS_REGISTRY_USER_INFO_FILE of the services with that role),
# and the registry's users file (`user:role:argon2id-hash`, LINTAS_REGISTRY_USERS_FILE) made
# anew from them. Runs as root in the Lintas image, to hand the files to its user (uid 10001).
set -eu

users=$(mktemp)
for role in read write admin; do
  file=/credentials/$role/user-info
  if [ ! -s "$file" ]; then
    # Hex: no ':' in the password, nothing to quote.
    printf 'lintas-%s:%s\n' "$role" "$(openssl rand -hex 24)" > "$file"
  fi
  chown 10001:10001 "$file"
  chmod 0400 "$file"
  user=$(cut -d: -f1 "$file")
  hash=$(cut -d: -f2- "$file" | lintas registry hash-password)
  printf '%s:%s:%s\n' "$user" "$role" "$hash" >> "$users"
done
cat "$users" > /users/users
rm -f "$users"
chown 10001:10001 /users/users
chmod 0400 /users/users
echo "registry users: lintas-read (read), lintas-write (write), lintas-admin (admin)"
