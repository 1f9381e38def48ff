#!/usr/bin/env python3
"""Self-test of check_metrics.py: on the repository's rules, dashboard and runbook it passes,
and each deliberately wrong rule, panel or runbook below is reported. Run by .ci/run:

    python3 deploy/test_check_metrics.py --describe describe.json   # lintas describe --json
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_metrics  # noqa: E402

DESCRIBE: Path | None = None


class Checks(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.rules = yaml.safe_load(check_metrics.RULES.read_text(encoding="utf-8"))
        self.dashboard = json.loads(check_metrics.DASHBOARD.read_text(encoding="utf-8"))
        self.runbook = check_metrics.RUNBOOK.read_text(encoding="utf-8")
        self.describe = json.loads(DESCRIBE.read_text(encoding="utf-8")) if DESCRIBE else \
            check_metrics.describe(None)

    def run_check(self) -> tuple[int, str]:
        """check_metrics.main on (mutated copies of) the inputs: its exit code and output."""
        paths = {name: self.tmp / name for name in ("rules.yml", "lintas.json", "RUNBOOK.md", "describe.json")}
        paths["rules.yml"].write_text(yaml.safe_dump(self.rules))
        paths["lintas.json"].write_text(json.dumps(self.dashboard))
        paths["RUNBOOK.md"].write_text(self.runbook)
        paths["describe.json"].write_text(json.dumps(self.describe))
        saved = (check_metrics.RULES, check_metrics.DASHBOARD, check_metrics.RUNBOOK, sys.argv)
        check_metrics.RULES, check_metrics.DASHBOARD, check_metrics.RUNBOOK = (
            paths["rules.yml"], paths["lintas.json"], paths["RUNBOOK.md"])
        sys.argv = ["check_metrics.py", "--describe", str(paths["describe.json"])]
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                code = check_metrics.main()
        finally:
            check_metrics.RULES, check_metrics.DASHBOARD, check_metrics.RUNBOOK, sys.argv = saved
        return code, out.getvalue()

    def first_alert(self) -> dict:
        return next(r for g in self.rules["groups"] for r in g["rules"] if "alert" in r)

    def first_target(self) -> dict:
        return next(t for p in self.dashboard["panels"] for t in p.get("targets", []) if t.get("expr"))

    def assert_fails(self, *expected: str):
        code, out = self.run_check()
        self.assertEqual(code, 1, out)
        for text in expected:
            self.assertIn(text, out)

    def test_repository_assets_pass(self):
        code, out = self.run_check()
        self.assertEqual(code, 0, out)

    def test_rule_on_an_unknown_metric_fails(self):
        self.first_alert()["expr"] = "sum(rate(lintas_no_such_thing_total[5m])) > 0"
        self.assert_fails("unknown metric 'lintas_no_such_thing_total'")

    def test_rule_on_an_unknown_label_fails(self):
        self.first_alert()["expr"] = 'sum(rate(lintas_dead_letters_total{partition="0"}[5m])) > 0'
        self.assert_fails("metric lintas_dead_letters_total has no label 'partition'")

    def test_grouping_by_an_unknown_label_fails(self):
        self.first_alert()["expr"] = "sum by (village) (rate(lintas_events_applied_total[5m])) > 0"
        self.assert_fails("label 'village' (by/on clause)")

    def test_a_metric_the_code_no_longer_exports_fails(self):
        # The same rules, with the code no longer stating `lintas_consumer_lag`.
        self.describe["metrics"] = [m for m in self.describe["metrics"] if m["name"] != "lintas_consumer_lag"]
        self.assert_fails("unknown metric 'lintas_consumer_lag'")

    def test_a_label_the_code_dropped_fails(self):
        for m in self.describe["metrics"]:
            if m["name"] == "lintas_group_status":
                m["labels"] = [label for label in m["labels"] if label != "status"]
        self.assert_fails("metric lintas_group_status has no label 'status'")

    def test_legend_with_an_unknown_label_fails(self):
        target = self.first_target()
        target["legendFormat"] = "{{no_such_label}}"
        self.assert_fails("legend label 'no_such_label'")

    def test_alert_without_runbook_section_fails(self):
        alert = self.first_alert()["alert"]
        self.runbook = self.runbook.replace(f"## {alert}\n", f"## {alert}Renamed\n")
        self.assert_fails(f"alert {alert} has no section")

    def test_describe_without_metrics_fails(self):
        del self.describe["metrics"]
        self.assert_fails("lists no metrics")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--describe", type=Path, metavar="FILE")
    args, rest = parser.parse_known_args()
    DESCRIBE = args.describe
    unittest.main(argv=[sys.argv[0], *rest])
