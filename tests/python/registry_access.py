#!/usr/bin/env python3
"""Try the Lintas schema registry's roles with Confluent's standard Python client.

Runs one operation with SchemaRegistryClient, sending --user-info as Confluent's clients do
(basic.auth.user.info=user:password, the Python client's only source; none when omitted), and prints one JSON line: {"op", "ok", "http_status", "error_code"}. Operations:
list (GET /subjects), register (a new version of --subject), delete (the subject, soft).
"""

import argparse
import json

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--user-info", help="user:password")
    parser.add_argument("--op", required=True, choices=["list", "register", "delete"])
    parser.add_argument("--subject", default="python-roles-value")
    args = parser.parse_args()

    conf = {"url": args.registry}
    if args.user_info:
        conf["basic.auth.user.info"] = args.user_info
    client = SchemaRegistryClient(conf)
    outcome = {"op": args.op, "ok": True, "http_status": 200, "error_code": None}
    try:
        if args.op == "list":
            client.get_subjects()
        elif args.op == "register":
            schema = '{"type":"record","name":"Probe","namespace":"python.roles","fields":[{"name":"n","type":"int"}]}'
            client.register_schema(args.subject, Schema(schema, "AVRO"))
        else:
            client.delete_subject(args.subject)
    except SchemaRegistryError as e:
        outcome = {"op": args.op, "ok": False, "http_status": e.http_status_code, "error_code": e.error_code}
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main()
