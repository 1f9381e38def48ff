#!/usr/bin/env python3
"""Publish one ApplicantRegistered with Confluent's standard Python client, its personal data
encrypted by Confluent's field-encryption rule executor (local-kms), as a registering agency's
own system would: the schema, its ruleSet (ENCRYPT on tag PII, KEK lintas-imigrasi) and the
data-encryption keys come from the Lintas registry; nothing Lintas-specific runs here.

Prints the published record's coordinates and ids as one JSON line. Exit 2 when it cannot be
published.
"""

import argparse
import datetime
import json
import sys
import uuid

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor
from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver
from confluent_kafka.serialization import MessageField, SerializationContext

TOPIC = "lintas.applicants.v1"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument(
        "--registry-user-info",
        help="user:password for the registry (basic.auth.user.info); a publisher needs the write role",
    )
    parser.add_argument("--kek-secret", required=True, help="local-kms secret of the KEK lintas-imigrasi")
    parser.add_argument("--subject-key", required=True, help="the person's subject key (HMAC of the NIK)")
    parser.add_argument("--nik", required=True)
    parser.add_argument("--full-name", required=True)
    args = parser.parse_args()

    FieldEncryptionExecutor.register()
    LocalKmsDriver.register()
    registry_conf = {"url": args.registry}
    if args.registry_user_info:
        registry_conf["basic.auth.user.info"] = args.registry_user_info
    registry = SchemaRegistryClient(registry_conf)
    # The schema is the one Lintas registered (with its encryption rule): use it, never register.
    subject = f"{TOPIC}-lintas.events.ApplicantRegistered"
    schema = registry.get_latest_version(subject).schema
    serializer = AvroSerializer(
        registry,
        schema.schema_str,
        conf={
            "auto.register.schemas": False,
            "use.latest.version": True,
            "subject.name.strategy": topic_record_subject_name_strategy,
        },
        rule_conf={"secret": args.kek_secret},
    )
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    event_id = str(uuid.uuid4())
    value = {
        "envelope": {
            "event_id": event_id,
            "occurred_at": now,
            "recorded_at": now,
            "agency": "imigrasi",
            "office": "KANIM-CILACAP",
            "officer_id": "py-officer-1",
            "subject_key": args.subject_key,
            "case_id": None,
            "correlation_id": None,
            "legal_basis": "UU 6/2011 Pasal 26",
            "subject_key_id": None,
        },
        "source": "passport_application",
        "personal": {"nik": args.nik, "full_name": args.full_name},
        "sex": "female",
        "birth_date": datetime.date(1990, 1, 5),
        "village_code": "33.01.02.2001", "village": "Kesugihan",
        "sub_district": "Kesugihan",
        "regency": "Cilacap",
        "declared_purpose": "work",
        "destination_country": "MY",
        "placement_agency": None,
        "sponsor_name": None,
        "identity_verified": True,
    }
    payload = serializer(value, SerializationContext(TOPIC, MessageField.VALUE))
    producer = Producer({"bootstrap.servers": args.brokers, "enable.idempotence": True, "acks": "all"})
    delivered = {}

    def on_delivery(err, msg):
        delivered["error"] = err
        delivered["coordinates"] = (msg.partition(), msg.offset()) if err is None else None

    producer.produce(
        TOPIC,
        key=args.subject_key.encode(),
        value=payload,
        headers={"lintas.event.type": "ApplicantRegistered", "lintas.event.id": event_id},
        on_delivery=on_delivery,
    )
    producer.flush(30)
    if delivered.get("error") is not None or delivered.get("coordinates") is None:
        print(f"publish_applicant: not delivered: {delivered.get('error')}", file=sys.stderr)
        sys.exit(2)
    partition, offset = delivered["coordinates"]
    print(json.dumps({"event_id": event_id, "topic": TOPIC, "partition": partition, "offset": offset}))


if __name__ == "__main__":
    main()
