#!/usr/bin/env python3
"""Validates the Kubernetes manifests in deploy/kubernetes/ and checks them against the code.

    pip install kubernetes-validate       # bundles the Kubernetes JSON schemas; brings jsonschema
    python3 deploy/kubernetes/validate.py [--kubernetes-version 1.31]

1. Schemas. Core kinds (Namespace, ConfigMap, Secret, Deployment, Service) against the
   Kubernetes schemas of kubernetes-validate, strict (unknown fields are errors). The CRD kinds
   it cannot know (Strimzi KafkaTopic and KafkaUser, Prometheus Operator ServiceMonitor)
   against the JSON Schemas in schemas/. Any other kind is an error.
2. kustomization.yaml lists every manifest except secret.template.yaml, and (when kubectl or
   kustomize is installed) builds; the built output is validated again.
3. Against the Rust sources:
   - KafkaTopic names = the event topics of services/events/src/topic.rs plus the dead-letter
     topic `lintas.<group>.dlq` (services/kit/src/topics.rs) of every subscriber; partitions =
     DEFAULT_PARTITIONS; replicas 3; cleanup.policy delete; retention.
   - Each subscriber (a services/*/src/lib.rs with GROUP and TOPICS) has a KafkaUser labelled
     lintas/subscriber=<group> whose Read ACLs are exactly TOPICS, group ACL exactly <group>,
     Write exactly its dead-letter topic plus the topics of the events it constructs (outbox).
   - Each agency that may call an intake endpoint (services/intake/src/endpoints: agencies ->
     publishes -> impl_event! topic) has a KafkaUser labelled lintas/agency=<agency> with Write
     on exactly those topics and no Read; the intake's user (lintas/publisher=intake) has Write
     on exactly the topics of all endpoints. Events the intake constructs = events endpoints
     declare.
   - The monitor's user (lintas/monitor=ops, `lintas ops`) is read-only: Read and Describe on
     exactly every event topic and every dead-letter topic, Describe on every group (literal
     "*"), Describe on the cluster, nothing else (no Write anywhere).
   - Every KafkaUser carries exactly one role label (lintas/agency, lintas/publisher,
     lintas/subscriber, lintas/monitor), so none escapes the checks above.
   - Deployments: exactly registry, intake, ops and one per subscriber in code (lintas-<group>
     running `subscriber <group>`); args as in docker-compose.yml, every environment variable
     the subcommand requires (clap `env = ...` without default) is set, every LINTAS_* variable
     set is one the CLI knows, Secret keys exist in secret.template.yaml, containerPort =
     LINTAS_LISTEN port, probes on /livez and /readyz, non-root uid 10001, read-only root
     filesystem.
   - ops (Kubernetes and compose): LINTAS_OPS_SERVICES names every other Lintas service with
     its Service (compose: service) URL and port; the groups it watches (LINTAS_OPS_WATCH or
     its default in services/lintas/src/cmd/ops.rs) are exactly the subscribers in code.
   - Services select their Deployment's pods; each Service has a ServiceMonitor.
   - secret.template.yaml holds placeholders only.

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
SERVICES = ROOT / "services"
TEMPLATE = "secret.template.yaml"
CRD_SCHEMAS = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): "kafkatopic.json",
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): "kafkauser.json",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
}
CORE_KINDS = {"Namespace", "ConfigMap", "Secret", "Deployment", "Service"}
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


def check_kustomization(k8s_version: str, validators) -> None:
    kustomization = yaml.safe_load(read(HERE / "kustomization.yaml"))
    listed = list(kustomization.get("resources", []))
    manifests = sorted(p.name for p in HERE.glob("*.yaml")
                       if p.name not in ("kustomization.yaml", TEMPLATE))
    if sorted(listed) != manifests:
        error(f"kustomization.yaml resources {sorted(listed)} != manifests {manifests}")
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
                   if d.get("kind") != "Secret")
    if len(built) != expected:
        error(f"kustomize build produced {len(built)} resources, expected {expected}")
    for doc in built:
        if doc["kind"] != "Namespace" and doc["metadata"].get("namespace") != "lintas":
            error(f"built {doc['kind']}/{doc['metadata']['name']} is not in namespace lintas")
    validate_schemas([(f"kustomize-build#{i}", d) for i, d in enumerate(built)], k8s_version,
                     validators)
    print(f"kustomize build: {len(built)} resources, validated")


# --------------------------------------------------------------------------------------------
# Facts from the Rust sources


def code_topics() -> dict[str, str]:
    """Topic variant -> topic name, from services/events/src/topic.rs."""
    text = read(SERVICES / "events/src/topic.rs")
    names = dict(re.findall(r'Topic::(\w+)\s*=>\s*"(lintas\.[a-z0-9_]+\.v\d+)"', text))
    count = re.search(r"pub const ALL: \[Topic; (\d+)\]", text)
    if not names or not count or len(names) != int(count.group(1)):
        error(f"topic.rs: parsed {names}, Topic::ALL has {count and count.group(1)}: parser out of date")
    return names


def dlq_name(group: str) -> str:
    text = read(SERVICES / "kit/src/topics.rs")
    m = re.search(r'fn dead_letter_topic\b.*?format!\("\{prefix\}([^"]*)"\)', text, re.S)
    if not m or "{group}" not in m.group(1):
        error("kit/src/topics.rs: dead_letter_topic format not found: parser out of date")
        return f"lintas.{group}.dlq"
    return m.group(1).replace("{group}", group)


def default_partitions() -> int:
    m = re.search(r"DEFAULT_PARTITIONS: i32 = (\d+);", read(SERVICES / "kit/src/topics.rs"))
    if not m:
        error("kit/src/topics.rs: DEFAULT_PARTITIONS not found")
        return 6
    return int(m.group(1))


def event_topics(topics: dict[str, str]) -> dict[str, str]:
    """Event type -> topic name, from impl_event!(Type, Topic::X, ...) in services/events."""
    out = {}
    for path in (SERVICES / "events/src").glob("*.rs"):
        for event, variant in re.findall(r"impl_event!\(\s*(\w+),\s*Topic::(\w+)", read(path)):
            out[event] = topics.get(variant, f"?{variant}")
    if len(out) < 10:
        error(f"services/events: only {len(out)} impl_event! found: parser out of date")
    return out


def constructed_events(crate_src: Path, events: dict[str, str]) -> set[str]:
    """Event types a crate builds (`Type {`, or a rule's `Type::from_rule(`), or publishes through
    the kit's alert desk API (`ALERTS.router(`): what it publishes."""
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, events)) + r")(?:\s*\{|::from_rule\()")
    found = set()
    for path in crate_src.rglob("*.rs"):
        text = read(path)
        found |= set(pattern.findall(text))
        # The kit's alert desk API publishes the lifecycle of the crate's alerts.
        if "ALERTS.router(" in text:
            found |= {"AlertAcknowledged", "AlertEscalated", "AlertClosed"} & set(events)
    return found


