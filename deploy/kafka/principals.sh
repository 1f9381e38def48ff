#!/bin/bash
# One-shot (compose `kafka-principals`, as root, at every `docker compose up`, once the broker
# is healthy): each Lintas service's own Kafka principal. For every directory /credentials/<user>
# (one volume per service, mounted by that service only at /etc/lintas/kafka):
#   - a random SCRAM-SHA-512 password, made once and kept in <dir>/password (readable by the
#     services' uid 10001 only), and the CA certificate <dir>/ca.crt;
#   - the user's SCRAM credential on the broker (created, or set again to the kept password).
# Then the ACLs of acls.txt, exactly: every ACL on the resources it names is removed, and those
# of the file added (validate.py checks that the file is what the code reads and writes). The
# administrator is CN=lintas-admin over mutual TLS (admin.properties).
set -euo pipefail
# No globbing: acls.txt names the group "*" (every group).
set -f
admin=(--bootstrap-server kafka:9094 --command-config /etc/lintas/kafka-broker/admin.properties)
bin=/opt/kafka/bin
acls=/etc/lintas/kafka-broker/acls.txt

for dir in /credentials/*/; do
  user=$(basename "$dir")
  if [ ! -s "$dir/password" ]; then
    (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/password")
  fi
  cp /etc/kafka/tls/ca.crt "$dir/ca.crt"
  chown 10001:10001 "$dir/password" "$dir/ca.crt"
  chmod 0400 "$dir/password"
  chmod 0444 "$dir/ca.crt"
  # The password is on this short-lived container's command line only (kafka-configs.sh takes
  # SCRAM credentials no other way that this image documents); it never leaves the volume and
  # this container.
  "$bin/kafka-configs.sh" "${admin[@]}" --alter --entity-type users --entity-name "$user" \
    --add-config "SCRAM-SHA-512=[password=$(cat "$dir/password")]" > /dev/null
  echo "kafka-principals: SCRAM-SHA-512 credential of $user"
done

# Every resource the file names, cleared of every ACL (stale ones included), in one call.
declare -A resources=()
declare -A grants=()
while read -r principal kind name operation; do
  case "$principal" in ''|'#'*) continue ;; esac
  case "$kind" in
    topic) flag=(--topic "$name") ;;
    group) flag=(--group "$name") ;;
    cluster) flag=(--cluster) ;;
    *) echo "acls.txt: unknown resource type $kind" >&2; exit 1 ;;
  esac
  resources["${flag[*]}"]=1
  grants["$principal ${flag[*]}"]+=" --operation $operation"
done < "$acls"
clear=()
for r in "${!resources[@]}"; do clear+=($r); done
"$bin/kafka-acls.sh" "${admin[@]}" --remove --force "${clear[@]}" > /dev/null
for key in "${!grants[@]}"; do
  read -r principal resource <<< "$key"
  # shellcheck disable=SC2086 # resource and operations are words of acls.txt (no spaces)
  "$bin/kafka-acls.sh" "${admin[@]}" --add --allow-principal "User:$principal" \
    $resource ${grants[$key]} > /dev/null
done
echo "kafka-principals: ${#grants[@]} ACL sets from acls.txt"
