"""Read the feed of `lintas up`: python3 quickstart_reader.py BROKER USER:PASSWORD [BASE_URL]
(the banner's `broker` and `registry read` lines; BASE_URL defaults to http://127.0.0.1:8080)."""
import sys
from confluent_kafka import DeserializingConsumer
from confluent_kafka.schema_registry import SchemaRegistryClient, topic_record_subject_name_strategy
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import StringDeserializer

broker, registry_read, base_url = (sys.argv[1:] + ["http://127.0.0.1:8080"])[:3]
registry = SchemaRegistryClient({"url": f"{base_url}/registry", "basic.auth.user.info": registry_read})
consumer = DeserializingConsumer({
    "bootstrap.servers": broker,
    "group.id": "quickstart-reader",  # its committed offsets are where the next run resumes
    "auto.offset.reset": "earliest",  # a new group starts at the oldest retained event
    "key.deserializer": StringDeserializer("utf_8"),
    "value.deserializer": AvroDeserializer(registry, conf={"subject.name.strategy": topic_record_subject_name_strategy}),
})
consumer.subscribe(["lintas.applicants.v1", "lintas.screening.v1", "lintas.departures.v1", "lintas.cases.v1"])
try:
    while True:
        msg = consumer.poll(1.0)
        if msg is None:
            continue
        if msg.error():  # a broker or topic problem: say it, keep reading
            print(msg.error(), file=sys.stderr)
            continue
        event_type = dict(msg.headers())["lintas.event.type"].decode()  # e.g. ApplicantRegistered
        print(event_type, msg.key(), msg.value()["envelope"]["subject_key"], flush=True)
except KeyboardInterrupt:
    pass
finally:
    consumer.close()  # commits the last offsets and leaves the group