def subscribers(topics: dict[str, str]) -> dict[str, dict]:
    """group -> {topics, crate} for every services/*/src/lib.rs declaring GROUP and TOPICS."""
    out = {}
    for lib in sorted(SERVICES.glob("*/src/lib.rs")):
        if lib.parent.parent.name == "template-subscriber":
            continue  # the scaffolding template is not deployed
        text = read(lib)
        group = re.search(r'pub const GROUP: &str = "([^"]+)";', text)
        reads = re.search(r"pub const TOPICS: &\[Topic\] = &\[([^\]]*)\];", text)
        if group and reads:
            variants = re.findall(r"Topic::(\w+)", reads.group(1))
            out[group.group(1)] = {
                "topics": {topics.get(v, f"?{v}") for v in variants},
                "crate": lib.parent,
            }
    if not out:
        error("no subscriber (GROUP + TOPICS in services/*/src/lib.rs) found: parser out of date")
    return out


def endpoints() -> list[dict]:
    out = []
    for path in sorted((SERVICES / "intake/src/endpoints").glob("*.rs")):
        text = read(path)
        blocks = re.findall(
            r'Endpoint\s*\{\s*path:\s*"([^"]+)",.*?publishes:\s*&\[([^\]]*)\],\s*agencies:\s*&\[([^\]]*)\]',
            text, re.S)
        declared = len(re.findall(r"=\s*Endpoint\s*\{", text))
        if len(blocks) != declared:
            error(f"{path.name}: parsed {len(blocks)} of {declared} endpoints: parser out of date")
        for p, publishes, agencies in blocks:
            out.append({
                "path": p,
                "publishes": set(re.findall(r'"(\w+)"', publishes)),
                "agencies": {a.lower() for a in re.findall(r"Agency::(\w+)", agencies)},
            })
    if not out:
        error("no intake endpoint found: parser out of date")
    return out


