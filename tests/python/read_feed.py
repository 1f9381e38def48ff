#!/usr/bin/env python3
"""Read the Lintas feed with Confluent's standard Python client and print one JSON line per event.

Decoding uses confluent-kafka's Schema Registry Avro deserializer against the deployment's schema
registry, with nothing Lintas-specific: the point is to show that any Confluent client can read
the feed. Each line is

    {"topic", "partition", "offset", "key", "record_name", "value"}

where record_name is the writer schema's full name (for example
lintas.events.ApplicantRegistered) and value is the decoded record; UUIDs are written as strings,
timestamp-millis as ISO 8601 UTC instants and dates as YYYY-MM-DD.

Personal-data fields travel encrypted (Confluent's client-side field-level encryption: fields
tagged PII, a ruleSet with an ENCRYPT rule, a KEK per entitlement). With --kek-secret SECRET
(the local-kms secret of a KEK this reader is entitled to) Confluent's field-encryption rule
executor decrypts the fields under that KEK; fields under other KEKs, or without the option all
of them, stay ciphertext (the rule's onFailure is ERROR,NONE: the rest of the record reads).

With --expect N it stops after N records and fails (exit 3) if they do not arrive within
--timeout seconds; without it, it reads until --timeout (0: until interrupted). A record that
cannot be decoded is an error (exit 2), as is a fatal client error (exit 4).
"""

import argparse
import datetime
import json
import signal
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaException
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext, StringDeserializer

EXIT_DECODE = 2
EXIT_TIMEOUT = 3
EXIT_CLIENT = 4


def fail(code, message):
    print(f"read_feed: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def key_values(pairs, flag):
    """KEY=VALUE options into a dict (extra client settings, e.g. TLS or SASL for a deployment)."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            fail(64, f"{flag} expects KEY=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key] = value
    return out


def json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


class RecordNames:
    """Full name of the writer schema of a Confluent-framed value: byte 0 is the magic byte 0,
    bytes 1..5 the schema id (big-endian); the registry client caches schemas by id."""

    def __init__(self, registry):
        self.registry = registry
        self.names = {}

    def of(self, raw):
        if raw is None or len(raw) < 5 or raw[0] != 0:
            raise ValueError("value is not Confluent-framed (magic byte 0 and a 4-byte schema id)")
        schema_id = int.from_bytes(raw[1:5], "big")
        if schema_id not in self.names:
            schema = json.loads(self.registry.get_schema(schema_id).schema_str)
            name = schema["name"]
            namespace = schema.get("namespace")
            self.names[schema_id] = name if "." in name or not namespace else f"{namespace}.{name}"
        return self.names[schema_id]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brokers", required=True, help="bootstrap servers, host:port[,host:port]")
    parser.add_argument("--registry", required=True, help="schema registry URL, e.g. http://registry:8081")
    parser.add_argument(
        "--topics",
        default="lintas.applicants.v1,lintas.screening.v1,lintas.departures.v1,lintas.cases.v1,lintas.alerts.imigrasi.v1",
        help="comma-separated topics (default: the five core topics)",
    )
    parser.add_argument("--expect", type=int, help="stop after this many records; fail if fewer arrive in time")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to read (0: no limit)")
    parser.add_argument("--group", help="consumer group id (default: a fresh one, reading from the start)")
    parser.add_argument("--config", action="append", metavar="KEY=VALUE", help="extra librdkafka setting")
    parser.add_argument(
        "--registry-config", action="append", metavar="KEY=VALUE", help="extra registry client setting"
    )
    parser.add_argument("--kek-secret", help="local-kms secret of the KEK this reader holds (decrypts its fields)")
    args = parser.parse_args()
    topics = [t.strip() for t in args.topics.split(",") if t.strip()]
    if not topics:
        fail(64, "--topics names no topic")
    if args.expect is not None and args.expect < 1:
        fail(64, "--expect must be at least 1")

    registry_conf = {"url": args.registry}
    registry_conf.update(key_values(args.registry_config, "--registry-config"))
    registry = SchemaRegistryClient(registry_conf)
    rule_conf = None
    if args.kek_secret:
        # Confluent's field-encryption executor and its local-kms driver, from the [rules] extra.
        from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor
        from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver

        FieldEncryptionExecutor.register()
        LocalKmsDriver.register()
        rule_conf = {"secret": args.kek_secret}
    # Lintas registers each event under <topic>-<record full name> (TopicRecordNameStrategy); the
    # data-encryption keys live under the same subject.
    values = AvroDeserializer(
        registry, conf={"subject.name.strategy": topic_record_subject_name_strategy}, rule_conf=rule_conf
    )
    keys = StringDeserializer("utf_8")
    names = RecordNames(registry)

    consumer_conf = {
        "bootstrap.servers": args.brokers,
        "group.id": args.group or f"read-feed-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": args.group is not None,
        "client.id": "lintas-read-feed-py",
    }
    consumer_conf.update(key_values(args.config, "--config"))
    consumer = Consumer(consumer_conf)
    consumer.subscribe(topics)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))

    deadline = time.monotonic() + args.timeout if args.timeout > 0 else None
    read = 0
    try:
        while args.expect is None or read < args.expect:
            if deadline is not None and time.monotonic() >= deadline:
                if args.expect is None:
                    break
                fail(EXIT_TIMEOUT, f"timed out after {args.timeout:g} s: read {read} of {args.expect} records from {','.join(topics)}")
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error() is not None:
                error = msg.error()
                if error.fatal():
                    fail(EXIT_CLIENT, f"fatal client error: {error}")
                print(f"read_feed: client warning: {error}", file=sys.stderr, flush=True)
                continue
            where = f"{msg.topic()}[{msg.partition()}]@{msg.offset()}"
            try:
                raw = msg.value()
                record_name = names.of(raw)
                value = values(raw, SerializationContext(msg.topic(), MessageField.VALUE, msg.headers()))
                key = keys(msg.key(), SerializationContext(msg.topic(), MessageField.KEY, msg.headers()))
            except Exception as e:  # noqa: BLE001 -- any decode failure is fatal for this reader
                fail(EXIT_DECODE, f"cannot decode {where}: {type(e).__name__}: {e}")
            line = {
                "topic": msg.topic(),
                "partition": msg.partition(),
                "offset": msg.offset(),
                "key": key,
                "record_name": record_name,
                "value": value,
            }
            print(json.dumps(line, default=json_default, sort_keys=True), flush=True)
            read += 1
    except KeyboardInterrupt:
        pass
    except KafkaException as e:
        fail(EXIT_CLIENT, f"client error: {e}")
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
