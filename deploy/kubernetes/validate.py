#!/usr/bin/env python3
"""Validates the Kubernetes manifests in deploy/kubernetes/ and checks them against the code.

    pip install kubernetes-validate       # bundles the Kubernetes JSON schemas; brings jsonschema
    lintas describe --json > describe.json   # the code's facts (cargo run -p lintas -- describe --json)
    python3 deploy/kubernetes/validate.py --describe describe.json [--kubernetes-version 1.31]

1. Schemas. Core kinds (Namespace, ConfigMap, Secret, Deployment, Service, Job, CronJob)
   against the Kubernetes schemas of kubernetes-validate, strict (unknown fields are errors).
   The CRD kinds it cannot know (Strimzi KafkaTopic and KafkaUser, Prometheus Operator
   ServiceMonitor) against the JSON Schemas in schemas/. Any other kind is an error.
2. kustomization.yaml lists every manifest except secret.template.yaml, plus ../postgres (the
   ConfigMap generated from deploy/postgres/init-roles.sh), and (when kubectl or kustomize is
   installed) builds; the built output is validated again, and the built Job's ConfigMap holds
   init-roles.sh unchanged.
3. Against the code, as `lintas describe --json` states it (no source file is read: the
   binary reports the values it runs with, and clap's own description of its command line):
   - KafkaTopic names = the event topics plus the dead-letter topic `lintas.<group>.dlq` of
     every subscriber; partitions = the default partitions; replicas 3; cleanup.policy delete;
     retention. The topic of the data-protection records (the one PersonalDataErased travels
     on: lintas.privacy.v1) is kept forever (retention.ms -1): the audit chain on it is
     verified from its first entry, and erasures must outlive the events they erase.
   - Each agency subscriber of the binary has a KafkaUser labelled lintas/subscriber=<group>
     whose Read ACLs are exactly the topics it reads, group ACL exactly <group>, Write exactly
     its dead-letter topic plus the topics of the events it publishes through its outbox
     (what it declares, including what the kit's alert desk and personal-data APIs publish
     for it; a test of the binary checks the declaration against its routes).
   - Each agency that may call an intake endpoint (agencies -> publishes -> the event's topic)
     has a KafkaUser labelled lintas/agency=<agency> with Write on exactly those topics and no
     Read; the intake's user (lintas/publisher=intake) has Write on exactly the topics of all
     endpoints.
   - The monitor's user (lintas/monitor=ops, `lintas ops`) is read-only: Read and Describe on
     exactly every event topic and every dead-letter topic, Describe on every group (literal
     "*"), Describe on the cluster, nothing else (no Write anywhere).
   - The auditors' user (lintas/auditor=privacy): Read and Describe on exactly the privacy
     topic, Read on the group.id of `lintas audit verify`, nothing else. Across all users, Read
     on the privacy topic = the subscribers that read it + the monitor + the auditors; Write on
     it = the subscribers that publish its events; no agency user, not the intake.
   - Every KafkaUser carries exactly one role label (lintas/agency, lintas/publisher,
     lintas/subscriber, lintas/monitor, lintas/auditor), so none escapes the checks above.
   - Deployments: exactly registry, intake, ops and one per subscriber in code (lintas-<group>
     running `subscriber <group>`); args as in docker-compose.yml, every environment variable
     the subcommand requires (clap: required, or refused at run time) is set, every LINTAS_* variable
     set is one the CLI knows, Secret keys exist in secret.template.yaml, containerPort =
     LINTAS_LISTEN port, probes on /livez and /readyz, non-root uid 10001, read-only root
     filesystem.
   - ops (Kubernetes and compose): LINTAS_OPS_SERVICES names every other Lintas service with
     its Service (compose: service) URL and port; the groups it watches (LINTAS_OPS_WATCH or
     its default in `lintas ops`) are exactly the subscribers in code.
   - Services select their Deployment's pods; each Service has a ServiceMonitor.
   - Key-encryption keys (KEKs, lintas_events::keks): each lives alone in one Secret of the
     template, under its own name. A Deployment mounts exactly the KEKs it is entitled to (the
     intake: the KEKs of every event its endpoints publish; a subscriber: the KEKs it
     declares; registry and ops: none), each by secretKeyRef, and composes exactly them
     into LINTAS_KEK_SECRETS as kek-name=$(VARIABLE) (never a literal secret); no Deployment
     imports a whole Secret (envFrom secretRef). docker-compose.yml likewise.
   - Database roles: every Deployment with LINTAS_DATABASE_URL takes it from its own key
     lintas/<component>-database-url, whose URL connects as lintas_<component>; those components
     are exactly the roles init-roles.sh creates; the Job lintas-postgres-roles runs init-roles.sh
     from the generated ConfigMap with every variable it needs, the owner's credentials from a
     Secret of its own that no Deployment touches, on the host and database of the URLs.
     docker-compose.yml: postgres runs init-roles.sh at init with every LINTAS_DB_PASSWORD_*, and
     each service's URL uses lintas_<service> and LINTAS_DB_PASSWORD_<SERVICE>; the services
     that write the privacy topic wait for the one-shot service that keeps it forever.
   - The CronJob lintas-keys-shred (crypto-shredding, docs/data-protection.md §3) runs
     `lintas keys shred`, which must exist in code (a command of `lintas describe`), daily, concurrencyPolicy Forbid, the Deployments' image
     and security; it sets what that command requires (LINTAS_SCHEMA_REGISTRY_URL from the
     ConfigMap) and only variables it reads, the retention explicitly, and mounts no Secret but
     the registry's admin credential (no KEK, no database). A docker-compose.yml service running `keys shred` is profile-gated,
     restart "no", with the same retention.
   - The schema registry's credentials: lintas-registry reads its users (argon2id hashes) from
     the mounted Secret lintas-registry-users, which nothing else mounts; every other workload
     reads its credential from the file LINTAS_REGISTRY_USER_INFO_FILE names, the key user-info
     of exactly the Secret of its role (lintas-intake: lintas-registry-write, the subscribers and
     lintas-ops: lintas-registry-read, the CronJob lintas-keys-shred: lintas-registry-admin, its
     only Secret), never a variable. docker-compose.yml likewise, with the volumes filled by
     the one-shot registry-credentials.
   - secret.template.yaml holds Secrets with placeholders only.

Exits 1 on any error, printing each.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TEMPLATE = "secret.template.yaml"
# deploy/postgres: init-roles.sh (one PostgreSQL role per service) and the kustomization that
# generates the ConfigMap the Job lintas-postgres-roles runs it from (kustomize reads generator
# files only below a kustomization's own folder, hence a second one beside the script).
POSTGRES = HERE.parent / "postgres"
INIT_ROLES = POSTGRES / "init-roles.sh"
ROLES_JOB = "lintas-postgres-roles"
CRD_SCHEMAS = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): "kafkatopic.json",
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): "kafkauser.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
}
CORE_KINDS = {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "Job", "CronJob",
              "NetworkPolicy"}
DAY_MS = 86_400_000

errors: list[str] = []


def error(msg: str) -> None:
    errors.append(msg)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Manifests and schemas


def load_manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(HERE.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for i, doc in enumerate(yaml.safe_load_all(read(path))):
            if doc is None:
                continue
            docs.append((f"{path.name}#{i}", doc))
    return docs


def crd_validators():
    import jsonschema
    from referencing import Registry, Resource

    schemas = {p.name: json.loads(read(p)) for p in (HERE / "schemas").glob("*.json")}
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    validators = {}
    for key, name in CRD_SCHEMAS.items():
        schema = schemas[name]
        jsonschema.validators.Draft202012Validator.check_schema(schema)
        validators[key] = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return validators


def validate_schemas(docs: list[tuple[str, dict]], k8s_version: str, validators) -> None:
    import kubernetes_validate

    for where, doc in docs:
        kind, api = doc.get("kind"), doc.get("apiVersion")
        name = f"{where} {kind}/{(doc.get('metadata') or {}).get('name')}"
        if (api, kind) in validators:
            for e in sorted(validators[(api, kind)].iter_errors(doc), key=lambda e: list(e.path)):
                error(f"{name}: {'/'.join(map(str, e.path)) or '(root)'}: {e.message}")
        elif kind in CORE_KINDS:
            try:
                kubernetes_validate.validate(doc, k8s_version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = "/".join(map(str, e.path)) or "(root)"
                error(f"{name}: {path}: {e.message}")
            except Exception as e:  # unknown apiVersion and the like
                error(f"{name}: {type(e).__name__}: {e}")
        else:
            error(f"{name}: no schema for {api} {kind}")


def generated_configmaps() -> dict[str, list[str]]:
    """ConfigMap name -> files, of deploy/postgres/kustomization.yaml's configMapGenerator."""
    kustomization = yaml.safe_load(read(POSTGRES / "kustomization.yaml"))
    return {g["name"]: list(g.get("files", [])) for g in kustomization.get("configMapGenerator", [])}


def check_kustomization(k8s_version: str, validators) -> None:
    kustomization = yaml.safe_load(read(HERE / "kustomization.yaml"))
    resources = list(kustomization.get("resources", []))
    # Folders (other kustomizations) apart, the resources are exactly the manifests here.
    folders = sorted(r for r in resources if not r.endswith(".yaml"))
    listed = [r for r in resources if r.endswith(".yaml")]
    manifests = sorted(p.name for p in HERE.glob("*.yaml")
                       if p.name not in ("kustomization.yaml", TEMPLATE))
    if sorted(listed) != manifests:
        error(f"kustomization.yaml resources {sorted(listed)} != manifests {manifests}")
    if folders != ["../postgres"]:
        error(f"kustomization.yaml: folders {folders}, expected ['../postgres'] (the init-roles.sh ConfigMap)")
    generated = generated_configmaps()
    if INIT_ROLES.name not in generated.get("lintas-postgres-init", []):
        error(f"deploy/postgres/kustomization.yaml: ConfigMap lintas-postgres-init must be generated from {INIT_ROLES.name}")
    if TEMPLATE in listed:
        error("kustomization.yaml must not apply the Secret template")
    if kustomization.get("namespace") != "lintas":
        error("kustomization.yaml: namespace must be lintas")
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", str(HERE)]
    elif shutil.which("kustomize"):
        cmd = ["kustomize", "build", str(HERE)]
    else:
        print("note: neither kubectl nor kustomize installed; kustomize build not checked")
        return
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        error(f"{' '.join(cmd)} failed: {run.stderr.strip()}")
        return
    built = [d for d in yaml.safe_load_all(run.stdout) if d]
    expected = sum(1 for _, d in load_manifests()
                   if d.get("kind") != "Secret") + len(generated)
    if len(built) != expected:
        error(f"kustomize build produced {len(built)} resources, expected {expected}")
    # The Job runs the script as it is in the repository: its ConfigMap reference was rewritten
    # to the generated (hash-suffixed) name, and that ConfigMap holds the file unchanged.
    built_maps = {d["metadata"]["name"]: d for d in built if d["kind"] == "ConfigMap"}
    for job in (d for d in built if d["kind"] == "Job"):
        for volume in job["spec"]["template"]["spec"].get("volumes", []):
            ref = (volume.get("configMap") or {}).get("name")
            if ref is None:
                continue
            cm = built_maps.get(ref)
            if cm is None:
                error(f"built Job {job['metadata']['name']}: ConfigMap {ref} is not in the build (generator name not rewritten?)")
            elif cm.get("data", {}).get(INIT_ROLES.name) != read(INIT_ROLES):
                error(f"built ConfigMap {ref}: {INIT_ROLES.name} differs from deploy/postgres/{INIT_ROLES.name}")
    for doc in built:
        if doc["kind"] != "Namespace" and doc["metadata"].get("namespace") != "lintas":
            error(f"built {doc['kind']}/{doc['metadata']['name']} is not in namespace lintas")
    validate_schemas([(f"kustomize-build#{i}", d) for i, d in enumerate(built)], k8s_version,
                     validators)
    print(f"kustomize build: {len(built)} resources, validated")