def clap_struct(text: str, name: str) -> list[dict]:
    m = re.search(r"pub struct " + name + r"\s*\{(.*?)\n\}", text, re.S)
    if not m:
        error(f"clap struct {name} not found")
        return []
    fields, attrs = [], []
    pending = ""  # an attribute spread over several lines, until its brackets close
    for line in m.group(1).splitlines():
        line = line.strip()
        if pending or line.startswith("#["):
            pending = f"{pending} {line}".strip()
            if pending.count("[") <= pending.count("]") and pending.count("(") <= pending.count(")"):
                attrs.append(pending)
                pending = ""
            continue
        f = re.match(r"pub (\w+):\s*([^,]+),", line)
        if f:
            fields.append({"name": f.group(1), "type": f.group(2), "attrs": " ".join(attrs)})
            attrs = []
        elif not line.startswith("///") and line:
            attrs = []
    return fields


def clap_envs(struct_file: Path, struct: str) -> tuple[set[str], set[str]]:
    """(required env vars, all env vars) of a clap Args struct, flattened structs included."""
    required, known = set(), set()
    for f in clap_struct(read(struct_file), struct):
        if "flatten" in f["attrs"]:
            # Flattened argument structs live in the kit's service runner (the lintas binary
            # re-exports KafkaConfig as KafkaArgs), or in a sibling module of the lintas
            # binary's commands (`super::rules::RuleArgs`).
            kind = f["type"].strip()
            if kind.startswith("super::"):
                module, name = kind.removeprefix("super::").split("::")
                r, k = clap_envs(SERVICES / f"lintas/src/cmd/{module}.rs", name)
            else:
                name = {"KafkaArgs": "KafkaConfig"}.get(kind, kind)
                r, k = clap_envs(SERVICES / "kit/src/service.rs", name)
            required |= r
            known |= k
            continue
        env = re.search(r'env\s*=\s*"([A-Z0-9_]+)"', f["attrs"])
        if not env:
            continue
        known.add(env.group(1))
        # Vec<_> without a default is an optional, repeatable argument for clap.
        optional = ("default_value" in f["attrs"] or f["type"].startswith(("Option<", "Vec<"))
                    or f["type"] == "bool")
        if not optional:
            required.add(env.group(1))
    return required, known


def cli_commands() -> dict[str, tuple[set[str], set[str]]]:
    """subcommand -> (required env, known env), from services/lintas/src/main.rs + cmd/."""
    main = read(SERVICES / "lintas/src/main.rs")
    out = {}
    global_known = set(re.findall(r'env\s*=\s*"([A-Z0-9_]+)"', main))
    for variant, module, struct in re.findall(r"(\w+)\(cmd::(\w+)::(\w+)\)", main):
        if variant in ("Up", "Bench", "Simulate", "Topics"):
            continue
        path = SERVICES / f"lintas/src/cmd/{module}.rs"
        required, known = clap_envs(path, struct)
        out[variant.lower()] = (required, known | global_known)
    return out


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


ROLE_LABELS = ("lintas/agency", "lintas/publisher", "lintas/subscriber", "lintas/monitor")


