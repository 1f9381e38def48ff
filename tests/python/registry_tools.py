#!/usr/bin/env python3
"""What operators' tools and Confluent's Python client ask of the Lintas schema registry.

1. The probes UI tools (kafbat UI, AKHQ, Redpanda Console) send: GET / over plain HTTP with
   basic auth, then the client's own calls for /schemas/types, /mode, /contexts, and
   /schemas?latestOnly=true over plain HTTP again (the client has no call for it).
2. Schema references through SchemaRegistryClient: register a type (Address) under one
   subject and a record using it (Person) under another with a SchemaReference, read it back
   by id with its references, then serialize a Person with AvroSerializer (latest version, no
   auto-registration) and deserialize it with AvroDeserializer, which resolves the reference
   by asking the registry for the referenced version.

Prints one JSON line with what it saw; the Rust test asserts on it.
"""

import argparse
import base64
import json
import urllib.request

from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

ADDRESS = {"type": "record", "name": "Address", "namespace": "id.lintas.python",
           "fields": [{"name": "village_code", "type": "string"}]}
PERSON = {"type": "record", "name": "Person", "namespace": "id.lintas.python",
          "fields": [{"name": "alias", "type": "string"}, {"name": "home", "type": "Address"}]}


def probe(registry, user_info, path):
    request = urllib.request.Request(registry + path)
    request.add_header("Authorization", "Basic " + base64.b64encode(user_info.encode()).decode())
    with urllib.request.urlopen(request) as answer:
        return answer.status, json.loads(answer.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--user-info", required=True, help="user:password with the write role")
    args = parser.parse_args()

    seen = {"/": probe(args.registry, args.user_info, "/")[1]}
    client = SchemaRegistryClient({"url": args.registry, "basic.auth.user.info": args.user_info})
    seen["/schemas/types"] = client.get_schema_types()
    seen["/mode"] = client.get_global_mode()
    seen["/contexts"] = client.get_contexts()
    client.register_schema("python-address", Schema(json.dumps(ADDRESS), "AVRO"))
    address = client.get_latest_version("python-address")
    reference = SchemaReference("id.lintas.python.Address", "python-address", address.version)
    person_schema = Schema(json.dumps(PERSON), "AVRO", [reference])
    person_id = client.register_schema("python-person-value", person_schema)
    by_id = client.get_schema(person_id)
    seen["references"] = [{"name": r.name, "subject": r.subject, "version": r.version} for r in by_id.references]
    seen["referenced_by"] = client.get_referenced_by("python-address", address.version)
    seen["subjects_of_id"] = client.get_subjects_by_schema_id(person_id)
    listed = probe(args.registry, args.user_info, "/schemas?latestOnly=true&subjectPrefix=python-")[1]
    seen["listed"] = [(s["subject"], s["version"]) for s in listed]

    # The serializer resolves the schema's references from the registry to parse it.
    serializer = AvroSerializer(client, person_schema,
                                conf={"auto.register.schemas": False, "use.latest.version": True})
    deserializer = AvroDeserializer(client)
    context = SerializationContext("python-person", MessageField.VALUE)
    person = {"alias": "applicant-7", "home": {"village_code": "33.01.02.2003"}}
    payload = serializer(person, context)
    seen["schema_id_on_the_wire"] = int.from_bytes(payload[1:5], "big")
    seen["person_id"] = person_id
    seen["round_trip"] = deserializer(payload, context)
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