# --------------------------------------------------------------------------------------------
# Facts from the code: `lintas describe --json`


# The document `lintas describe --json` printed (--describe FILE); loaded once.
_DESCRIBE: dict | None = None
DESCRIBE_FILE: Path | None = None


def describe() -> dict:
    """What the code states about itself (`lintas describe --json`): from --describe FILE, or
    the LINTAS_DESCRIBE file, or else by running the binary with cargo (slow: it builds it)."""
    global _DESCRIBE
    if _DESCRIBE is None:
        import os
        path = DESCRIBE_FILE or (Path(os.environ["LINTAS_DESCRIBE"]) if os.environ.get("LINTAS_DESCRIBE") else None)
        if path is not None:
            _DESCRIBE = json.loads(read(path))
        else:
            run = subprocess.run(["cargo", "run", "-q", "-p", "lintas", "--locked", "--", "describe", "--json"],
                                 cwd=ROOT, capture_output=True, text=True)
            if run.returncode != 0:
                raise SystemExit(f"lintas describe --json failed (pass --describe FILE): {run.stderr.strip()}")
            _DESCRIBE = json.loads(run.stdout)
    return _DESCRIBE


def code_topics() -> set[str]:
    """The event topics (one per event family, one alert topic per agency)."""
    return {t["name"] for t in describe()["topics"]}


def alert_topic(agency: str) -> str:
    """The alert topic of `agency` (a lintas.events.Agency symbol)."""
    for t in describe()["topics"]:
        if t.get("alert_owner") == agency:
            return t["name"]
    error(f"lintas describe: no alert topic for agency {agency}")
    return f"?alerts-{agency}"


def dlq_name(group: str) -> str:
    return describe()["dead_letters"]["topic"].replace("{group}", group)


def redrive_name(group: str) -> str:
    """The group's redrive topic: operators' redrive and discard requests for its dead letters."""
    return describe()["dead_letters"]["redrive_topic"].replace("{group}", group)


def default_partitions() -> int:
    return int(describe()["default_partitions"])


ALERTS_OF_PUBLISHER = "<the publisher's alert topic>"


def event_topics() -> dict[str, str]:
    """Event type -> topic name; an alert event (one topic per alert owner) travels on the alert
    topic of the agency that publishes it: ALERTS_OF_PUBLISHER, resolved by `published_topic`."""
    return {e["name"]: e["topics"][0] if len(e["topics"]) == 1 else ALERTS_OF_PUBLISHER
            for e in describe()["events"]}


def published_topic(event: str, events: dict[str, str], agency: str) -> str:
    """Where `agency`'s service publishes `event`."""
    topic = events[event]
    return alert_topic(agency) if topic == ALERTS_OF_PUBLISHER else topic


def subscribers() -> dict[str, dict]:
    """group -> {agency, topics, publishes (event -> topic), keks, dead_letter_topic,
    offset_probe_group} of every agency subscriber of the binary."""
    out = {}
    for s in describe()["subscribers"]:
        out[s["group"]] = {
            "agency": s["agency"],
            "topics": set(s["topics"]),
            "publishes": {p["event"]: p["topic"] for p in s["publishes"]},
            "keks": set(s["keks"]),
            "dead_letter_topic": s["dead_letter_topic"],
            "offset_probe_group": s["offset_probe_group"],
        }
    if not out:
        error("lintas describe: no subscriber")
    return out


def endpoints() -> list[dict]:
    out = [{"path": e["path"], "publishes": set(e["publishes"]), "agencies": set(e["agencies"])}
           for e in describe()["intake"]["endpoints"]]
    if not out:
        error("lintas describe: no intake endpoint")
    return out


def command(path: list[str]) -> dict | None:
    """A subcommand of `lintas` (`["keys", "shred"]`) with the variables it reads."""
    return next((c for c in describe()["commands"] if c["path"] == path), None)


def cli_commands() -> dict[str, tuple[set[str], set[str]]]:
    """subcommand -> (required env, known env): what clap says each reads (its own arguments,
    flattened ones and the global ones of `lintas`), required where clap (or the command at
    run time) refuses to start without it."""
    out = {}
    for c in describe()["commands"]:
        if len(c["path"]) != 1 or c["path"][0] in ("up", "bench", "simulate", "topics", "describe"):
            continue
        out[c["path"][0]] = ({v["name"] for v in c["env"] if v["required"]}, {v["name"] for v in c["env"]})
    return out


# The scheduled crypto-shredding of personal data (docs/data-protection.md §3).
SHRED_JOB = "lintas-keys-shred"
SHRED_ARGS = ["keys", "shred"]


def keys_shred_cli() -> dict | None:
    """What `lintas keys shred` is in code: the variables it reads, those it requires, the
    variable of its retention and that variable's default; None (with an error) if absent."""
    shred = command(SHRED_ARGS)
    if shred is None:
        error(f"lintas describe: no command `lintas keys shred`: the CronJob {SHRED_JOB}'s command does not exist")
        return None
    required = {v["name"] for v in shred["env"] if v["required"]}
    known = {v["name"] for v in shred["env"]}
    retention = next((v for v in shred["env"] if "retention" in (v.get("flag") or "")), None)
    retention_env = retention["name"] if retention else None
    default = (retention or {}).get("default")
    retention_default = int(default) if default and default.isdigit() else None
    if not required or retention_env is None:
        error(f"lintas describe: `keys shred` requires {sorted(required)}, retention variable {retention_env}")
    return {"required": required, "known": known, "retention_env": retention_env,
            "retention_default": retention_default}


# --------------------------------------------------------------------------------------------
# Checks against the code


def acl_sets(user: dict) -> dict[str, set[str]]:
    """'topic:Read', 'topic:Write', 'group:Read', ... -> resource names."""
    out: dict[str, set[str]] = {}
    for rule in user["spec"].get("authorization", {}).get("acls", []):
        ops = rule.get("operations") or [rule.get("operation")]
        res = rule["resource"]
        if rule.get("type", "allow") != "allow" or res.get("patternType", "literal") != "literal":
            error(f"KafkaUser {user['metadata']['name']}: only literal allow rules are expected")
        for op in ops:
            out.setdefault(f"{res['type']}:{op}", set()).add(res.get("name", ""))
        if res["type"] == "topic" and ("Read" in ops or "Write" in ops) and "Describe" not in ops:
            error(f"KafkaUser {user['metadata']['name']}: {res['name']}: Read/Write without Describe")
    return out


def expect(what: str, got: set[str], want: set[str]) -> None:
    if got != want:
        missing, extra = sorted(want - got), sorted(got - want)
        error(f"{what}: expected {sorted(want)}; missing {missing}, unexpected {extra}")


ROLE_LABELS = ("lintas/agency", "lintas/publisher", "lintas/subscriber", "lintas/monitor",
               "lintas/auditor")
# The data-protection records: whoever reads the topics carrying them may replay erasures.
ERASURE_EVENT = "PersonalDataErased"
INFINITE = float("inf")


def retention_of(config: dict) -> float:
    """retention.ms of a topic config, -1 (keep forever) as infinity."""
    ms = int(config.get("retention.ms", 0))
    return INFINITE if ms < 0 else ms


def audit_group() -> str:
    """The group.id of `lintas audit verify`."""
    return describe()["audit_verify_group"]


