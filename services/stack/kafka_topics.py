"""Strimzi ``KafkaTopic`` resources for the platform's topics, from ``contracts/topics.py``.

Where Strimzi's Topic Operator manages topics, the services are told not to create them
(``KAFKA_CREATE_TOPICS=false``), so these resources are the only place partitions, retention and
the profile topic's compaction are set. The Kubernetes overlays commit what
``revmentor deploy kafka-topics`` writes, and a test fails when the committed files and the
declarations differ, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contracts.topics import TOPIC_SPECS, TopicSpec

API_VERSION = "kafka.strimzi.io/v1beta2"
FILE_NAME = "kafka-topics.yaml"
HEADER = ("# Generated from contracts/topics.py by `revmentor deploy kafka-topics "
          "deploy/k8s/overlays`;\n# do not edit: change the declarations and regenerate.\n")


@dataclass(frozen=True)
class TopicTarget:
    """Where an overlay's topics live: the Strimzi cluster, its namespace, how many replicas."""

    cluster: str = "revmentor"
    namespace: str = "kafka"
    replicas: int = 3
    config: Mapping[str, str] = field(default_factory=dict)
    """Broker-side settings added to every topic's declared configuration."""


OVERLAYS: Mapping[str, TopicTarget] = {
    "dev": TopicTarget(replicas=1),
    "prod": TopicTarget(replicas=3, config={"min.insync.replicas": "2"}),
}
"""Each Kubernetes overlay and its target; prod survives one broker down with acks=all."""


def kafka_topic(spec: TopicSpec, target: TopicTarget) -> dict[str, Any]:
    """One ``KafkaTopic`` named like its topic (dots are valid in a resource name)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaTopic",
        "metadata": {
            "name": spec.name,
            "namespace": target.namespace,
            "labels": {"strimzi.io/cluster": target.cluster,
                       "app.kubernetes.io/part-of": "revmentor"},
        },
        "spec": {
            "topicName": spec.name,
            "partitions": spec.partitions,
            "replicas": target.replicas,
            "config": {**spec.config, **target.config},
        },
    }


def kafka_topics_yaml(target: TopicTarget) -> str:
    documents = [kafka_topic(spec, target) for spec in TOPIC_SPECS]
    return HEADER + yaml.safe_dump_all(documents, sort_keys=False, explicit_start=True)


def write(overlays: Path) -> list[Path]:
    """Write ``<overlay>/kafka-topics.yaml`` for every overlay of :data:`OVERLAYS`."""
    written = []
    for name, target in OVERLAYS.items():
        path = overlays / name / FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kafka_topics_yaml(target))
        written.append(path)
    return written
