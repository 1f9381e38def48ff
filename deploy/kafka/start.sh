#!/bin/bash
# The compose broker: formats its log directory on the first start (KRaft), then runs Kafka
# with deploy/kafka/server.properties as it is in the repository.
set -euo pipefail
config=/etc/lintas/kafka-broker/server.properties
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "${CLUSTER_ID:?}" --config "$config"
exec /opt/kafka/bin/kafka-server-start.sh "$config"