def check_kafka(docs: list[tuple[str, dict]]) -> dict[str, dict]:
    """Checks topics and users; returns the subscribers found in code (group -> facts)."""
    topics = code_topics()
    events = event_topics()
    subs = subscribers()
    eps = endpoints()
    partitions = default_partitions()

    kafka_topics = {d["spec"].get("topicName", d["metadata"]["name"]): d
                    for _, d in docs if d.get("kind") == "KafkaTopic"}
    dlqs = {dlq_name(g) for g in subs}
    redrives = {redrive_name(g) for g in subs}
    expect("KafkaTopic names vs topics in code", set(kafka_topics), topics | dlqs | redrives)
    for name, d in kafka_topics.items():
        spec, config = d["spec"], d["spec"].get("config", {})
        if spec.get("partitions") != partitions:
            error(f"KafkaTopic {name}: partitions {spec.get('partitions')} != DEFAULT_PARTITIONS {partitions}")
        if spec.get("replicas") != 3:
            error(f"KafkaTopic {name}: replicas must be 3")
        if not 1 < int(config.get("min.insync.replicas", 1)) < spec.get("replicas", 0):
            error(f"KafkaTopic {name}: min.insync.replicas must be 2..replicas-1 (acks=all)")
        if config.get("cleanup.policy") != "delete":
            error(f"KafkaTopic {name}: cleanup.policy must be delete")
        retention = retention_of(config)
        floor = 7 * DAY_MS if name in dlqs | redrives else 366 * DAY_MS
        if retention < floor:
            error(f"KafkaTopic {name}: retention.ms {config.get('retention.ms')} < {floor // DAY_MS} days")
        if d["metadata"]["labels"].get("strimzi.io/cluster") != "lintas":
            error(f"KafkaTopic {name}: strimzi.io/cluster must be lintas")

    # The topic of the data-protection records (lintas.privacy.v1) is kept forever:
    # - a subscriber rebuilt from the feed re-applies the erasures it reads there, so an erasure
    #   that expired before the events it erased would let a replay store the data again;
    # - it is the audit trail: `lintas audit verify` checks the topic's copy of an agency's chain
    #   from sequence 1 (personal::verify_entries), and a rebuild restores the chain from it, so
    #   a copy whose head expired no longer verifies.
    erasure_topics = {events[ERASURE_EVENT]} if ERASURE_EVENT in events else set()
    if not erasure_topics:
        error(f"services/events: no impl_event!({ERASURE_EVENT}, ..): parser out of date")
    for name in sorted(erasure_topics & set(kafka_topics)):
        config = kafka_topics[name]["spec"].get("config", {})
        if retention_of(config) != INFINITE:
            error(f"KafkaTopic {name}: retention.ms {config.get('retention.ms')}, must be -1 (forever): "
                  "the audit chain is verified from its first entry, and erasures must outlive the data")
        if config.get("retention.bytes", -1) != -1:
            error(f"KafkaTopic {name}: retention.bytes must be unlimited (-1): see retention.ms")

    users = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "KafkaUser"}
    for name, u in users.items():
        acls = acl_sets(u)
        for key, names in acls.items():
            if key.startswith("topic:"):
                for t in names - set(kafka_topics):
                    error(f"KafkaUser {name}: ACL on {t}, which is no KafkaTopic")
        roles = [label for label in ROLE_LABELS if label in u["metadata"].get("labels", {})]
        if len(roles) != 1:
            error(f"KafkaUser {name}: needs exactly one of the labels {list(ROLE_LABELS)}, has {roles}")
    by_label = lambda label: {u["metadata"]["labels"][label]: u for u in users.values()
                              if label in u["metadata"].get("labels", {})}

    # Subscribers: Read exactly what the code reads.
    sub_users = by_label("lintas/subscriber")
    expect("subscriber KafkaUsers (lintas/subscriber) vs subscribers in code", set(sub_users), set(subs))
    for group, sub in subs.items():
        u = sub_users.get(group)
        if not u:
            continue
        acls = acl_sets(u)
        who = f"KafkaUser {u['metadata']['name']}"
        expect(f"{who} topic Read vs the topics subscriber {group} reads (and its redrive topic)",
               acls.get("topic:Read", set()), sub["topics"] | {redrive_name(group)})
        expect(f"{who} group Read", acls.get("group:Read", set()), {group})
        outbox = set(sub["publishes"].values())
        expect(f"{who} topic Write (dead letters + outbox)", acls.get("topic:Write", set()),
               {dlq_name(group)} | outbox)

    # Publishers.
    for e in eps:
        for ev in e["publishes"] - set(events):
            error(f"endpoint {e['path']}: publishes unknown event {ev}")
    agency_topics: dict[str, set[str]] = {}
    for e in eps:
        for agency in e["agencies"]:
            agency_topics.setdefault(agency, set()).update(events.get(ev, "?") for ev in e["publishes"])
    agency_users = by_label("lintas/agency")
    expect("agency KafkaUsers (lintas/agency) vs agencies allowed by intake endpoints",
           set(agency_users), set(agency_topics))
    for agency, want in agency_topics.items():
        u = agency_users.get(agency)
        if not u:
            continue
        acls = acl_sets(u)
        expect(f"KafkaUser {u['metadata']['name']} topic Write", acls.get("topic:Write", set()), want)
        for key in acls:
            if key not in ("topic:Write", "topic:Describe"):
                error(f"KafkaUser {u['metadata']['name']}: unexpected {key} (no subscriber of this agency in code)")
    publishers = by_label("lintas/publisher")
    if "intake" not in publishers:
        error("no KafkaUser labelled lintas/publisher=intake")
    else:
        u = publishers["intake"]
        acls = acl_sets(u)
        expect(f"KafkaUser {u['metadata']['name']} topic Write", acls.get("topic:Write", set()),
               set().union(*agency_topics.values()))
        for key in acls:
            if key not in ("topic:Write", "topic:Describe"):
                error(f"KafkaUser {u['metadata']['name']}: unexpected {key}")

    # The monitor (`lintas ops`): reads every event and dead-letter topic, describes every
    # group and the cluster; writes only operators' redrive and discard requests.
    monitors = by_label("lintas/monitor")
    expect("monitor KafkaUsers (lintas/monitor)", set(monitors), {"ops"})
    if "ops" in monitors:
        u = monitors["ops"]
        acls = acl_sets(u)
        who = f"KafkaUser {u['metadata']['name']}"
        readable = topics | dlqs | redrives
        expect(f"{who} topic Read (every event, dead-letter and redrive topic)",
               acls.get("topic:Read", set()), readable)
        expect(f"{who} topic Describe", acls.get("topic:Describe", set()), readable)
        expect(f"{who} topic Write (the redrive topics: operators' requests only)",
               acls.get("topic:Write", set()), redrives)
        expect(f"{who} group Describe (all groups: literal \"*\")", acls.get("group:Describe", set()), {"*"})
        if acls.get("cluster:Describe") != {""}:
            error(f"{who}: needs Describe on the cluster (ListGroups)")
        allowed = ("topic:Read", "topic:Describe", "topic:Write", "group:Describe", "cluster:Describe")
        for key in sorted(acls):
            if key not in allowed:
                error(f"{who}: unexpected {key} {sorted(acls[key])}: the monitor only reads, "
                      "and writes only redrive requests")
    # The auditors (lintas/auditor=privacy): read-only on the topics of the data-protection
    # records, and their own consumer group (the one `lintas audit verify` names), nothing else.
    auditors = by_label("lintas/auditor")
    expect("auditor KafkaUsers (lintas/auditor)", set(auditors), {"privacy"})
    if "privacy" in auditors:
        u = auditors["privacy"]
        acls = acl_sets(u)
        who = f"KafkaUser {u['metadata']['name']}"
        expect(f"{who} topic Read (the topics of the data-protection records)",
               acls.get("topic:Read", set()), erasure_topics)
        expect(f"{who} topic Describe", acls.get("topic:Describe", set()), erasure_topics)
        expect(f"{who} group Read (the group.id of `lintas audit verify`)",
               acls.get("group:Read", set()), {audit_group()})
        for key in sorted(acls):
            if key not in ("topic:Read", "topic:Describe", "group:Read"):
                error(f"{who}: unexpected {key} {sorted(acls[key])}: the auditor is read-only")

    # Across all users: who reads and who writes the data-protection records is exactly what
    # the code says (the subscribers whose TOPICS include the topic, and whose query APIs
    # publish its events), plus the read-only monitor and auditors; no agency, no intake.
    privacy_events = {e for e, t in events.items() if t in erasure_topics}
    for topic in sorted(erasure_topics):
        readers = {sub_users[g]["metadata"]["name"] for g, s in subs.items()
                   if topic in s["topics"] and g in sub_users}
        writers = {sub_users[g]["metadata"]["name"] for g, s in subs.items() if g in sub_users
                   and set(s["publishes"]) & privacy_events}
        readers |= {u["metadata"]["name"] for label in ("lintas/monitor", "lintas/auditor")
                    for u in by_label(label).values()}
        expect(f"KafkaUsers with Read on {topic} (its readers in code, the monitor, the auditors)",
               {n for n, u in users.items() if topic in acl_sets(u).get("topic:Read", set())}, readers)
        expect(f"KafkaUsers with Write on {topic} (the subscribers whose APIs publish {sorted(privacy_events)})",
               {n for n, u in users.items() if topic in acl_sets(u).get("topic:Write", set())}, writers)

    print(f"code: {len(topics)} event topics, {len(subs)} subscriber(s) {sorted(subs)}, "
          f"{len(eps)} intake endpoints, agencies {sorted(agency_topics)}")
    return subs


# --------------------------------------------------------------------------------------------
# Kafka principals: each service's own user, with exactly the ACLs the code's declarations give


ASYNCAPI = ROOT / "schemas/asyncapi.json"
# Kafka's name of the cluster resource in ACLs (Strimzi's `type: cluster` has no name).
CLUSTER = "kafka-cluster"
# The role labels of our services' own principals, and the key of each in the ACL plan.
SERVICE_ROLES = ("lintas/publisher", "lintas/subscriber", "lintas/monitor")
# compose only: the one-shot `topics` (`lintas topics create`) creates the topics; in Kubernetes
# they are KafkaTopics and no principal may create any.
TOPIC_CREATOR = "topics:create"
COMPOSE_ACLS = ROOT / "deploy/kafka/acls.txt"
KAFKA_DIR = ROOT / "deploy/kafka"
CREDENTIALS_DIR = "/etc/lintas/kafka"

Acl = tuple[str, str, str]  # (resource type, resource name, operation)


def asyncapi() -> dict:
    return json.loads(read(ASYNCAPI))


def channel_of(doc: dict, op: dict) -> dict:
    ref = op["channel"]["$ref"]
    return doc["channels"][ref.rsplit("/", 1)[-1]]


def addresses(channel: dict) -> list[str]:
    """A channel's topic names, its parameters (`lintas.{group}.dlq`) expanded by their enums."""
    out = [channel["address"]]
    for name, param in (channel.get("parameters") or {}).items():
        values = param.get("enum")
        if not values:
            error(f"{ASYNCAPI.name}: channel {channel['address']}: parameter {name} without enum: "
                  "its topics cannot be derived")
            continue
        out = [a.replace("{" + name + "}", v) for a in out for v in values]
    return out


def op_topics(doc: dict, op: dict) -> list[str]:
    """The topics an operation reads or writes: its own `x-address` when its channel is
    parameterized (a subscriber's own dead-letter topic), else the channel's."""
    return [op["x-address"]] if op.get("x-address") else addresses(channel_of(doc, op))


def offset_probe_group(group: str) -> str:
    """The group.id of the kit's offset probe of a subscriber's group."""
    sub = subscribers().get(group)
    if sub is None:
        error(f"lintas describe: no subscriber with group {group}: no offset-probe group")
        return f"{group}-?"
    return sub["offset_probe_group"]


def acl_plan() -> dict[str, set[Acl]]:
    """Role ("subscriber:imigrasi", "publisher:intake", "monitor:ops", "auditor:privacy",
    "agency:polri", "topics:create") -> exactly the ACLs it needs, from schemas/asyncapi.json
    (which tests/asyncapi.rs keeps equal to the code: each subscriber's reads
    and writes, the intake's, the dead-letter topics, the privacy topic) and the group ids the
    code sets. Read and Write on a topic come with Describe (metadata)."""
    doc = asyncapi()
    plan: dict[str, set[Acl]] = {}

    def grant(role: str, ops: tuple[str, ...], topics: list[str]) -> None:
        for topic in topics:
            for op in (*ops, "Describe"):
                plan.setdefault(role, set()).add(("topic", topic, op))

    every_topic = sorted({t for c in doc["channels"].values() for t in addresses(c)})
    for name, op in doc["operations"].items():
        group = op.get("x-consumer-group")
        producer = op.get("x-producer")
        if group:
            role = f"subscriber:{group}"
            grant(role, ("Read",) if op["action"] == "receive" else ("Write",), op_topics(doc, op))
            plan[role] |= {("group", group, "Read"), ("group", offset_probe_group(group), "Describe")}
        elif producer == "intake" and op["action"] == "send":
            grant("publisher:intake", ("Write",), op_topics(doc, op))
            for agencies in (op.get("x-agencies-by-message") or {}).values():
                for agency in agencies:
                    grant(f"agency:{agency}", ("Write",), op_topics(doc, op))
        else:
            error(f"{ASYNCAPI.name}: operation {name}: neither a subscriber's (x-consumer-group) nor "
                  "the intake's: whose principal is it? (parser out of date)")
    # Each subscriber reads its redrive topic; the operators' page reads and writes them all
    # (`lintas dead-letters` runs with the monitor's credential); the creator creates them.
    redrives = sorted(redrive_name(g) for g in subscribers())
    for topic in redrives:
        group = next(g for g in subscribers() if redrive_name(g) == topic)
        grant(f"subscriber:{group}", ("Read",), [topic])
    grant("monitor:ops", ("Read",), every_topic + redrives)
    grant("monitor:ops", ("Write",), redrives)
    plan["monitor:ops"] |= {("group", "*", "Describe"), ("cluster", CLUSTER, "Describe")}
    privacy = [t for c in doc["channels"].values() if ERASURE_EVENT in c["messages"]
               for t in addresses(c)]
    grant("auditor:privacy", ("Read",), privacy)
    plan["auditor:privacy"].add(("group", audit_group(), "Read"))
    for topic in every_topic + redrives:
        plan.setdefault(TOPIC_CREATOR, set()).update({("topic", topic, "Create"), ("topic", topic, "Describe")})
    return plan


def acl_triples(user: dict) -> set[Acl]:
    out = set()
    for rule in user["spec"].get("authorization", {}).get("acls", []):
        res = rule["resource"]
        for op in rule.get("operations") or [rule.get("operation")]:
            out.add((res["type"], res.get("name", CLUSTER), op))
        if rule.get("host", "*") != "*":
            error(f"KafkaUser {user['metadata']['name']}: host {rule.get('host')}: the plan has no host rules")
    return out


def role_of(user: dict) -> str | None:
    labels = user["metadata"].get("labels", {})
    for label in ROLE_LABELS:
        if label in labels:
            return f"{label.removeprefix('lintas/')}:{labels[label]}"
    return None


def expect_acls(who: str, got: set[Acl], want: set[Acl]) -> None:
    if got != want:
        show = lambda acls: [" ".join(a) for a in sorted(acls)]
        error(f"{who}: ACLs are not exactly what the code reads and writes; "
              f"missing {show(want - got)}, in excess {show(got - want)}")


def check_user_acls(docs: list[tuple[str, dict]], plan: dict[str, set[Acl]]) -> dict[str, str]:
    """Every KafkaUser's ACLs are exactly its role's plan; our services' users authenticate
    with SCRAM-SHA-512 (their Secret's `password`), agencies' and auditors' with TLS or SCRAM.
    Returns role -> KafkaUser name."""
    names: dict[str, str] = {}
    for _, u in docs:
        if u.get("kind") != "KafkaUser":
            continue
        name, role = u["metadata"]["name"], role_of(u)
        if role is None:
            continue  # reported by check_kafka
        if role in names:
            error(f"KafkaUsers {names[role]} and {name} share the role {role}: one principal each")
        names[role] = name
        auth = u["spec"].get("authentication", {}).get("type")
        service = any(role.startswith(label.removeprefix("lintas/") + ":") for label in SERVICE_ROLES)
        if service and auth != "scram-sha-512":
            error(f"KafkaUser {name}: a service's principal authenticates with scram-sha-512 (its Secret's password), not {auth}")
        elif not service and auth not in ("tls", "scram-sha-512"):
            error(f"KafkaUser {name}: authentication {auth}, expected tls or scram-sha-512")
        want = plan.get(role)
        if want is None:
            error(f"KafkaUser {name}: role {role} has no reads or writes in the code")
            continue
        expect_acls(f"KafkaUser {name} ({role})", acl_triples(u), want)
    return names


