#!/usr/bin/env python3
"""Checks that every metric and label the operator assets use is one the services export.

The metrics come from the code itself: `lintas describe --json` lists every metric the
binary's services can export (`metrics`: name, kind counter/gauge/histogram, label names), as
the metrics state it when registered (no `.rs` file is read). This checks every PromQL
expression in

  deploy/prometheus/rules.yml            (rule `expr`)
  deploy/grafana/dashboards/lintas.json  (panel targets, template variable queries, legends)

and fails (exit 1) when an alert has no `## <alert>` section in deploy/RUNBOOK.md, when an
expression uses a metric that no service exports, a label in a
selector or a `by (…)` / `on (…)` clause that none of the expression's metrics carries, or a
legend `{{label}}` that none of them carries. Prometheus adds `job` and `instance` to every
series and `le` to histogram buckets (a histogram is scraped as `_bucket`, `_sum` and
`_count`); `up` is Prometheus' own.

    lintas describe --json > describe.json   # or: cargo run -p lintas -- describe --json
    python3 deploy/check_metrics.py --describe describe.json   (needs PyYAML)

Without --describe (nor the LINTAS_DESCRIBE variable naming the file) it runs
`cargo run -p lintas -- describe --json` itself, which builds the binary.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy/prometheus/rules.yml"
DASHBOARD = ROOT / "deploy/grafana/dashboards/lintas.json"

TARGET_LABELS = {"job", "instance"}
EXTERNAL = {"up": set()}  # Prometheus' own series: labels are only job and instance
KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan", "atan2",
}
IDENT = r"[a-zA-Z_:][a-zA-Z0-9_:]*"


def describe(path: Path | None) -> dict:
    """What the code states about itself (`lintas describe --json`): from `path`, or the
    LINTAS_DESCRIBE file, or else by running the binary with cargo (slow: it builds it)."""
    if path is None and os.environ.get("LINTAS_DESCRIBE"):
        path = Path(os.environ["LINTAS_DESCRIBE"])
    if path is not None:
        return json.loads(path.read_text(encoding="utf-8"))
    run = subprocess.run(["cargo", "run", "-q", "-p", "lintas", "--locked", "--", "describe", "--json"],
                         cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"lintas describe --json failed (pass --describe FILE): {run.stderr.strip()}")
    return json.loads(run.stdout)


def exported_series(described: list[dict]) -> dict[str, set[str]]:
    """Series names the services export, each with its label names, from the `metrics` of
    `lintas describe --json`."""
    found: dict[str, set[str]] = {}
    for metric in described:
        name = metric["name"]
        labels = set(metric["labels"]) | TARGET_LABELS
        if metric["kind"] == "histogram":
            found[f"{name}_bucket"] = labels | {"le"}
            found[f"{name}_sum"] = set(labels)
            found[f"{name}_count"] = set(labels)
        else:
            found[name] = labels
    for name, labels in EXTERNAL.items():
        found[name] = labels | TARGET_LABELS
    return found


def blank(text: str, open_: str, close: str) -> str:
    """Replaces what is between open_ and close (not nested) with spaces, keeping brackets."""
    return re.sub(
        re.escape(open_) + r"[^" + re.escape(close) + r"]*" + re.escape(close),
        lambda m: open_ + " " * (len(m.group(0)) - 2) + close,
        text,
    )


def analyse(expr: str) -> tuple[list[tuple[str, set[str]]], set[str]]:
    """(metric name, selector label names) for every series selector, and grouping labels."""
    selectors: list[tuple[str, set[str]]] = []
    # Selectors with matchers: name{label op "value", ...}
    for m in re.finditer(r"(?<![\w$.])(" + IDENT + r")\s*\{([^}]*)\}", expr):
        labels = set(re.findall(r"(" + IDENT + r')\s*(?:=~|!~|!=|=)\s*"', m.group(2)))
        selectors.append((m.group(1), labels))
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    stripped = blank(stripped, "{", "}")
    stripped = blank(stripped, "[", "]")
    grouping: set[str] = set()

    def take_grouping(m: re.Match) -> str:
        grouping.update(re.findall(IDENT, m.group(2)))
        return " " * len(m.group(0))

    stripped = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", take_grouping, stripped
    )
    with_braces = {name for name, _ in selectors}
    for m in re.finditer(r"(?<![\w$.])(" + IDENT + r")(?![\w(])(?!\s*\()", stripped):
        word = m.group(1)
        if word.lower() in KEYWORDS or word in with_braces:
            continue
        selectors.append((word, set()))
    return selectors, grouping


def check(where: str, expr: str, known: dict[str, set[str]], errors: list[str],
          legend: str | None = None) -> set[str]:
    selectors, grouping = analyse(expr)
    used: set[str] = set()
    available: set[str] = set(TARGET_LABELS)
    for name, labels in selectors:
        used.add(name)
        if name not in known:
            errors.append(f"{where}: unknown metric {name!r} in: {expr}")
            continue
        available |= known[name]
        for label in sorted(labels - known[name]):
            errors.append(f"{where}: metric {name} has no label {label!r} in: {expr}")
    if not selectors:
        errors.append(f"{where}: no metric found in: {expr}")
    for label in sorted(grouping - available):
        errors.append(f"{where}: label {label!r} (by/on clause) is on none of {sorted(used)}: {expr}")
    if legend:
        for label in re.findall(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}", legend):
            if label not in available:
                errors.append(f"{where}: legend label {label!r} is on none of {sorted(used)}")
    return used


def rule_exprs() -> list[tuple[str, str]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    out = []
    for group in doc["groups"]:
        for rule in group["rules"]:
            name = rule.get("alert") or rule.get("record")
            out.append((f"rules.yml {group['name']}/{name}", rule["expr"]))
    return out


def dashboard_exprs() -> list[tuple[str, str, str | None]]:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    out: list[tuple[str, str, str | None]] = []

    def walk(panels):
        for panel in panels:
            for target in panel.get("targets", []):
                if target.get("expr"):
                    out.append((f"lintas.json panel {panel.get('title')!r} {target.get('refId')}",
                                target["expr"], target.get("legendFormat")))
            walk(panel.get("panels", []))

    walk(doc.get("panels", []))
    for var in doc.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        m = re.fullmatch(r"\s*label_values\((.*),\s*(" + IDENT + r")\s*\)\s*", query)
        if not m:
            out.append((f"lintas.json variable {var['name']}", query, None))
            continue
        # label_values(selector, label): the label must be on the selector's metric.
        out.append((f"lintas.json variable {var['name']}", f"sum by ({m.group(2)}) ({m.group(1)})", None))
    return out


RUNBOOK = ROOT / "deploy/RUNBOOK.md"


def alerts_without_runbook() -> list[str]:
    """Alerts of rules.yml without a `## <alert>` section in deploy/RUNBOOK.md."""
    sections = set(re.findall(r"^## (\w+)\s*$", RUNBOOK.read_text(), re.MULTILINE))
    rules = yaml.safe_load(RULES.read_text())
    alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
    return [f"alert {a} has no section in deploy/RUNBOOK.md" for a in alerts if a not in sections]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--describe", type=Path, metavar="FILE",
                        help="the output of `lintas describe --json` (else LINTAS_DESCRIBE, else cargo run)")
    args = parser.parse_args()
    described = describe(args.describe).get("metrics")
    if not described:
        print("`lintas describe --json` lists no metrics: the binary is older than this check")
        return 1
    known = exported_series(described)
    lintas = sorted(n for n in known if n.startswith("lintas_"))
    errors: list[str] = []
    used: set[str] = set()
    rules = rule_exprs()
    for where, expr in rules:
        used |= check(where, expr, known, errors)
    dash = dashboard_exprs()
    for where, expr, legend in dash:
        used |= check(where, expr, known, errors, legend)
    print(f"{len(lintas)} series names exported by the services, {len(rules)} rule expressions, "
          f"{len(dash)} dashboard queries checked")
    def family(name: str) -> str:
        stem = re.sub(r"_(bucket|sum|count)$", "", name)
        return stem if f"{stem}_bucket" in known else name

    unused = sorted({family(n) for n in lintas} - {family(n) for n in used})
    if unused:
        print("not used by any rule or panel (fine, for information): " + ", ".join(unused))
    errors += alerts_without_runbook()
    for e in errors:
        print("ERROR " + e)
    if errors:
        print(f"{len(errors)} error(s)")
        return 1
    print("OK: every metric and label used is exported by the services, every alert has a runbook section")
    return 0


if __name__ == "__main__":
    sys.exit(main())
