"""The Kustomize overlays render, every built-in resource is valid Kubernetes, and what the
manifests say agrees with the code: settings, consumer groups, topics, drain time."""

from __future__ import annotations

import base64
import os
import re
from typing import Any

import kubernetes_validate
import pytest
import yaml

from contracts.topics import PROFILES, SPEC_OF, STREAM_PARTITIONS, TOPIC_SPECS
from services.stack import kafka_topics, roster
from services.stack.observed import observed
from tests.deploy.deployfiles import (
    CUSTOM_KINDS,
    K8S,
    KUBERNETES_VERSION,
    OVERLAYS,
    PLATFORM_WIDE,
    REPO,
    drain_seconds,
    of_kind,
    rendered,
    settings_class,
    unknown_settings,
)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_built_in_resource_of_the_overlay_is_valid_kubernetes(overlay: str) -> None:
    validated, custom = 0, set()
    for resource in rendered(overlay):
        kind = (resource["apiVersion"], resource["kind"])
        if kind in CUSTOM_KINDS:
            custom.add(kind)
            continue
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        validated += 1
    assert validated >= 4 * 6  # per service: Deployment, Service, PDB, SA, NetworkPolicy, config
    assert custom >= CUSTOM_KINDS - {("keda.sh/v1alpha1", "ScaledObject")}