def service_role(component: str, subs: dict[str, dict]) -> str | None:
    """The Kafka role of a Deployment (or compose service), None when it has no principal."""
    if component in subs:
        return f"subscriber:{component}"
    return {"intake": "publisher:intake", "ops": "monitor:ops", "topics": TOPIC_CREATOR}.get(component)


def check_deployment_principals(docs: list[tuple[str, dict]], subs: dict[str, dict],
                                users: dict[str, str]) -> None:
    """Each Deployment with Kafka access connects as its own KafkaUser over the TLS listener
    with SCRAM-SHA-512, mounting that user's Secret (`password`) and the cluster CA; the others
    carry no Kafka credential at all."""
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for _, d in docs if d["kind"] == "ConfigMap"}
    user_names = set(users.values())
    seen: dict[str, str] = {}
    for _, d in docs:
        if d["kind"] != "Deployment":
            continue
        name = d["metadata"]["name"]
        component = name.removeprefix("lintas-")
        pod = d["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        env = {}
        for src in c.get("envFrom", []):
            env.update(configmaps.get(src.get("configMapRef", {}).get("name"), {}))
        for e in c.get("env", []):
            env[e["name"]] = e.get("value", "<from elsewhere>")
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        files: dict[str, tuple[str, str]] = {}  # path in the container -> (Secret, key)
        for volume in pod.get("volumes", []):
            sources = [s.get("secret") for s in (volume.get("projected") or {}).get("sources", [])]
            sources += [volume.get("secret") and {"name": volume["secret"].get("secretName"),
                                                  "items": volume["secret"].get("items")}]
            for secret in filter(None, sources):
                for item in secret.get("items") or []:
                    if volume["name"] in mounts:
                        files[f"{mounts[volume['name']]}/{item['path']}"] = (secret["name"], item["key"])
        held = {s for s, _ in files.values()} & user_names
        if "LINTAS_KAFKA_PROPERTIES" in env:
            error(f"{name}: LINTAS_KAFKA_PROPERTIES is set: the Kafka principal is configured with LINTAS_KAFKA_* only")
        role = service_role(component, subs)
        if role is None:
            if "LINTAS_KAFKA_USERNAME" in {e["name"] for e in c.get("env", [])} or held:
                error(f"{name}: has no Kafka role in the code but carries a Kafka principal {sorted(held)}")
            continue
        want = users.get(role)
        username = env.get("LINTAS_KAFKA_USERNAME")
        if want is None:
            error(f"{name}: no KafkaUser with the role {role}")
            continue
        if username != want:
            error(f"{name}: LINTAS_KAFKA_USERNAME {username!r}, expected its own KafkaUser {want}")
        if username in seen:
            error(f"{name}: shares the Kafka principal {username} with {seen[username]}")
        seen[username or "?"] = name
        if held != {want}:
            error(f"{name}: mounts the Secrets of KafkaUsers {sorted(held)}, expected exactly its own {want}")
        for var, (secret, key) in (("LINTAS_KAFKA_PASSWORD_FILE", (want, "password")),
                                   ("LINTAS_KAFKA_CA_FILE", ("lintas-cluster-ca-cert", "ca.crt"))):
            if files.get(env.get(var, "")) != (secret, key):
                error(f"{name}: {var}={env.get(var)!r} is not a mounted file of Secret {secret} key {key}")
        if env.get("LINTAS_KAFKA_SECURITY_PROTOCOL") != "sasl_ssl" or env.get("LINTAS_KAFKA_SASL_MECHANISM") != "SCRAM-SHA-512":
            error(f"{name}: Kafka over sasl_ssl with SCRAM-SHA-512 expected, is "
                  f"{env.get('LINTAS_KAFKA_SECURITY_PROTOCOL')} {env.get('LINTAS_KAFKA_SASL_MECHANISM')}")
        if not env.get("LINTAS_BROKERS", "").endswith(":9093"):
            error(f"{name}: LINTAS_BROKERS {env.get('LINTAS_BROKERS')} is not the authenticated TLS listener (9093)")
        if component in subs and env.get("LINTAS_CREATE_DEAD_LETTER_TOPIC") != "false":
            error(f"{name}: LINTAS_CREATE_DEAD_LETTER_TOPIC must be false: no principal may create topics")


def compose_acls(text: str) -> dict[str, set[Acl]]:
    """deploy/kafka/acls.txt: `principal resource-type name operation` per line."""
    out: dict[str, set[Acl]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 4 or fields[1] not in ("topic", "group", "cluster"):
            error(f"{COMPOSE_ACLS.name}:{n}: expected `principal topic|group|cluster name operation`: {line}")
            continue
        principal, kind, name, op = fields
        out.setdefault(principal, set()).add((kind, name, op))
    return out


def compose_acls_text(plan: dict[str, set[Acl]], users: dict[str, str]) -> str:
    """What deploy/kafka/acls.txt must hold (`validate.py --print-compose-acls`)."""
    lines = ["# Generated by `python3 deploy/kubernetes/validate.py --print-compose-acls`, checked by",
             "# validate.py: the ACLs of each compose service's own principal, from the code's",
             "# declarations (schemas/asyncapi.json, the group ids in the code), applied by",
             "# deploy/kafka/principals.sh. principal, resource type, resource name, operation."]
    for role, principal in sorted(compose_principals(users).items(), key=lambda x: x[1]):
        for kind, name, op in sorted(plan.get(role, ())):
            lines.append(f"{principal} {kind} {name} {op}")
    return "\n".join(lines) + "\n"


def compose_principals(users: dict[str, str]) -> dict[str, str]:
    """Role -> principal name in compose: the same names as the KafkaUsers, plus the topics'
    creator."""
    out = {role: name for role, name in users.items()
           if any(role.startswith(label.removeprefix("lintas/") + ":") for label in SERVICE_ROLES)}
    out[TOPIC_CREATOR] = "lintas-topics"
    return out


def properties(path: Path) -> dict[str, str]:
    out = {}
    for line in read(path).splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def check_compose_kafka(compose: dict, subs: dict[str, dict], plan: dict[str, set[Acl]],
                        users: dict[str, str], acls_text: str) -> None:
    """docker-compose.yml: the broker has only TLS listeners, SCRAM-SHA-512 for clients, an
    authorizer that denies what no ACL allows; each Lintas service with LINTAS_BROKERS connects
    as its own principal (the KafkaUser's name) with the password file and CA that only it and
    the init container `kafka-principals` mount; deploy/kafka/acls.txt grants each principal
    exactly its plan."""
    server = properties(KAFKA_DIR / "server.properties")
    protocols = dict(p.split(":", 1) for p in server.get("listener.security.protocol.map", "").split(",") if ":" in p)
    listeners = [l.split("://", 1)[0] for l in server.get("listeners", "").split(",") if l]
    for listener in listeners:
        if protocols.get(listener) not in ("SSL", "SASL_SSL"):
            error(f"deploy/kafka/server.properties: listener {listener} is {protocols.get(listener)}: TLS only")
        if protocols.get(listener) == "SSL" and server.get(f"listener.name.{listener.lower()}.ssl.client.auth") != "required":
            error(f"deploy/kafka/server.properties: SSL listener {listener} must require client certificates")
    if server.get("sasl.enabled.mechanisms") != "SCRAM-SHA-512":
        error("deploy/kafka/server.properties: sasl.enabled.mechanisms must be SCRAM-SHA-512")
    if server.get("allow.everyone.if.no.acl.found", "false") != "false" or "authorizer.class.name" not in server:
        error("deploy/kafka/server.properties: needs an authorizer that denies what no ACL allows")
    granted = compose_acls(acls_text)
    principals = compose_principals(users)
    init = compose.get("kafka-principals") or {}
    init_dirs = {}
    for v in init.get("volumes", []):
        if isinstance(v, str) and ":/credentials/" in v:
            volume, target = v.split(":", 2)[:2]
            init_dirs[target.removeprefix("/credentials/")] = volume
    expected_users = set()
    for name, svc in sorted(compose.items()):
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        if "LINTAS_BROKERS" not in env or not svc.get("command"):
            continue
        role = service_role(name, subs)
        principal = principals.get(role or "")
        if principal is None:
            error(f"docker-compose.yml {name}: reaches Kafka but has no Kafka role in the code")
            continue
        expected_users.add(principal)
        want_env = {"LINTAS_KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "LINTAS_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                    "LINTAS_KAFKA_USERNAME": principal,
                    "LINTAS_KAFKA_PASSWORD_FILE": f"{CREDENTIALS_DIR}/password",
                    "LINTAS_KAFKA_CA_FILE": f"{CREDENTIALS_DIR}/ca.crt"}
        for var, value in want_env.items():
            if env.get(var) != value:
                error(f"docker-compose.yml {name}: {var}={env.get(var)!r}, expected {value}")
        if "LINTAS_KAFKA_PROPERTIES" in env:
            error(f"docker-compose.yml {name}: LINTAS_KAFKA_PROPERTIES is set: LINTAS_KAFKA_* only")
        if name in subs and env.get("LINTAS_CREATE_DEAD_LETTER_TOPIC") != "false":
            error(f"docker-compose.yml {name}: LINTAS_CREATE_DEAD_LETTER_TOPIC must be false (`topics` creates them)")
        mounted = [v.split(":")[0] for v in svc.get("volumes", []) if isinstance(v, str)
                   and v.split(":")[1:2] == [CREDENTIALS_DIR]]
        if len(mounted) != 1 or init_dirs.get(principal) != mounted[0]:
            error(f"docker-compose.yml {name}: must mount its own credentials volume at {CREDENTIALS_DIR} "
                  f"(kafka-principals writes {principal}'s into {init_dirs.get(principal)}), mounts {mounted}")
        for other, osvc in compose.items():
            if other not in (name, "kafka-principals") and mounted and any(
                    isinstance(v, str) and v.split(":")[0] == mounted[0] for v in osvc.get("volumes", [])):
                error(f"docker-compose.yml {other}: mounts {name}'s Kafka credentials {mounted[0]}")
        expect_acls(f"{COMPOSE_ACLS.name} {principal} ({role})", granted.get(principal, set()), plan.get(role, set()))
    expect("docker-compose.yml kafka-principals: credential volumes", set(init_dirs), expected_users)
    expect(f"{COMPOSE_ACLS.name}: principals", set(granted), expected_users)


# --------------------------------------------------------------------------------------------
# NetworkPolicies: exactly the flows the services need

Flow = tuple[str, str, str]  # (direction, peer, "port/protocol")


def workloads(docs: list[tuple[str, dict]]) -> dict[str, dict]:
    """component -> {labels, spec (pod), kind} of every Deployment, Job and CronJob."""
    out = {}
    for _, d in docs:
        kind = d["kind"]
        template = {"Deployment": lambda s: s["template"], "Job": lambda s: s["template"],
                    "CronJob": lambda s: s["jobTemplate"]["spec"]["template"]}.get(kind)
        if template is None:
            continue
        pod = template(d["spec"])
        labels = pod["metadata"]["labels"]
        out[labels["app.kubernetes.io/component"]] = {"labels": labels, "pod": pod["spec"], "kind": kind}
    return out


def selects(selector: dict, labels: dict) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for e in selector.get("matchExpressions", []):
        value = labels.get(e["key"])
        if e["operator"] == "In" and value not in e["values"]:
            return False
        if e["operator"] == "NotIn" and value in e["values"]:
            return False
        if e["operator"] == "Exists" and value is None:
            return False
    return True


def peers(rule_peers: list[dict] | None, pods: dict[str, dict]) -> set[str]:
    """Canonical names of a rule's peers: pod:<component>, kafka, dns, ns:<lintas/ label>,
    anywhere."""
    if not rule_peers:
        return {"anywhere"}
    out = set()
    for peer in rule_peers:
        ns, pod, block = peer.get("namespaceSelector"), peer.get("podSelector"), peer.get("ipBlock")
        if block is not None:
            out.add("anywhere" if block.get("cidr") == "0.0.0.0/0" and not block.get("except") else f"ip:{block['cidr']}")
        elif ns is not None:
            labels = ns.get("matchLabels", {})
            if labels == {"kubernetes.io/metadata.name": "kube-system"} and (pod or {}).get("matchLabels") == {"k8s-app": "kube-dns"}:
                out.add("dns")
            elif len(labels) == 1 and next(iter(labels)).startswith("lintas/") and not pod:
                out.add("ns:" + next(iter(labels)).removeprefix("lintas/"))
            else:
                out.add(f"namespaces {labels} {pod}")
        elif pod is not None:
            if pod.get("matchLabels") == {"strimzi.io/cluster": "lintas", "strimzi.io/kind": "Kafka"}:
                out.add("kafka")
            else:
                matched = {f"pod:{c}" for c, w in pods.items() if selects(pod, w["labels"])}
                out |= matched or {f"no pod {pod}"}
    return out


def allowed_flows(policies: list[dict], component: str, pods: dict[str, dict]) -> tuple[set[Flow], set[str]]:
    """The flows the policies allow a pod, and the directions it is isolated in."""
    flows, isolated = set(), set()
    for p in policies:
        spec = p["spec"]
        if not selects(spec.get("podSelector", {}), pods[component]["labels"]):
            continue
        for direction, key, peer_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
            if direction not in spec.get("policyTypes", []):
                continue
            isolated.add(direction)
            for rule in spec.get(key, []):
                if not rule.get("ports"):
                    error(f"NetworkPolicy {p['metadata']['name']}: a {key} rule without ports allows every port")
                    continue
                for peer in peers(rule.get(peer_key), pods):
                    for port in rule["ports"]:
                        flows.add((direction.lower(), peer, f"{port.get('port')}/{port.get('protocol', 'TCP')}"))
    return flows, isolated


def expected_flows(docs: list[tuple[str, dict]], pods: dict[str, dict], users: dict[str, str]) -> dict[str, set[Flow]]:
    """What each Lintas pod must be able to reach and be reached by, from the manifests and the
    code: DNS; Kafka's TLS listener for a Kafka principal; the registry for a registry URL the
    command reads; PostgreSQL for a database; the identity provider for agency tokens; the
    dashboard's probes of LINTAS_OPS_SERVICES; Prometheus on each ServiceMonitor's port; the
    ingress controller on each Service's http port."""
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for _, d in docs if d["kind"] == "ConfigMap"}
    commands = cli_commands()
    services = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "Service"}
    monitored = set()
    for _, m in docs:
        if m["kind"] == "ServiceMonitor":
            for svc in services.values():
                if m["spec"]["selector"].get("matchLabels", {}).items() <= svc["metadata"].get("labels", {}).items():
                    ports = {p["name"]: p for p in svc["spec"]["ports"]}
                    for ep in m["spec"]["endpoints"]:
                        monitored.add((svc["spec"]["selector"]["app.kubernetes.io/component"], ports[ep["port"]]["port"]))
    want: dict[str, set[Flow]] = {c: {("egress", "dns", "53/UDP"), ("egress", "dns", "53/TCP")} for c in pods}
    registry_port = services["lintas-registry"]["spec"]["ports"][0]["port"]
    for component, w in pods.items():
        (c,) = w["pod"]["containers"]
        env = {}
        for src in c.get("envFrom", []):
            env.update(configmaps.get(src.get("configMapRef", {}).get("name"), {}))
        for e in c.get("env", []):
            env[e["name"]] = e
        args = c.get("args") or []
        reads = commands.get(args[0], (set(), set()))[1] if args else set()
        if args[:2] == ["keys", "shred"]:
            reads = {"LINTAS_SCHEMA_REGISTRY_URL"}
        if "LINTAS_KAFKA_USERNAME" in env:
            want[component].add(("egress", "kafka", "9093/TCP"))
        if "LINTAS_SCHEMA_REGISTRY_URL" in env and "LINTAS_SCHEMA_REGISTRY_URL" in reads:
            want[component].add(("egress", "pod:registry", f"{registry_port}/TCP"))
            want["registry"].add(("ingress", f"pod:{component}", f"{registry_port}/TCP"))
        if "LINTAS_DATABASE_URL" in env or w["kind"] == "Job":
            want[component].add(("egress", "anywhere", "5432/TCP"))
        tokens = (env.get("LINTAS_TOKENS") or {}).get("valueFrom", {}).get("secretKeyRef", {})
        if tokens.get("key") == "tokens":
            want[component].add(("egress", "anywhere", "443/TCP"))
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        if "http" in ports:
            want[component].add(("ingress", "ns:ingress", f"{ports['http']}/TCP"))
        for target in filter(None, str((env.get("LINTAS_OPS_SERVICES") or {}).get("value", "")).split(",")):
            host, port = target.split("=", 1)[1].removeprefix("http://").rsplit(":", 1)
            other = host.removeprefix("lintas-")
            want[component].add(("egress", f"pod:{other}", f"{port}/TCP"))
            want.setdefault(other, set()).add(("ingress", f"pod:{component}", f"{port}/TCP"))
    for component, port in monitored:
        want[component].add(("ingress", "ns:monitoring", f"{port}/TCP"))
    return want


