"""Screenshots of the console's main pages, for the README: ``make screenshots``.

Starts the whole platform (``LocalStack``: every service, the embedded broker and database, the
console), plays the demo programme through the APIs, then drives Debian's Chromium through the
console as a programme admin and as a participant and saves ``docs/console/*.png``. A pilot
cohort imported from a generated HR export shows the import report and a draft round with its
reasons and its unmatched people.

    python scripts/console_screenshots.py [OUT_DIR] [--participants N]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import re
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from services.stack.demo.programme import Scenario
from services.stack.demo.run import Target, run
from services.stack.local_stack import LocalStack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
FAST = {"consumer_batch_timeout_ms": "20"}
FIRST = ("Lea", "Jonas", "Mia", "Lukas", "Hannah", "Felix", "Sophie", "Paul", "Marie", "Leon",
         "Ursula", "Klaus", "Sabine", "Dieter", "Petra", "Wolfgang", "Monika", "Thomas")
LAST = ("Müller", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch",
        "Richter", "Wolf", "Neumann", "Braun")
DEPARTMENTS = ("Digitale Kanäle", "Baufinanzierung", "Risikomanagement", "Personal",
               "IT-Betrieb", "Marketing")


def hr_export(path: Path, seed: int = 3) -> Path:
    """A pilot's export: 26 juniors, 37 seniors (one without consent, one at level 1: both
    rejected), one of each in a far time zone."""
    rng = random.Random(seed)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["employee_id", "role", "first_name", "last_name", "email", "department",
                      "career_level", "languages", "time_zone", "consent", "topics_offered",
                      "topics_wanted", "preferred_format"])
        for i in range(63):
            mentor = i < 26
            first, last = rng.choice(FIRST), rng.choice(LAST)
            zone = "Asia/Tokyo" if i in (5, 40) else "Europe/Berlin"
            consent = "no" if i == 61 else "yes"
            level = 1 if i == 62 else (rng.randint(1, 3) if mentor else rng.randint(5, 9))
            digital = rng.sample(["genai", "prompting", "low-code", "data-literacy",
                                  "collaboration-tools"], 2)
            experience = rng.sample(["strategy", "negotiation", "leadership"], 1)
            out.writerow([f"pilot-{i:03d}", "mentor" if mentor else "mentee", first,
                          last, f"{first}.{last}.{i}@example.com".lower(),
                          rng.choice(DEPARTMENTS), level, "de;en", zone, consent,
                          ";".join(digital if mentor else experience),
                          ";".join(experience if mentor else digital),
                          rng.choice(["video", "in_person", "either"])])
    return path


def sign_in(page: Page, unit: str, role: str, employee_id: str = "") -> None:
    page.goto("/language/en?next=/signin")
    page.get_by_label("Business unit").fill(unit)
    page.get_by_label({"programme-admin": "Programme admin",
                       "participant": "Participant"}[role], exact=True).check()
    page.get_by_label("Employee id (participants only)").fill(employee_id)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def shoot(page: Page, out: Path, name: str, *, full: bool = False) -> None:
    page.wait_for_load_state("load")
    page.screenshot(path=str(out / f"{name}.png"), full_page=full)
    print(f"saved {out / name}.png", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default="docs/console", type=Path)
    parser.add_argument("--participants", type=int, default=120)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with LocalStack(fixed_ports=False, settings=FAST) as stack:
        demo = asyncio.run(run(Target.of_stack(stack.info),
                               Scenario(participants=args.participants, seed=7), quiet=True))
        play = demo.plays[0]
        unit = play.unit.business_unit
        pair = play.answers[play.confirmed[-1]].pair
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as scratch:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=stack.info.console, locale="en-GB",
                                          viewport={"width": 1280, "height": 860})
            page = context.new_page()
            sign_in(page, unit, "programme-admin")
            shoot(page, out, "cohorts")
            page.get_by_role("link", name="Open a cohort").click()
            page.get_by_label("Name", exact=True).fill("Pilot 2026: KI im Arbeitsalltag")
            shoot(page, out, "cohort-form")
            page.get_by_role("button", name="Open the cohort").click()
            pilot = page.url.rstrip("/").split("/")[-1]
            page.goto(f"/cohorts/{pilot}/import")
            page.get_by_label("File (.csv or .jsonl)").set_input_files(
                hr_export(Path(scratch) / "pilot.csv"))
            page.get_by_role("button", name="Import").click()
            expect(page.locator("#import-accepted")).to_have_text("61", timeout=60_000)
            shoot(page, out, "import-report")
            deadline = time.monotonic() + 60
            while True:
                page.goto(f"/cohorts/{pilot}/rounds")
                button = page.get_by_role("button", name="Run a draft round")
                if button.count():
                    button.click()
                    page.wait_for_url(re.compile(r"/rounds/[^/]+$"))
                    if page.locator("#mentees-in-pool").inner_text().strip() == "35":
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("the pilot's pool did not fill")
            page.locator("table.pairs-table tbody tr").first.get_by_role(
                "button", name=re.compile("^Lock")).click()
            expect(page.locator("table.pairs-table .tag", has_text="locked")).to_be_visible()
            shoot(page, out, "draft-round")
            page.locator("h2", has_text="Unmatched").scroll_into_view_if_needed()
            shoot(page, out, "unmatched")
            page.goto(f"/cohorts/{play.cohort_id}/pairs")
            shoot(page, out, "pair-board")
            page.goto(f"/cohorts/{play.cohort_id}/kpis")
            shoot(page, out, "kpis", full=True)
            page.goto("/deliveries")
            shoot(page, out, "deliveries")
            page.get_by_role("button", name="Sign out").click()

            sign_in(page, unit, "participant", pair["mentee_id"])
            page.get_by_role("link", name="Deutsch").click()
            shoot(page, out, "participant", full=True)
            page.get_by_role("button", name="Abmelden").click()
            ongoing = demo.plays[-1]  # two sessions each: the second one still ahead
            other = ongoing.answers[ongoing.confirmed[-1]].pair
            sign_in(page, ongoing.unit.business_unit, "participant", other["mentor_id"])
            page.goto(f"/me/mentorships/{other['pair_id']}")
            shoot(page, out, "mentorship", full=True)
            browser.close()


if __name__ == "__main__":
    main()
