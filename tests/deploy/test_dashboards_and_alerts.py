"""Dashboards and alerts chart what the services really export: every metric a query names is
one the code registers, and every metric the code registers is on a dashboard."""

from __future__ import annotations

import json
import re

import pytest

from services.stack import dashboards, roster
from services.stack.observed import observed
from tests.deploy.deployfiles import (
    DEPLOY,
    REPO,
    alert_rules,
    dashboard_queries,
    metric_names,
)

COMMITTED = {path.name: json.loads(path.read_text())
             for path in sorted((DEPLOY / "grafana").glob("*.json"))}


def exported_series() -> frozenset[str]:
    return frozenset().union(*(observed(name).series for name in roster.NAMES))


def unknown_metrics(queries: list[str]) -> set[str]:
    return set().union(*map(metric_names, queries)) - exported_series()


def test_there_is_a_dashboard_per_service() -> None:
    assert sorted(COMMITTED) == sorted(f"{name}.json" for name in roster.NAMES)


@pytest.mark.parametrize("name", sorted(COMMITTED))
def test_every_metric_a_dashboard_queries_is_one_the_services_register(name: str) -> None:
    queries = dashboard_queries(COMMITTED[name])
    assert len(queries) > 10
    assert unknown_metrics(queries) == set()


def test_every_metric_an_alert_queries_is_one_the_services_register() -> None:
    queries = [rule["expr"] for rule in alert_rules()]
    assert unknown_metrics(queries) == set()


def test_a_query_naming_a_metric_nobody_registers_is_caught() -> None:
    board = json.loads(json.dumps(COMMITTED["matching.json"]))
    board["panels"][1]["targets"][0]["expr"] = (
        'sum(rate(revmentor_http_requests_served_total{service="matching"}[$__rate_interval]))')
    assert unknown_metrics(dashboard_queries(board)) == {"revmentor_http_requests_served_total"}


def test_counters_are_queried_with_their_total_suffix() -> None:
    assert unknown_metrics(["rate(revmentor_dead_letters[5m])"]) == {"revmentor_dead_letters"}


def test_every_metric_the_services_register_is_charted() -> None:
    charted = set().union(*(metric_names(q) for board in COMMITTED.values()
                            for q in dashboard_queries(board)))
    for name in roster.NAMES:
        service = observed(name)
        missing = {f for f in service.families
                   if not charted & {f + suffix for suffix in ("", "_total", "_bucket")}}
        assert missing == set(), f"{name} exports {missing}, which no dashboard shows"


def test_only_services_with_consumers_have_consumer_panels() -> None:
    for name in roster.NAMES:
        queries = " ".join(dashboard_queries(COMMITTED[f"{name}.json"]))
        assert ("revmentor_consumer_lag" in queries) == bool(observed(name).consumer_groups)


def test_the_committed_dashboards_are_what_the_generator_writes() -> None:
    generated = {name: json.loads(dashboards.render(board))
                 for name, board in dashboards.dashboards().items()}
    assert COMMITTED == generated, (
        "run `revmentor deploy dashboards deploy/grafana` and commit the result")


def test_every_alert_has_a_section_in_the_runbook() -> None:
    runbook = (REPO / "docs" / "operations.md").read_text()
    headings = set(re.findall(r"^### (Revmentor\w+)$", runbook, flags=re.MULTILINE))
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts <= headings
    for rule in alert_rules():
        assert rule["annotations"]["runbook_url"] == (
            f"docs/operations.md#{rule['alert'].lower()}")