def check_network_policies(docs: list[tuple[str, dict]], users: dict[str, str]) -> None:
    policies = [d for _, d in docs if d["kind"] == "NetworkPolicy"]
    pods = workloads(docs)
    want = expected_flows(docs, pods, users)
    for component in sorted(pods):
        got, isolated = allowed_flows(policies, component, pods)
        if isolated != {"Ingress", "Egress"}:
            error(f"NetworkPolicies: pod {component} is not denied by default in {sorted({'Ingress', 'Egress'} - isolated)}")
        if got != want[component]:
            show = lambda flows: [" ".join(f) for f in sorted(flows)]
            error(f"NetworkPolicies: pod {component}: missing {show(want[component] - got)}, "
                  f"in excess {show(got - want[component])}")
    print(f"network policies: {len(policies)}, flows of {len(pods)} workloads checked")


def check_principals(docs: list[tuple[str, dict]], subs: dict[str, dict]) -> None:
    """Kafka principals and their ACLs (Kubernetes and compose), and the NetworkPolicies."""
    plan = acl_plan()
    users = check_user_acls(docs, plan)
    check_deployment_principals(docs, subs, users)
    compose = yaml.safe_load(read(ROOT / "docker-compose.yml"))["services"]
    check_compose_kafka(compose, subs, plan, users, read(COMPOSE_ACLS) if COMPOSE_ACLS.exists() else "")
    check_network_policies(docs, users)
    print(f"Kafka principals: {len(users)} KafkaUsers, ACLs derived from {ASYNCAPI.relative_to(ROOT)} and the code")


def ops_watch_default() -> set[str]:
    """LINTAS_OPS_WATCH's default (`lintas ops`)."""
    ops = command(["ops"]) or {"env": []}
    default = next((v.get("default") for v in ops["env"] if v["name"] == "LINTAS_OPS_WATCH"), None)
    if default is None:
        error("lintas describe: `lintas ops` has no default for LINTAS_OPS_WATCH")
        return set()
    return {g.strip() for g in default.split(",") if g.strip()}


def check_ops_env(where: str, env: dict[str, str], want_services: dict[str, str],
                  subs: dict[str, dict]) -> None:
    """LINTAS_OPS_SERVICES = every other Lintas service; watched groups = subscribers."""
    got: dict[str, str] = {}
    for item in filter(None, (i.strip() for i in env.get("LINTAS_OPS_SERVICES", "").split(","))):
        name, sep, url = item.partition("=")
        if not sep:
            error(f"{where}: LINTAS_OPS_SERVICES item {item!r} is not name=url")
        got[name.strip()] = url.strip().rstrip("/")
    expect(f"{where}: services in LINTAS_OPS_SERVICES", set(got), set(want_services))
    for name in sorted(set(got) & set(want_services)):
        if got[name] != want_services[name]:
            error(f"{where}: LINTAS_OPS_SERVICES {name}={got[name]}, expected {want_services[name]}")
    watch = env.get("LINTAS_OPS_WATCH")
    watched = ({g.strip() for g in watch.split(",") if g.strip()} if watch is not None
               else ops_watch_default())
    expect(f"{where}: groups watched (LINTAS_OPS_WATCH)", watched, set(subs))