def test_strict_validation_refuses_a_misspelt_field() -> None:
    deployment = of_kind(rendered("prod"), "Deployment")["matching"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_runs_its_own_command_non_root_on_a_read_only_file_system(
    overlay: str
) -> None:
    deployments = of_kind(rendered(overlay), "Deployment")
    assert sorted(deployments) == sorted(roster.NAMES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"] == ["service", name]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "privileged": False, "capabilities": {"drop": ["ALL"]}}
        assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_liveness_asks_healthz_and_readiness_asks_readyz(overlay: str) -> None:
    for deployment in of_kind(rendered(overlay), "Deployment").values():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert set(container["resources"]["requests"]) == {"cpu", "memory"}
        assert "memory" in container["resources"]["limits"]


def test_termination_grace_outlasts_consumers_draining_and_the_outbox_flushing() -> None:
    drain = drain_seconds()
    for deployment in of_kind(rendered("prod"), "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        pre_stop = pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        assert pod["terminationGracePeriodSeconds"] > float(pre_stop[1]) + drain


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_setting_in_config_maps_and_secrets_is_one_the_services_read(overlay: str) -> None:
    resources = rendered(overlay)
    names = [key for kind in ("ConfigMap", "Secret")
             for r in of_kind(resources, kind).values() for key in r.get("data", {})]
    assert names
    assert unknown_settings(names) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_accepts_the_values_its_config_maps_and_secret_give_it(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resources = rendered(overlay)
    for variable in os.environ:
        if variable.startswith("REVMENTOR_") or variable in PLATFORM_WIDE:
            monkeypatch.delenv(variable)
    for name, deployment in of_kind(resources, "Deployment").items():
        with monkeypatch.context() as env:
            for variable, value in environment(resources, deployment).items():
                env.setenv(variable, value)
            settings = settings_class(name).for_service(name)
        assert settings.http_port == 8000
        assert settings.kafka_bootstrap_servers == "revmentor-kafka-bootstrap.kafka.svc:9092"
        if overlay == "prod":
            assert (settings.jwt_jwks_url, settings.jwt_algorithms) == (
                "https://login.example.com/.well-known/jwks.json", ["RS256"])
            assert settings.kafka_create_topics is False


def environment(resources: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    """The variables a Deployment's container gets from the ConfigMaps and Secrets present."""
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    found: dict[str, str] = {}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            found |= of_kind(resources, "ConfigMap")[source["configMapRef"]["name"]]["data"]
        elif (secret := of_kind(resources, "Secret").get(source["secretRef"]["name"])):
            found |= {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    return found


def test_each_service_reads_its_config_and_secret_and_the_platform_config() -> None:
    resources = rendered("dev")
    present = set(of_kind(resources, "ConfigMap")) | set(of_kind(resources, "Secret"))
    for name, deployment in of_kind(resources, "Deployment").items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
        assert set(sources) <= present
        assert [s.rsplit("-", 1)[0] for s in sources] == [
            "revmentor-platform", f"{name}-config", f"{name}-secrets"]


def test_production_verifies_tokens_with_the_jwks_url_and_leaves_topics_to_strimzi() -> None:
    resources = rendered("prod")
    configs = of_kind(resources, "ConfigMap")
    for name in roster.NAMES:
        [config] = [c["data"] for n, c in configs.items() if n.startswith(f"{name}-config-")]
        prefix = f"REVMENTOR_{name.upper()}_"
        assert config[f"{prefix}JWT_JWKS_URL"].startswith("https://")
        assert config[f"{prefix}KAFKA_CREATE_TOPICS"] == "false"
    assert of_kind(resources, "Secret") == {}  # operators create them; none is committed


def test_keda_scales_on_the_lag_of_each_consumer_group_the_service_has() -> None:
    resources = rendered("prod")
    [platform] = [c for n, c in of_kind(resources, "ConfigMap").items()
                  if n.startswith("revmentor-platform-")]
    for name, scaled in of_kind(resources, "ScaledObject").items():
        kafka = [t["metadata"] for t in scaled["spec"]["triggers"] if t["type"] == "kafka"]
        assert scaled["spec"]["scaleTargetRef"]["name"] == name
        assert {t["consumerGroup"] for t in kafka} == set(observed(name).consumer_groups)
        assert {t["bootstrapServers"] for t in kafka} <= {
            platform["data"]["KAFKA_BOOTSTRAP_SERVERS"]}
        assert scaled["spec"]["maxReplicaCount"] <= STREAM_PARTITIONS
    assert sorted(of_kind(resources, "ScaledObject")) == sorted(roster.NAMES)


def test_the_plain_hpa_alternative_scales_every_deployment() -> None:
    resources = rendered("dev")
    autoscalers = of_kind(resources, "HorizontalPodAutoscaler")
    assert {a["spec"]["scaleTargetRef"]["name"] for a in autoscalers.values()} == set(
        of_kind(resources, "Deployment"))
    assert all(a["spec"]["maxReplicas"] <= STREAM_PARTITIONS for a in autoscalers.values())


def test_network_policies_deny_by_default_and_only_notifications_reaches_mail() -> None:
    policies = of_kind(rendered("prod"), "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {},
                                                 "policyTypes": ["Ingress", "Egress"]}
    for name in roster.NAMES:
        policy = policies[name]["spec"]
        assert policy["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
        assert (587 in ports) == (name == "notifications")


def test_prometheus_scrapes_each_service_on_its_http_port() -> None:
    resources = rendered("prod")
    services = of_kind(resources, "Service")
    for name, monitor in of_kind(resources, "ServiceMonitor").items():
        selected = monitor["spec"]["selector"]["matchLabels"]
        assert selected.items() <= services[name]["metadata"]["labels"].items()
        [endpoint] = monitor["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
        assert [p["name"] for p in services[name]["spec"]["ports"]] == ["http"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_have_the_partitions_and_configuration_of_contracts_topics(
    overlay: str
) -> None:
    topics = {t["spec"]["topicName"]: t["spec"]
              for t in of_kind(rendered(overlay), "KafkaTopic").values()}
    assert sorted(topics) == sorted(SPEC_OF)
    for name, spec in topics.items():
        assert spec["partitions"] == SPEC_OF[name].partitions
        assert spec["config"].items() >= SPEC_OF[name].config.items()
    assert topics[PROFILES]["config"]["cleanup.policy"] == "compact"
    assert topics[f"{PROFILES}.dlq"]["config"]["cleanup.policy"] == "delete"


@pytest.mark.parametrize("overlay", kafka_topics.OVERLAYS)
def test_the_committed_kafka_topics_are_what_the_generator_writes(overlay: str) -> None:
    committed = (K8S / "overlays" / overlay / kafka_topics.FILE_NAME).read_text()
    generated = kafka_topics.kafka_topics_yaml(kafka_topics.OVERLAYS[overlay])
    assert committed == generated, (
        "run `revmentor deploy kafka-topics deploy/k8s/overlays` and commit the result")
    assert len(list(yaml.safe_load_all(committed))) == len(TOPIC_SPECS)


def test_every_setting_the_runbook_names_is_one_the_services_read() -> None:
    runbook = (REPO / "docs" / "operations.md").read_text()
    names = re.findall(r"\b(?:REVMENTOR_[A-Z0-9_]+|KAFKA_BOOTSTRAP_SERVERS|MONGODB_URI)\b",
                       runbook)
    assert len(set(names)) > 10
    assert unknown_settings(names) == []
