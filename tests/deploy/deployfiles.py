"""Reading the deployment files as a reviewer would: rendered overlays, PromQL metric names,
setting names."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from services.runtime.kafka import create_broker
from services.runtime.settings import ServiceSettings
from services.stack import roster

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32.0"
"""The Kubernetes API the manifests are validated against (schemas shipped with
kubernetes-validate), pinned so that the check does not move with the package; the kubectl of
the machine image is 1.32 too. Later minors accept what uses no API they removed."""
CUSTOM_KINDS = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}
"""Custom resources the overlays use; kubernetes-validate knows built-in kinds only, so these
are checked by the tests that read them."""
PLATFORM_WIDE = frozenset({"KAFKA_BOOTSTRAP_SERVERS", "MONGODB_URI", "REVMENTOR_JWT_SECRET"})
"""Settings every service falls back to (services/runtime/settings.py)."""
GRAFANA_INTERVALS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not installed: the overlays cannot be rendered here "
                    "(it is on the CI machine image)")
    return found


@cache
def _rendered(overlay: str) -> str:
    return subprocess.run([kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
                          check=True, capture_output=True, text=True, timeout=60).stdout


def rendered(overlay: str) -> list[dict[str, Any]]:
    """What ``kubectl apply -k deploy/k8s/overlays/<overlay>`` would send."""
    return [doc for doc in yaml.safe_load_all(_rendered(overlay)) if doc]


def of_kind(resources: Iterable[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def metric_names(expr: str) -> set[str]:
    """Every metric a PromQL expression selects; a selector without a metric name is refused,
    since what it selects cannot be checked."""
    for variable, value in GRAFANA_INTERVALS.items():
        expr = expr.replace(variable, value)
    return set(_selected(promql_parser.parse(expr)))


def _selected(node: Any) -> Iterator[str]:
    if isinstance(node, promql_parser.VectorSelector):
        if not node.name:
            raise ValueError(f"a selector without a metric name: {node}")
        yield node.name
    elif isinstance(node, promql_parser.MatrixSelector):
        yield from _selected(node.vector_selector)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from _selected(arg)
    else:
        for part in ("expr", "lhs", "rhs", "param"):
            child = getattr(node, part, None)
            if child is not None:
                yield from _selected(child)


def dashboard_queries(board: dict[str, Any]) -> list[str]:
    """The PromQL of every panel target and of every query variable (``label_values``)."""
    queries = [t["expr"] for p in board["panels"] for t in p.get("targets", ())]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((.*),\s*\w+\)", variable["query"]["query"])
            assert inner, variable["query"]["query"]
            queries.append(inner[1])
    return queries


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((K8S / "base" / "prometheus-rules.yaml").read_text())
    return [rule for group in rules["spec"]["groups"] for rule in group["rules"]]


def settings_class(service: str) -> type[ServiceSettings]:
    """The settings class of ``services/<service>/settings.py``."""
    module = importlib.import_module(f"{roster.entry(service).module}.settings")
    [found] = [c for c in vars(module).values() if isinstance(c, type)
               and issubclass(c, ServiceSettings) and c is not ServiceSettings]
    return found


@cache
def settings_fields(service: str) -> frozenset[str]:
    """The fields the service's settings class reads, lower case."""
    return frozenset(settings_class(service).model_fields)


def unknown_settings(names: Iterable[str]) -> list[str]:
    """The names that are no ``REVMENTOR_<SERVICE>_<FIELD>`` of a real field, nor a
    platform-wide fallback."""
    unknown = []
    for name in names:
        if name in PLATFORM_WIDE:
            continue
        parts = re.fullmatch(r"REVMENTOR_([A-Z]+)_([A-Z0-9_]+)", name)
        if not (parts and parts[1].lower() in roster.NAMES
                and parts[2].lower() in settings_fields(parts[1].lower())):
            unknown.append(name)
    return unknown


def drain_seconds() -> float:
    """How long a stopping service may take by its own timeouts: consumers finishing their
    batches (the broker's graceful timeout), then the outbox relay's last flush (lease TTL)."""
    defaults = ServiceSettings()
    graceful = create_broker(defaults).config.graceful_timeout
    assert graceful is not None
    return graceful + defaults.outbox_lease_ttl_s