def check_workloads(docs: list[tuple[str, dict]], subs: dict[str, dict]) -> None:
    compose = yaml.safe_load(read(ROOT / "docker-compose.yml"))["services"]
    commands = cli_commands()
    secrets = template_secrets(docs)
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for _, d in docs if d["kind"] == "ConfigMap"}
    services = [d for _, d in docs if d["kind"] == "Service"]
    monitors = [d for _, d in docs if d["kind"] == "ServiceMonitor"]
    images = set()
    deployments = [d for _, d in docs if d["kind"] == "Deployment"]
    expect("Deployments (registry, intake, ops, one per subscriber in code)",
           {d["metadata"]["name"] for d in deployments},
           {f"lintas-{s}" for s in ("registry", "intake", "ops", *subs)})
    for d in deployments:
        name = d["metadata"]["name"]
        component = name.removeprefix("lintas-")
        pod = d["spec"]["template"]
        pod_spec = pod["spec"]
        (c,) = pod_spec["containers"]
        images.add(c["image"])
        want_args = compose.get(component, {}).get("command")
        if c.get("args") != want_args:
            error(f"{name}: args {c.get('args')} != docker-compose.yml {component} command {want_args}")
        own_args = ["subscriber", component] if component in subs else ["ops"] if component == "ops" else None
        if own_args and c.get("args") != own_args:
            error(f"{name}: args {c.get('args')}, expected {own_args}")
        # Environment against the CLI.
        env = {e["name"]: e for e in c.get("env", [])}
        provided = set(env)
        for src in c.get("envFrom", []):
            ref = src.get("configMapRef", {}).get("name")
            if ref not in configmaps:
                error(f"{name}: envFrom ConfigMap {ref} does not exist")
            provided |= set(configmaps.get(ref, {}))
        for e in env.values():
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["key"] not in secrets.get(ref["name"], {}):
                error(f"{name}: {e['name']} from Secret {ref['name']}/{ref['key']}, not in {TEMPLATE}")
        for src in c.get("envFrom", []):
            if "secretRef" in src:
                # A whole Secret as environment would hand over keys nobody reviewed here.
                error(f"{name}: envFrom Secret {src['secretRef'].get('name')}: take single keys (secretKeyRef)")
        subcommand = (c.get("args") or ["?"])[0]
        if subcommand not in commands:
            error(f"{name}: subcommand {subcommand} unknown to `lintas` (lintas describe)")
        else:
            required, known = commands[subcommand]
            for var in sorted(required - provided):
                error(f"{name}: `lintas {subcommand}` requires {var}, which is not set")
            all_known = set().union(*(k for _, k in commands.values()))
            for var in sorted(v for v in provided if v.startswith("LINTAS_") and v not in all_known):
                error(f"{name}: {var} is set but no lintas subcommand reads it")
        listen = env.get("LINTAS_LISTEN", {}).get("value", "")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        if not listen.startswith("0.0.0.0:") or ports.get("http") != int(listen.rsplit(":", 1)[-1]):
            error(f"{name}: LINTAS_LISTEN {listen!r} must be 0.0.0.0:<containerPort http {ports.get('http')}>")
        compose_listen = compose.get(component, {}).get("environment", {}).get("LINTAS_LISTEN")
        if compose_listen != listen:
            error(f"{name}: LINTAS_LISTEN {listen} differs from docker-compose.yml ({compose_listen})")
        # Probes and security.
        for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/readyz"),
                            ("startupProbe", "/livez")):
            got = c.get(probe, {}).get("httpGet", {})
            if got.get("path") != path or got.get("port") not in ("http", ports.get("http")):
                error(f"{name}: {probe} must GET {path} on the http port")
        sc, psc = c.get("securityContext", {}), pod_spec.get("securityContext", {})
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
            error(f"{name}: runAsNonRoot must be true")
        if sc.get("runAsUser", psc.get("runAsUser")) != 10001:
            error(f"{name}: runAsUser must be 10001 (the image's user lintas)")
        if sc.get("readOnlyRootFilesystem") is not True:
            error(f"{name}: readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            error(f"{name}: allowPrivilegeEscalation must be false")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            error(f"{name}: capabilities must drop ALL")
        res = c.get("resources", {})
        if not res.get("requests") or not res.get("limits", {}).get("memory"):
            error(f"{name}: resources need requests and a memory limit")
        # Service and ServiceMonitor.
        labels = pod["metadata"]["labels"]
        if d["spec"]["selector"]["matchLabels"].items() - labels.items():
            error(f"{name}: selector does not match its pod labels")
        svc = [s for s in services if s["spec"]["selector"].items() <= labels.items()]
        if len(svc) != 1:
            error(f"{name}: {len(svc)} Services select its pods, expected 1")
            continue
        svc = svc[0]
        if svc["metadata"]["name"] != name:
            error(f"Service {svc['metadata']['name']}: must be named {name} (Prometheus job label)")
        for p in svc["spec"]["ports"]:
            if p["targetPort"] not in ports and p["targetPort"] not in ports.values():
                error(f"Service {svc['metadata']['name']}: targetPort {p['targetPort']} not a container port")
        mons = [m for m in monitors
                if m["spec"]["selector"].get("matchLabels", {}).items() <= svc["metadata"].get("labels", {}).items()]
        if len(mons) != 1:
            error(f"Service {svc['metadata']['name']}: {len(mons)} ServiceMonitors select it, expected 1")
        else:
            svc_ports = {p["name"] for p in svc["spec"]["ports"]}
            for ep in mons[0]["spec"]["endpoints"]:
                if ep.get("port") not in svc_ports or ep.get("path") != "/metrics":
                    error(f"ServiceMonitor {mons[0]['metadata']['name']}: must scrape /metrics on a Service port")
    if len(images) != 1:
        error(f"Deployments use different images: {sorted(images)}")

    entitled = kek_entitlements(subs)
    check_keks(deployments, secrets, entitled)
    check_database(docs, deployments, secrets)
    check_compose_protection(compose, entitled, subs)
    check_cronjobs(docs, compose, images)
    check_registry_credentials(docs, compose, subs)

    # The dashboard shows the /readyz of every other service, by its Service (compose: service
    # name) and port, and watches every subscriber's group.
    def listen_port(value: str | None) -> str:
        return (value or "").rsplit(":", 1)[-1]

    by_name = {d["metadata"]["name"]: d for d in deployments}
    ops = by_name.get("lintas-ops")
    if ops:
        (c,) = ops["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
        secret_refs = [e["valueFrom"].get("secretKeyRef") for e in c.get("env", []) if e.get("valueFrom")]
        if secret_refs != [{"name": "lintas", "key": "ops-tokens"}]:
            error(f"lintas-ops: takes from Secrets exactly the operators' tokens (lintas/ops-tokens), takes {secret_refs}")
        want = {}
        for other, d in sorted(by_name.items()):
            if other == "lintas-ops":
                continue
            svc = next((s for s in services if s["metadata"]["name"] == other), None)
            port = svc["spec"]["ports"][0]["port"] if svc else "?"
            want[other.removeprefix("lintas-")] = f"http://{other}:{port}"
        check_ops_env("lintas-ops", env, want, subs)
    ops_compose = compose.get("ops")
    if ops_compose is None:
        error("docker-compose.yml: no service ops")
    else:
        want = {}
        for other, svc in sorted(compose.items()):
            cmd = svc.get("command") or []
            listen = svc.get("environment", {}).get("LINTAS_LISTEN")
            if other == "ops" or not cmd or not listen:
                continue  # not a Lintas service with an HTTP port (infrastructure, topics)
            want[other] = f"http://{other}:{listen_port(listen)}"
        check_ops_env("docker-compose.yml ops", {k: str(v) for k, v in ops_compose.get("environment", {}).items()},
                      want, subs)
        for dep in ("kafka", "registry"):
            if dep not in (ops_compose.get("depends_on") or {}):
                error(f"docker-compose.yml ops: must depend on {dep}")

def daily(schedule: str) -> bool:
    """A cron schedule that fires once a day: @daily/@midnight, or `M H * * *`."""
    if schedule.strip() in ("@daily", "@midnight"):
        return True
    fields = schedule.split()
    return (len(fields) == 5 and fields[2:] == ["*", "*", "*"]
            and fields[0].isdigit() and int(fields[0]) < 60 and fields[1].isdigit() and int(fields[1]) < 24)


def check_cronjobs(docs: list[tuple[str, dict]], compose: dict, images: set[str]) -> None:
    """The CronJob lintas-keys-shred: `lintas keys shred` (which must exist in code), daily, never
    two at once, with exactly the variables that command reads (the registry URL from the
    ConfigMap, the retention set explicitly), no Secret (no KEK, no database), the Deployments'
    image and security. A compose service running the same command is a profile-gated one-shot
    with the same retention."""
    cronjobs = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "CronJob"}
    expect("CronJobs", set(cronjobs), {SHRED_JOB})
    cli = keys_shred_cli()
    cj = cronjobs.get(SHRED_JOB)
    if cj is None or cli is None:
        return
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for _, d in docs if d["kind"] == "ConfigMap"}
    spec = cj["spec"]
    if not daily(str(spec.get("schedule", ""))):
        error(f"CronJob {SHRED_JOB}: schedule {spec.get('schedule')!r} must run once a day "
              "(docs/data-protection.md §3: `M H * * *` or @daily)")
    if spec.get("concurrencyPolicy") != "Forbid":
        error(f"CronJob {SHRED_JOB}: concurrencyPolicy must be Forbid (two runs would destroy the same versions)")
    if spec.get("suspend"):
        error(f"CronJob {SHRED_JOB}: suspended: personal data would outlive its retention")
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    if len(pod.get("containers", [])) != 1 or pod.get("initContainers"):
        error(f"CronJob {SHRED_JOB}: exactly one container expected")
        return
    (c,) = pod["containers"]
    if c.get("args") != SHRED_ARGS or c.get("command"):
        error(f"CronJob {SHRED_JOB}: args {c.get('args')} (command {c.get('command')}), expected args {SHRED_ARGS} "
              "and the image's entrypoint")
    if images and c.get("image") not in images:
        error(f"CronJob {SHRED_JOB}: image {c.get('image')}, the Deployments use {sorted(images)}")
    # Environment against the code: what it requires is set, and nothing it does not read.
    env = {e["name"]: e for e in c.get("env", [])}
    provided = set(env)
    for src in c.get("envFrom", []):
        if "secretRef" in src:
            error(f"CronJob {SHRED_JOB}: envFrom Secret {src['secretRef'].get('name')}: it needs no Secret")
        ref = src.get("configMapRef", {}).get("name")
        if ref is not None:
            if ref not in configmaps:
                error(f"CronJob {SHRED_JOB}: envFrom ConfigMap {ref} does not exist")
            provided |= set(configmaps.get(ref, {}))
    for e in env.values():
        value_from = e.get("valueFrom", {})
        if "secretKeyRef" in value_from:
            error(f"CronJob {SHRED_JOB}: {e['name']} from a Secret: `keys shred` needs no KEK and no database")
        ref = value_from.get("configMapKeyRef")
        if ref and ref.get("key") not in configmaps.get(ref.get("name"), {}):
            error(f"CronJob {SHRED_JOB}: {e['name']} from ConfigMap {ref.get('name')}/{ref.get('key')}, which does not exist")
    mounted = {v.get("secret", {}).get("secretName") for v in pod.get("volumes", []) if "secret" in v}
    mounted |= {src["secret"].get("name") for v in pod.get("volumes", [])
                for src in (v.get("projected") or {}).get("sources", []) if "secret" in src}
    if mounted != {REGISTRY_SECRET["admin"]}:
        error(f"CronJob {SHRED_JOB}: mounts the Secrets {sorted(mounted)}: `keys shred` needs exactly the "
              f"registry's admin credential {REGISTRY_SECRET['admin']} (no KEK, no database)")
    for var in sorted(cli["required"] - provided):
        error(f"CronJob {SHRED_JOB}: `lintas keys shred` requires {var}, which is not set")
    for var in sorted(v for v in provided if v.startswith("LINTAS_") and v not in cli["known"]):
        error(f"CronJob {SHRED_JOB}: {var} is set but `lintas keys shred` does not read it "
              f"(it reads {sorted(cli['known'])})")
    url = env.get("LINTAS_SCHEMA_REGISTRY_URL", {}).get("valueFrom", {}).get("configMapKeyRef", {})
    if (url.get("name"), url.get("key")) != ("lintas", "LINTAS_SCHEMA_REGISTRY_URL"):
        error(f"CronJob {SHRED_JOB}: LINTAS_SCHEMA_REGISTRY_URL must come from the ConfigMap lintas (the services' registry)")
    # The retention is a decision: set explicitly, a whole number of days.
    retention = None
    var = cli["retention_env"]
    if var:
        value = str(env.get(var, {}).get("value", ""))
        if not value.isdigit() or int(value) < 1:
            error(f"CronJob {SHRED_JOB}: {var} must be set explicitly to a number of days (1 or more), is {value!r}")
        else:
            retention = int(value)
            if cli["retention_default"] is not None and retention != cli["retention_default"]:
                print(f"note: CronJob {SHRED_JOB}: {var}={retention}, the code's default is {cli['retention_default']} "
                      "(docs/data-protection.md §3)")
    # Security, as for the Deployments.
    sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
    if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")) or sc.get("runAsUser", psc.get("runAsUser")) != 10001:
        error(f"CronJob {SHRED_JOB}: runAsNonRoot, runAsUser 10001 (the image's user lintas)")
    if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False \
            or "ALL" not in sc.get("capabilities", {}).get("drop", []):
        error(f"CronJob {SHRED_JOB}: read-only root filesystem, no privilege escalation, drop ALL")
    if pod.get("automountServiceAccountToken") is not False:
        error(f"CronJob {SHRED_JOB}: automountServiceAccountToken must be false")
    res = c.get("resources", {})
    if not res.get("requests") or not res.get("limits", {}).get("memory"):
        error(f"CronJob {SHRED_JOB}: resources need requests and a memory limit")
    # Compose has no scheduler: a service running the same command is a one-shot that only
    # `docker compose run` starts (profile-gated), with the same retention.
    for name, svc in compose.items():
        if (svc.get("command") or [])[:2] != SHRED_ARGS:
            continue
        where = f"docker-compose.yml {name}"
        if not svc.get("profiles"):
            error(f"{where}: runs `keys shred`, so it must be profile-gated (run from the host's cron, "
                  "never by `docker compose up`)")
        if str(svc.get("restart", "")) != "no":
            error(f"{where}: restart must be \"no\" (a one-shot)")
        cenv = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        for v in sorted(cli["required"] - set(cenv)):
            error(f"{where}: `lintas keys shred` requires {v}, not set")
        for v in sorted(k for k in cenv if k.startswith("LINTAS_") and k not in cli["known"]):
            error(f"{where}: {v} is set but `lintas keys shred` does not read it")
        if var and retention is not None and cenv.get(var) != str(retention):
            error(f"{where}: {var}={cenv.get(var)}, the CronJob {SHRED_JOB} has {retention}: one retention")
    print(f"cronjob: {SHRED_JOB} runs `lintas {' '.join(SHRED_ARGS)}` ({spec.get('schedule')!r}, "
          f"{spec.get('timeZone', 'UTC')}), {var}={retention}")


