#!/usr/bin/env bash
# One-shot topic creation for docker-compose.yml (service kafka-init): every topic listed in
# topics.txt, with TOPIC_PARTITIONS partitions. Idempotent (--if-not-exists), so it is safe on
# every `docker compose up`; partitions of an existing topic are never changed here.
set -euo pipefail

BOOTSTRAP="${KAFKA_BOOTSTRAP_SERVERS:-kafka:9092}"
PARTITIONS="${TOPIC_PARTITIONS:-4}"
REPLICATION="${TOPIC_REPLICATION_FACTOR:-1}"
TOPICS_FILE="${TOPICS_FILE:-/opt/partygrid/topics.txt}"
KAFKA_TOPICS=/opt/kafka/bin/kafka-topics.sh

count=0
while IFS= read -r line || [[ -n "$line" ]]; do
  topic="${line%%#*}"
  topic="${topic//[[:space:]]/}"
  [[ -z "$topic" ]] && continue
  "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
    --topic "$topic" --partitions "$PARTITIONS" --replication-factor "$REPLICATION"
  count=$((count + 1))
done < "$TOPICS_FILE"

echo "kafka-init: ${count} topics present on ${BOOTSTRAP}"
"$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --list
