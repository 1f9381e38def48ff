#!/usr/bin/env python3
"""Self-test of validate.py's checks of the Kafka principals, their ACLs, the network policies
and the schema registry's credentials: on the repository's manifests they pass, and each
deliberately wrong ACL, principal, flow or credential below is reported. Run by .ci/run:

    python3 deploy/kubernetes/test_validate.py --describe describe.json   # lintas describe --json
"""
from __future__ import annotations

import copy
import sys
import unittest
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate  # noqa: E402


def find(docs: list[tuple[str, dict]], kind: str, name: str) -> dict:
    return next(d for _, d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


class PrincipalChecks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        validate.errors.clear()
        cls.docs = validate.load_manifests()
        cls.subs = validate.subscribers()
        cls.plan = validate.acl_plan()
        cls.compose = yaml.safe_load(validate.read(validate.ROOT / "docker-compose.yml"))["services"]
        cls.acls = validate.read(validate.COMPOSE_ACLS)
        assert not validate.errors, validate.errors

    def run_checks(self, docs=None, compose=None, acls=None) -> list[str]:
        """The errors of every principal check on (mutated copies of) the inputs."""
        validate.errors.clear()
        docs = docs or self.docs
        users = validate.check_user_acls(docs, self.plan)
        validate.check_deployment_principals(docs, self.subs, users)
        validate.check_compose_kafka(compose or self.compose, self.subs, self.plan, users,
                                     self.acls if acls is None else acls)
        validate.check_network_policies(docs, users)
        found = list(validate.errors)
        validate.errors.clear()
        return found

    def assert_reported(self, errors: list[str], *words: str) -> None:
        self.assertTrue(any(all(w in e for w in words) for e in errors),
                        f"no error with {words}: {errors}")

    def test_the_repository_passes(self):
        self.assertEqual(self.run_checks(), [])

    def test_a_write_the_code_does_not_do(self):
        docs = copy.deepcopy(self.docs)
        desa = find(docs, "KafkaUser", "lintas-desa")
        desa["spec"]["authorization"]["acls"].append({
            "resource": {"type": "topic", "name": "lintas.departures.v1", "patternType": "literal"},
            "operations": ["Write"], "host": "*"})
        self.assert_reported(self.run_checks(docs), "lintas-desa", "in excess", "lintas.departures.v1 Write")

    def test_a_consumer_group_missing(self):
        docs = copy.deepcopy(self.docs)
        imigrasi = find(docs, "KafkaUser", "lintas-imigrasi")
        acls = imigrasi["spec"]["authorization"]["acls"]
        acls[:] = [a for a in acls if a["resource"].get("name") != "imigrasi-offset-probe"]
        self.assert_reported(self.run_checks(docs), "lintas-imigrasi", "missing", "imigrasi-offset-probe")

    def test_the_monitor_may_not_write(self):
        docs = copy.deepcopy(self.docs)
        ops = find(docs, "KafkaUser", "lintas-ops")
        ops["spec"]["authorization"]["acls"].append({
            "resource": {"type": "topic", "name": "lintas.alerts.v1", "patternType": "literal"},
            "operations": ["Write", "Describe"], "host": "*"})
        self.assert_reported(self.run_checks(docs), "lintas-ops", "lintas.alerts.v1 Write")

    def test_a_service_principal_with_a_certificate_instead_of_scram(self):
        docs = copy.deepcopy(self.docs)
        find(docs, "KafkaUser", "lintas-intake")["spec"]["authentication"]["type"] = "tls"
        self.assert_reported(self.run_checks(docs), "lintas-intake", "scram-sha-512")

    def test_two_services_sharing_a_principal(self):
        docs = copy.deepcopy(self.docs)
        (c,) = find(docs, "Deployment", "lintas-disnaker")["spec"]["template"]["spec"]["containers"]
        for e in c["env"]:
            if e["name"] == "LINTAS_KAFKA_USERNAME":
                e["value"] = "lintas-imigrasi"
        self.assert_reported(self.run_checks(docs), "lintas-disnaker", "lintas-imigrasi")

    def test_compose_acls_beyond_the_plan(self):
        acls = self.acls + "lintas-intake topic lintas.alerts.v1 Write\n"
        self.assert_reported(self.run_checks(acls=acls), "acls.txt", "lintas-intake", "in excess")
        missing = "\n".join(l for l in self.acls.splitlines() if "lintas-topics" not in l or "privacy" not in l)
        self.assert_reported(self.run_checks(acls=missing), "acls.txt", "lintas-topics", "missing")

    def test_compose_service_without_its_own_credentials(self):
        compose = copy.deepcopy(self.compose)
        compose["desa"]["volumes"] = ["kafka-credentials-polri:/etc/lintas/kafka:ro"]
        self.assert_reported(self.run_checks(compose=compose), "desa", "own credentials")

    def test_a_flow_missing_and_one_in_excess(self):
        docs = copy.deepcopy(self.docs)
        kafka = find(docs, "NetworkPolicy", "lintas-kafka-clients")
        kafka["spec"]["egress"][0]["ports"] = [{"protocol": "TCP", "port": 9092}]
        errors = self.run_checks(docs)
        self.assert_reported(errors, "pod intake", "missing", "egress kafka 9093/TCP")
        self.assert_reported(errors, "pod intake", "in excess", "egress kafka 9092/TCP")

    def test_without_the_default_deny(self):
        docs = [(w, d) for w, d in self.docs
                if not (d["kind"] == "NetworkPolicy" and d["metadata"]["name"] == "lintas-default-deny")]
        self.assert_reported(self.run_checks(docs), "pod postgres-roles", "not denied by default")


class RegistryCredentialChecks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        validate.errors.clear()
        cls.docs = validate.load_manifests()
        cls.subs = validate.subscribers()
        cls.compose = yaml.safe_load(validate.read(validate.ROOT / "docker-compose.yml"))["services"]
        assert not validate.errors, validate.errors

    def run_checks(self, docs=None, compose=None) -> list[str]:
        validate.errors.clear()
        validate.check_registry_credentials(docs or self.docs, compose or self.compose, self.subs)
        found = list(validate.errors)
        validate.errors.clear()
        return found

    def assert_reported(self, errors: list[str], *words: str) -> None:
        self.assertTrue(any(all(w in e for w in words) for e in errors),
                        f"no error with {words}: {errors}")

    def test_the_repository_passes(self):
        self.assertEqual(self.run_checks(), [])

    def test_a_subscriber_with_the_write_credential(self):
        docs = copy.deepcopy(self.docs)
        pod = find(docs, "Deployment", "lintas-desa")["spec"]["template"]["spec"]
        for v in pod["volumes"]:
            if v["name"] == "registry-credential":
                v["secret"]["secretName"] = "lintas-registry-write"
        self.assert_reported(self.run_checks(docs), "lintas-desa", "lintas-registry-read")

    def test_the_users_file_outside_the_registry(self):
        docs = copy.deepcopy(self.docs)
        pod = find(docs, "Deployment", "lintas-ops")["spec"]["template"]["spec"]
        for v in pod["volumes"]:
            if v["name"] == "registry-credential":
                v["secret"] = {"secretName": "lintas-registry-users",
                               "items": [{"key": "users", "path": "user-info"}]}
        self.assert_reported(self.run_checks(docs), "lintas-ops", "lintas-registry-users")

    def test_a_credential_in_a_variable(self):
        docs = copy.deepcopy(self.docs)
        (c,) = find(docs, "Deployment", "lintas-intake")["spec"]["template"]["spec"]["containers"]
        c["env"].append({"name": "LINTAS_REGISTRY_USER_INFO", "value": "lintas-write:x"})
        self.assert_reported(self.run_checks(docs), "lintas-intake", "never a variable")

    def test_compose_subscriber_with_the_admin_credential(self):
        compose = copy.deepcopy(self.compose)
        compose["polri"]["volumes"] = [v.replace("registry-credentials-read", "registry-credentials-admin")
                                       for v in compose["polri"]["volumes"]]
        self.assert_reported(self.run_checks(compose=compose), "polri", "registry-credentials-read")


if __name__ == "__main__":
    # `--describe FILE` is validate.py's (the code's facts), the rest unittest's.
    if "--describe" in sys.argv:
        at = sys.argv.index("--describe")
        validate.DESCRIBE_FILE = Path(sys.argv[at + 1])
        del sys.argv[at:at + 2]
    unittest.main(verbosity=2)