# --------------------------------------------------------------------------------------------
# Personal-data keys and database roles


# --------------------------------------------------------------------------------------------
# The schema registry's credentials

REGISTRY_USERS_SECRET = "lintas-registry-users"
REGISTRY_SECRET = {role: f"lintas-registry-{role}" for role in ("read", "write", "admin")}
# Compose: the one-shot that makes the passwords and the users file, and its volumes.
REGISTRY_USERS_VOLUME = "registry-users"
REGISTRY_VOLUME = {role: f"registry-credentials-{role}" for role in REGISTRY_SECRET}


def registry_role(component: str, subs: dict[str, dict]) -> str | None:
    """The registry role a service needs: the intake registers the contract (write), the
    subscribers and ops only read and look ids up, keys-shred destroys key versions (admin)."""
    if component in subs or component == "ops":
        return "read"
    return {"intake": "write", "keys-shred": "admin"}.get(component)


def secret_files(pod: dict, container: dict) -> dict[str, tuple[str, str]]:
    """Path in the container -> (Secret, key) of every mounted Secret item."""
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    files: dict[str, tuple[str, str]] = {}
    for volume in pod.get("volumes", []):
        sources = [s.get("secret") for s in (volume.get("projected") or {}).get("sources", [])]
        sources += [volume.get("secret") and {"name": volume["secret"].get("secretName"),
                                              "items": volume["secret"].get("items")}]
        for secret in filter(None, sources):
            for item in secret.get("items") or []:
                if volume["name"] in mounts:
                    files[f"{mounts[volume['name']]}/{item['path']}"] = (secret["name"], item["key"])
    return files


def check_registry_credentials(docs: list[tuple[str, dict]], compose: dict, subs: dict[str, dict]) -> None:
    """The registry reads its users (argon2id hashes) from the file of the Secret
    lintas-registry-users, which nothing else mounts; every other workload reads its registry
    credential from the file LINTAS_REGISTRY_USER_INFO_FILE names, the mounted key user-info of
    exactly the Secret of its role (intake write, subscribers and ops read, keys-shred admin),
    never from a variable. docker-compose.yml likewise, with the volumes the one-shot
    registry-credentials fills."""
    secrets = template_secrets(docs)
    for name in (REGISTRY_USERS_SECRET, *REGISTRY_SECRET.values()):
        if name not in secrets:
            error(f"{TEMPLATE}: no Secret {name}")
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for _, d in docs if d["kind"] == "ConfigMap"}
    registry_secrets = {REGISTRY_USERS_SECRET, *REGISTRY_SECRET.values()}
    workloads_ = []
    for _, d in docs:
        if d["kind"] == "Deployment":
            workloads_.append((d["metadata"]["name"], d["spec"]["template"]["spec"]))
        elif d["kind"] == "CronJob":
            workloads_.append((d["metadata"]["name"], d["spec"]["jobTemplate"]["spec"]["template"]["spec"]))
    for name, pod in workloads_:
        component = name.removeprefix("lintas-")
        (c,) = pod["containers"]
        env: dict[str, str] = {}
        for src in c.get("envFrom", []):
            env.update(configmaps.get(src.get("configMapRef", {}).get("name"), {}))
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("configMapKeyRef")
            env[e["name"]] = (configmaps.get(ref.get("name"), {}).get(ref.get("key"), "?") if ref
                              else e.get("value", "<from a Secret>"))
        files = secret_files(pod, c)
        held = {s for s, _ in files.values()} & registry_secrets
        if "LINTAS_REGISTRY_USER_INFO" in {e["name"] for e in c.get("env", [])} | set(env):
            error(f"{name}: LINTAS_REGISTRY_USER_INFO is set: the registry credential comes from a file "
                  "(LINTAS_REGISTRY_USER_INFO_FILE), never a variable")
        if component == "registry":
            if files.get(env.get("LINTAS_REGISTRY_USERS_FILE", "")) != (REGISTRY_USERS_SECRET, "users"):
                error(f"{name}: LINTAS_REGISTRY_USERS_FILE={env.get('LINTAS_REGISTRY_USERS_FILE')!r} is not the "
                      f"mounted key users of Secret {REGISTRY_USERS_SECRET}")
            if held != {REGISTRY_USERS_SECRET}:
                error(f"{name}: mounts the registry Secrets {sorted(held)}, expected exactly {REGISTRY_USERS_SECRET}")
            continue
        role = registry_role(component, subs)
        if role is None:
            if held:
                error(f"{name}: has no registry role but mounts {sorted(held)}")
            continue
        want = REGISTRY_SECRET[role]
        if held != {want}:
            error(f"{name}: mounts the registry Secrets {sorted(held)}, expected exactly {want} (role {role})")
        if files.get(env.get("LINTAS_REGISTRY_USER_INFO_FILE", "")) != (want, "user-info"):
            error(f"{name}: LINTAS_REGISTRY_USER_INFO_FILE={env.get('LINTAS_REGISTRY_USER_INFO_FILE')!r} is not "
                  f"the mounted key user-info of Secret {want}")
    # docker-compose.yml: the same roles through volumes.
    setup = compose.get("registry-credentials")
    if setup is None:
        error("docker-compose.yml: no one-shot service registry-credentials (the registry's users)")
    else:
        volumes = {str(v).split(":")[0] for v in setup.get("volumes", [])}
        missing = {REGISTRY_USERS_VOLUME, *REGISTRY_VOLUME.values()} - volumes
        if missing:
            error(f"docker-compose.yml registry-credentials: does not fill {sorted(missing)}")
    registry_volumes = {REGISTRY_USERS_VOLUME, *REGISTRY_VOLUME.values()}
    for name, svc in compose.items():
        if name == "registry-credentials":
            continue
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        mounts, read_only = {}, set()
        for v in svc.get("volumes", []):
            parts = str(v).split(":")
            if len(parts) >= 2:
                mounts[parts[0]] = parts[1]
            if parts[2:] == ["ro"]:
                read_only.add(parts[0])
        held = set(mounts) & registry_volumes
        cmd = svc.get("command") or []
        component = "keys-shred" if cmd[:2] == ["keys", "shred"] else name
        if "LINTAS_REGISTRY_USER_INFO" in env:
            error(f"docker-compose.yml {name}: LINTAS_REGISTRY_USER_INFO is set: use LINTAS_REGISTRY_USER_INFO_FILE")
        if cmd[:1] == ["registry"]:
            path = env.get("LINTAS_REGISTRY_USERS_FILE", "")
            if held != {REGISTRY_USERS_VOLUME} or path != f"{mounts.get(REGISTRY_USERS_VOLUME)}/users":
                error(f"docker-compose.yml {name}: must read LINTAS_REGISTRY_USERS_FILE from the volume "
                      f"{REGISTRY_USERS_VOLUME} only (mounts {sorted(held)}, file {path!r})")
            continue
        role = registry_role(component, subs)
        if role is None:
            if held:
                error(f"docker-compose.yml {name}: has no registry role but mounts {sorted(held)}")
            continue
        want = REGISTRY_VOLUME[role]
        path = env.get("LINTAS_REGISTRY_USER_INFO_FILE", "")
        if held != {want} or path != f"{mounts.get(want)}/user-info":
            error(f"docker-compose.yml {name}: must read LINTAS_REGISTRY_USER_INFO_FILE from the volume {want} "
                  f"only (role {role}; mounts {sorted(held)}, file {path!r})")
        if want in held and want not in read_only:
            error(f"docker-compose.yml {name}: mount {want} read-only")
    print("registry: users only in lintas-registry; credentials by role (intake write, subscribers and ops "
          "read, keys-shred admin), from files, in both deployments")


def template_secrets(docs: list[tuple[str, dict]]) -> dict[str, dict[str, str]]:
    """Secret name -> stringData of secret.template.yaml; every value a REPLACE_ME placeholder."""
    out: dict[str, dict[str, str]] = {}
    for where, d in docs:
        if not where.startswith(TEMPLATE):
            continue
        if d.get("kind") != "Secret":
            error(f"{where}: {TEMPLATE} holds Secrets only, found {d.get('kind')}")
            continue
        out[d["metadata"]["name"]] = dict(d.get("stringData", {}))
        for key, value in d.get("stringData", {}).items():
            if "REPLACE_ME" not in value:
                error(f"{TEMPLATE}: {d['metadata']['name']}/{key} must be a REPLACE_ME placeholder, never a real value")
    if "lintas" not in out:
        error(f"{TEMPLATE}: no Secret lintas")
    return out


def code_keks() -> tuple[set[str], dict[str, str | None]]:
    """(every KEK of the contract, event -> KEK of its personal data or None)."""
    d = describe()
    return set(d["keks"]), {e["name"]: e["kek"] for e in d["events"]}


def kek_entitlements(subs: dict[str, dict]) -> dict[str, set[str]]:
    """Component -> the KEKs it may hold. The intake: the KEKs of every event its endpoints
    publish (it encrypts them). A subscriber: the KEKs it declares (`lintas subscriber` refuses
    any other). Everything else (registry, ops: `lintas ops` refuses any): none."""
    all_keks, kek_of = code_keks()
    out: dict[str, set[str]] = {"registry": set(), "ops": set()}
    published = set().union(*(e["publishes"] for e in endpoints()))
    out["intake"] = {kek_of[e] for e in published if kek_of.get(e)}
    for group, sub in subs.items():
        out[group] = set(sub["keks"])
    for component, keks in out.items():
        for kek in sorted(keks - all_keks):
            error(f"{component}: KEK {kek} is not in lintas_events::keks")
    return out


def kek_var(kek: str) -> str:
    return "KEK_" + re.sub(r"[^A-Z0-9]", "_", kek.upper())


def check_keks(deployments: list[dict], secrets: dict[str, dict[str, str]],
               entitled: dict[str, set[str]]) -> None:
    """Only entitled Deployments get KEKs; each gets exactly its own, one secret key per KEK,
    named after it, composed into LINTAS_KEK_SECRETS; each KEK lives in one Secret of its own."""
    all_keks, _ = code_keks()
    home: dict[str, str] = {}  # KEK -> the Secret holding it
    for secret, data in secrets.items():
        held = set(data) & all_keks
        if held and set(data) != held:
            error(f"{TEMPLATE}: Secret {secret} mixes KEKs {sorted(held)} with {sorted(set(data) - held)}: "
                  "a KEK Secret holds KEKs only, so mounting it hands over nothing else")
        if len(held) > 1:
            error(f"{TEMPLATE}: Secret {secret} holds several KEKs {sorted(held)}: one Secret per KEK")
        for kek in held:
            if kek in home:
                error(f"{TEMPLATE}: KEK {kek} in both {home[kek]} and {secret}: one copy only")
            home[kek] = secret
    expect(f"KEKs with a Secret in {TEMPLATE} (lintas_events::keks)", set(home), all_keks)
    for d in deployments:
        name = d["metadata"]["name"]
        component = name.removeprefix("lintas-")
        want = entitled.get(component, set())
        (c,) = d["spec"]["template"]["spec"]["containers"]
        env_list = c.get("env", [])
        refs = {}  # variable -> (Secret, key) of the KEK it carries
        for e in env_list:
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and (ref["key"] in all_keks or ref["name"] in home.values()):
                refs[e["name"]] = (ref["name"], ref["key"])
                if home.get(ref["key"]) != ref["name"]:
                    error(f"{name}: {e['name']} from {ref['name']}/{ref['key']}: a KEK is taken by its "
                          f"own name from its own Secret ({home.get(ref['key'])})")
        expect(f"{name}: KEK secret keys mounted (entitled: {component})",
               {key for _, key in refs.values()}, want)
        names = [e["name"] for e in env_list]
        spec = next((e for e in env_list if e["name"] == "LINTAS_KEK_SECRETS"), None)
        if not want:
            if spec is not None:
                error(f"{name}: sets LINTAS_KEK_SECRETS but may hold no KEK")
            continue
        if spec is None or "value" not in spec:
            error(f"{name}: needs LINTAS_KEK_SECRETS composed from its KEK secret keys")
            continue
        composed: dict[str, str] = {}
        for item in spec["value"].split(","):
            m = re.fullmatch(r"([\w.-]+)=\$\((\w+)\)", item.strip())
            if not m:
                error(f"{name}: LINTAS_KEK_SECRETS item {item!r} is not kek-name=$(VARIABLE): "
                      "never a secret in the manifest")
                continue
            kek, var = m.groups()
            composed[kek] = var
            if refs.get(var, (None, None))[1] != kek:
                error(f"{name}: LINTAS_KEK_SECRETS {kek}=$({var}): {var} does not carry KEK {kek}")
            elif names.index(var) > names.index("LINTAS_KEK_SECRETS"):
                error(f"{name}: {var} must come before LINTAS_KEK_SECRETS ($(VAR) expands earlier variables only)")
        expect(f"{name}: KEKs in LINTAS_KEK_SECRETS", set(composed), want)


