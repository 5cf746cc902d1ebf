"""The console's browser tests: one real stack (every service its own process, the embedded
broker and database, the console) and one Debian Chromium driven by Playwright, shared by the
module's tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from services.stack.local_stack import LocalStack, StackInfo

CHROMIUM = os.environ.get("REVMENTOR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FAST = {"consumer_batch_timeout_ms": "20", "kafka_session_timeout_ms": "6000",
        "kafka_heartbeat_interval_ms": "1000"}


@pytest.fixture(scope="module")
def running_stack() -> Iterator[LocalStack]:
    with LocalStack(fixed_ports=False, settings=FAST) as running:
        assert running.info.console, "the stack started no console"
        yield running


@pytest.fixture(scope="module")
def stack(running_stack: LocalStack) -> StackInfo:
    return running_stack.info


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