def check_kafka(docs: list[tuple[str, dict]]) -> dict[str, dict]:
    """Checks topics and users; returns the subscribers found in code (group -> facts)."""
    topics = code_topics()
    events = event_topics(topics)
    subs = subscribers(topics)
    eps = endpoints()
    partitions = default_partitions()

    kafka_topics = {d["spec"].get("topicName", d["metadata"]["name"]): d
                    for _, d in docs if d.get("kind") == "KafkaTopic"}
    dlqs = {dlq_name(g) for g in subs}
    expect("KafkaTopic names vs topics in code", set(kafka_topics), set(topics.values()) | dlqs)
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
        retention = int(config.get("retention.ms", 0))
        floor = 7 * DAY_MS if name in dlqs else 366 * DAY_MS
        if retention < floor:
            error(f"KafkaTopic {name}: retention.ms {retention} < {floor // DAY_MS} days")
        if d["metadata"]["labels"].get("strimzi.io/cluster") != "lintas":
            error(f"KafkaTopic {name}: strimzi.io/cluster must be lintas")

    users = {d["metadata"]["name"]: d for _, d in docs if d.get("kind") == "KafkaUser"}
    for name, u in users.items():
        acls = acl_sets(u)
        for key, names in acls.items():
            if key.startswith("topic:"):
                for t in names - set(kafka_topics):
                    error(f"KafkaUser {name}: ACL on {t}, which is no KafkaTopic")
        if u["spec"].get("authentication", {}).get("type") != "tls":
            error(f"KafkaUser {name}: authentication must be tls")
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
        expect(f"{who} topic Read vs {sub['crate'].parent.name} TOPICS", acls.get("topic:Read", set()),
               sub["topics"])
        expect(f"{who} group Read", acls.get("group:Read", set()), {group})
        outbox = {events[e] for e in constructed_events(sub["crate"], events)}
        expect(f"{who} topic Write (dead letters + outbox)", acls.get("topic:Write", set()),
               {dlq_name(group)} | outbox)

    # Publishers.
    intake_built = constructed_events(SERVICES / "intake/src", events)
    declared = set().union(*(e["publishes"] for e in eps))
    expect("events the intake constructs vs endpoints' `publishes`", intake_built, declared)
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
    # group and the cluster, writes nothing.
    monitors = by_label("lintas/monitor")
    expect("monitor KafkaUsers (lintas/monitor)", set(monitors), {"ops"})
    if "ops" in monitors:
        u = monitors["ops"]
        acls = acl_sets(u)
        who = f"KafkaUser {u['metadata']['name']}"
        readable = set(topics.values()) | dlqs
        expect(f"{who} topic Read (every event topic + every dead-letter topic)",
               acls.get("topic:Read", set()), readable)
        expect(f"{who} topic Describe", acls.get("topic:Describe", set()), readable)
        expect(f"{who} group Describe (all groups: literal \"*\")", acls.get("group:Describe", set()), {"*"})
        if acls.get("cluster:Describe") != {""}:
            error(f"{who}: needs Describe on the cluster (ListGroups)")
        allowed = ("topic:Read", "topic:Describe", "group:Describe", "cluster:Describe")
        for key in sorted(acls):
            if key not in allowed:
                error(f"{who}: unexpected {key} {sorted(acls[key])}: the monitor is read-only")
    print(f"code: {len(topics)} event topics, {len(subs)} subscriber(s) {sorted(subs)}, "
          f"{len(eps)} intake endpoints, agencies {sorted(agency_topics)}")
    return subs


def ops_watch_default() -> set[str]:
    """LINTAS_OPS_WATCH's default in services/lintas/src/cmd/ops.rs."""
    text = read(SERVICES / "lintas/src/cmd/ops.rs")
    m = re.search(r'env\s*=\s*"LINTAS_OPS_WATCH"[^)]*?default_value\s*=\s*"([^"]*)"', text, re.S)
    if not m:
        error("cmd/ops.rs: default of LINTAS_OPS_WATCH not found: parser out of date")
        return set()
    return {g.strip() for g in m.group(1).split(",") if g.strip()}


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
    template = next((d for w, d in docs if w.startswith(TEMPLATE)), None)
    secret_keys = set((template or {}).get("stringData", {}))
    if template is None:
        error(f"{TEMPLATE} missing")
    for key, value in (template or {}).get("stringData", {}).items():
        if "REPLACE_ME" not in value:
            error(f"{TEMPLATE}: {key} must be a REPLACE_ME placeholder, never a real value")
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
            if ref and (ref["name"] != template["metadata"]["name"] or ref["key"] not in secret_keys):
                error(f"{name}: {e['name']} from Secret {ref['name']}/{ref['key']}, not in {TEMPLATE}")
        subcommand = (c.get("args") or ["?"])[0]
        if subcommand not in commands:
            error(f"{name}: subcommand {subcommand} unknown to services/lintas/src/main.rs")
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

    # The dashboard shows the /readyz of every other service, by its Service (compose: service
    # name) and port, and watches every subscriber's group.
    def listen_port(value: str | None) -> str:
        return (value or "").rsplit(":", 1)[-1]

    by_name = {d["metadata"]["name"]: d for d in deployments}
    ops = by_name.get("lintas-ops")
    if ops:
        (c,) = ops["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value", "") for e in c.get("env", [])}
        if any(e.get("valueFrom") for e in c.get("env", [])):
            error("lintas-ops: takes nothing from Secrets (no database, no tokens)")
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
    args = parser.parse_args()
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