def init_roles_services() -> set[str]:
    """The services init-roles.sh makes roles for (its default LINTAS_DB_SERVICES)."""
    m = re.search(r'LINTAS_DB_SERVICES:-([a-z ]+)\}', read(INIT_ROLES))
    if not m:
        error(f"deploy/postgres/{INIT_ROLES.name}: default LINTAS_DB_SERVICES not found: parser out of date")
        return set()
    return set(m.group(1).split())


def check_database(docs: list[tuple[str, dict]], deployments: list[dict],
                   secrets: dict[str, dict[str, str]]) -> None:
    """Every Deployment with a database connects as its own role lintas_<component>, with its own
    URL key; the Job creates exactly those roles, as the owner, from a Secret only it mounts."""
    from urllib.parse import urlsplit

    roles = init_roles_services()
    jobs = {d["metadata"]["name"]: d for _, d in docs if d["kind"] == "Job"}
    expect("Jobs", set(jobs), {ROLES_JOB})
    job = jobs.get(ROLES_JOB)
    job_env: dict[str, str] = {}
    admin = None
    if job:
        pod = job["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        job_env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
        froms = [s["secretRef"]["name"] for s in c.get("envFrom", []) if "secretRef" in s]
        admin = froms[0] if len(froms) == 1 else None
        if admin is None or admin == "lintas" or admin not in secrets:
            error(f"Job {ROLES_JOB}: needs the owner's credentials from one Secret of its own in {TEMPLATE} (envFrom), has {froms}")
        provided = set(job_env) | set(secrets.get(admin, {}))
        needed = {"PGHOST", "PGUSER", "PGPASSWORD", "POSTGRES_DB"} | {f"LINTAS_DB_PASSWORD_{s.upper()}" for s in roles}
        for var in sorted(needed - provided):
            error(f"Job {ROLES_JOB}: {INIT_ROLES.name} needs {var}, which is not set")
        scripts = [v for v in pod.get("volumes", []) if (v.get("configMap") or {}).get("name") == "lintas-postgres-init"]
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        command = " ".join(c.get("command", []) + c.get("args", []))
        if len(scripts) != 1 or f"{mounts.get(scripts[0]['name'])}/{INIT_ROLES.name}" not in command:
            error(f"Job {ROLES_JOB}: must run {INIT_ROLES.name} from the ConfigMap lintas-postgres-init")
        sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
        if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")) or sc.get("readOnlyRootFilesystem") is not True \
                or sc.get("allowPrivilegeEscalation") is not False or "ALL" not in sc.get("capabilities", {}).get("drop", []):
            error(f"Job {ROLES_JOB}: non-root, read-only root filesystem, no privilege escalation, drop ALL")
        if pod.get("automountServiceAccountToken") is not False:
            error(f"Job {ROLES_JOB}: automountServiceAccountToken must be false")
    with_db = set()
    for d in deployments:
        name = d["metadata"]["name"]
        component = name.removeprefix("lintas-")
        (c,) = d["spec"]["template"]["spec"]["containers"]
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["name"] == admin:
                error(f"{name}: takes {ref['key']} from {admin}, the database owner's Secret (the Job's only)")
        url_env = next((e for e in c.get("env", []) if e["name"] == "LINTAS_DATABASE_URL"), None)
        if url_env is None:
            continue
        with_db.add(component)
        ref = url_env.get("valueFrom", {}).get("secretKeyRef") or {}
        want_key = f"{component}-database-url"
        if ref.get("name") != "lintas" or ref.get("key") != want_key:
            error(f"{name}: LINTAS_DATABASE_URL from {ref.get('name')}/{ref.get('key')}, expected its own lintas/{want_key}")
            continue
        url = urlsplit(secrets.get("lintas", {}).get(want_key, ""))
        if url.username != f"lintas_{component}":
            error(f"{TEMPLATE}: lintas/{want_key} connects as {url.username!r}, expected its own role lintas_{component} (init-roles.sh)")
        if job_env and (url.hostname != job_env.get("PGHOST") or url.path.lstrip("/") != job_env.get("POSTGRES_DB")):
            error(f"{TEMPLATE}: lintas/{want_key} points at {url.hostname}/{url.path.lstrip('/')}, but the Job "
                  f"creates the roles on {job_env.get('PGHOST')}/{job_env.get('POSTGRES_DB')}")
    expect(f"Deployments with a database vs the roles of {INIT_ROLES.name}", with_db, roles)


def check_compose_protection(compose: dict, entitled: dict[str, set[str]], subs: dict[str, dict]) -> None:
    """docker-compose.yml: the same KEK entitlements and one database role per service, the
    roles created by init-roles.sh at the postgres service's first start; the privacy topic kept
    forever before the services that write it start."""
    events = event_topics()
    privacy = events.get(ERASURE_EVENT)
    keepers = [n for n, s in compose.items()
               if privacy in (s.get("command") or []) and "retention.ms=-1" in (s.get("command") or [])]
    if len(keepers) != 1:
        error(f"docker-compose.yml: one one-shot service must set retention.ms=-1 on {privacy} "
              f"(`lintas topics create` leaves the broker default), found {keepers}")
    else:
        privacy_events = {e for e, topic in events.items() if topic == privacy}
        for group, sub in sorted(subs.items()):
            if set(sub["publishes"]) & privacy_events:
                dep = (compose.get(group, {}).get("depends_on") or {}).get(keepers[0], {})
                if dep.get("condition") != "service_completed_successfully":
                    error(f"docker-compose.yml {group}: writes {privacy}, so it must wait for {keepers[0]} "
                          "(condition service_completed_successfully)")
    roles = init_roles_services()
    pg = compose.get("postgres", {})
    pg_env = {k: str(v) for k, v in (pg.get("environment") or {}).items()}
    mounted = [v for v in pg.get("volumes", []) if isinstance(v, str)
               and v.startswith("./deploy/postgres/init-roles.sh:/docker-entrypoint-initdb.d/")]
    if len(mounted) != 1 or not mounted[0].split(":")[1].endswith(".sh"):
        error("docker-compose.yml postgres: must mount ./deploy/postgres/init-roles.sh into /docker-entrypoint-initdb.d/ (as *.sh)")
    for s in sorted(roles):
        if f"LINTAS_DB_PASSWORD_{s.upper()}" not in pg_env:
            error(f"docker-compose.yml postgres: LINTAS_DB_PASSWORD_{s.upper()} not set (init-roles.sh)")
    if pg_env.get("PGUSER") != pg_env.get("POSTGRES_USER"):
        error("docker-compose.yml postgres: PGUSER must be POSTGRES_USER (init-roles.sh connects as the owner)")
    with_db = set()
    var_of_kek: dict[str, str] = {}
    for name, svc in compose.items():
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        url = env.get("LINTAS_DATABASE_URL")
        if url is not None:
            with_db.add(name)
            m = re.fullmatch(r"postgres://([\w]+):\$\{(\w+)(?::\?[^}]*)?\}@([^/]+)/(\w+)", url)
            if not m or m.group(1) != f"lintas_{name}" or m.group(2) != f"LINTAS_DB_PASSWORD_{name.upper()}":
                error(f"docker-compose.yml {name}: LINTAS_DATABASE_URL must be "
                      f"postgres://lintas_{name}:${{LINTAS_DB_PASSWORD_{name.upper()}:?...}}@postgres:5432/..., is {url}")
            elif m.group(4) != pg_env.get("POSTGRES_DB"):
                error(f"docker-compose.yml {name}: database {m.group(4)}, the postgres service's is {pg_env.get('POSTGRES_DB')}")
        if not svc.get("command"):
            continue  # infrastructure
        spec = env.get("LINTAS_KEK_SECRETS")
        want = entitled.get(name, set())
        got: dict[str, str] = {}
        for item in filter(None, (spec or "").split(",")):
            m = re.fullmatch(r"([\w.-]+)=\$\{(\w+):\?[^}]*\}", item.strip())
            if not m:
                error(f"docker-compose.yml {name}: LINTAS_KEK_SECRETS item {item!r} is not kek-name=${{VAR:?message}}")
                continue
            got[m.group(1)] = m.group(2)
        expect(f"docker-compose.yml {name}: KEKs in LINTAS_KEK_SECRETS", set(got), want)
        for kek, var in got.items():
            if var_of_kek.setdefault(kek, var) != var:
                error(f"docker-compose.yml {name}: KEK {kek} from ${{{var}}}, elsewhere ${{{var_of_kek[kek]}}}: one variable per KEK")
    expect(f"docker-compose.yml services with a database vs the roles of {INIT_ROLES.name}", with_db, roles)


def compose_warnings() -> list[str]:
    """docker-compose.yml checked with the same CLI facts (reported, not failed: not ours)."""
    out = []
    compose = yaml.safe_load(read(ROOT / "docker-compose.yml"))["services"]
    commands = cli_commands()
    for name, svc in compose.items():
        cmd = svc.get("command")
        if not cmd or cmd[0] not in commands:
            continue
        required, _ = commands[cmd[0]]
        for var in sorted(required - set(svc.get("environment", {}))):
            out.append(f"docker-compose.yml service {name}: `lintas {cmd[0]}` requires {var}, not set")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubernetes-version", default="1.31",
                        help="Kubernetes version whose schemas are used (default 1.31)")
    parser.add_argument("--print-compose-acls", action="store_true",
                        help="print what deploy/kafka/acls.txt must hold, and exit")
    parser.add_argument("--describe", type=Path, metavar="FILE",
                        help="the output of `lintas describe --json` (default: $LINTAS_DESCRIBE, "
                             "else run it with cargo)")
    args = parser.parse_args()
    global DESCRIBE_FILE
    DESCRIBE_FILE = args.describe
    if args.print_compose_acls:
        plan = acl_plan()
        users = check_user_acls(load_manifests(), plan)
        sys.stdout.write(compose_acls_text(plan, users))
        return 0 if not errors else 1
    try:
        import kubernetes_validate  # noqa: F401
    except ImportError:
        print("kubernetes-validate is not installed: pip install kubernetes-validate")
        return 2
    docs = load_manifests()
    validators = crd_validators()
    validate_schemas(docs, args.kubernetes_version, validators)
    kinds: dict[str, int] = {}
    for _, d in docs:
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    print(f"schemas: {len(docs)} manifests validated (Kubernetes {args.kubernetes_version} strict; "
          f"CRDs by schemas/): " + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())))
    check_kustomization(args.kubernetes_version, validators)
    subs = check_kafka(docs)
    check_workloads(docs, subs)
    check_principals(docs, subs)
    for w in compose_warnings():
        print("WARNING " + w)
    for e in errors:
        print("ERROR " + e)
    if errors:
        print(f"FAILED: {len(errors)} error(s)")
        return 1
    print("OK: manifests valid and consistent with the code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
