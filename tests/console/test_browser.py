"""A programme through the console in a real browser, on the real platform.

An admin opens a cohort, imports 200 people from a CSV file, runs a draft round, locks a pair
and publishes; the pair's two members accept; one schedules a session, both give feedback; the
KPI page shows the session and the ratings; a participant and an admin of another business unit
see none of it. Every page visited is checked with axe-core (no serious or critical violation)
and for bearer tokens in its HTML or its scripts' reach.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from services.stack.local_stack import LocalStack, StackInfo

pytestmark = pytest.mark.integration
UNIT, OTHER_UNIT = "bu-console-a", "bu-console-b"
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
SERIOUS = ("serious", "critical")
WAIT_S = 60.0
AXE = Axe()


@dataclass
class Programme:
    """What the scenario created, for the tests after it."""

    cohort_id: str = ""
    pair_id: str = ""
    mentor: str = ""
    mentee: str = ""
    pages_checked: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def programme() -> Programme:
    return Programme()


class Person:
    """Someone at the console in their own browser context (own cookies)."""

    def __init__(self, browser: Browser, url: str, programme: Programme) -> None:
        self.context = browser.new_context(base_url=url, locale="en-GB",
                                           viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(20_000)
        self.page: Page = self.context.new_page()
        self.programme = programme
        self.script_errors: list[str] = []
        self.page.on("console", lambda m: self.script_errors.append(m.text) if (
            m.type == "error" and not m.text.startswith("Failed to load resource")) else None)

    def check(self, *, audited_before: bool = False) -> None:
        """axe-core finds no serious or critical violation; no token in reach of the page.

        ``audited_before``: the same page was audited a moment ago (axe takes seconds on a
        round of 100 pairs); only the token checks run again.
        """
        page = self.page
        page.wait_for_load_state("load")
        if not audited_before:
            found = AXE.run(page).response["violations"]
            serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                       for v in found if v["impact"] in SERIOUS]
            assert serious == [], f"{page.url}: {serious}"
        assert self.script_errors == [], f"{page.url}: {self.script_errors}"  # CSP included
        assert JWT.search(page.content()) is None, f"{page.url} holds a bearer token"
        assert page.evaluate("document.cookie") == "", f"{page.url}: cookie readable by scripts"
        self.programme.pages_checked.append(page.url)

    def go(self, path: str) -> Page:
        self.page.goto(path)
        self.check()
        return self.page

    def sign_in(self, unit: str, role: str, employee_id: str = "") -> None:
        page = self.page
        page.goto("/signin")
        page.get_by_label("Business unit").fill(unit)
        page.get_by_label({"programme-admin": "Programme admin", "participant": "Participant",
                           "platform-admin": "Platform admin"}[role], exact=True).check()
        page.get_by_label("Employee id (participants only)").fill(employee_id)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        expect(self.page.get_by_role("heading", name="Sign in")).to_be_visible()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def person(browser: Browser, stack: StackInfo, programme: Programme
           ) -> Iterator[Callable[[], Person]]:
    opened: list[Person] = []

    def open_one() -> Person:
        opened.append(Person(browser, str(stack.console), programme))
        return opened[-1]

    yield open_one
    for p in opened:
        p.close()


def people_csv(path: Path, count: int = 200) -> Path:
    """An HR export: half juniors (mentors, level 2), half seniors (mentees, level 6)."""
    departments = ("Digital Channels", "Lending", "Treasury", "Risk", "Finance")
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["employee_id", "role", "name", "email", "department", "career_level",
                      "languages", "time_zone", "consent", "topics_offered", "topics_wanted"])
        for i in range(count):
            mentor = i % 2 == 0
            out.writerow([f"ct-{i:03d}", "mentor" if mentor else "mentee", f"Person {i:03d}",
                          f"person{i:03d}@example.com", departments[i % 5],
                          2 if mentor else 6, "de;en", "Europe/Berlin", "yes",
                          "genai;prompting" if mentor else "strategy",
                          "strategy" if mentor else "genai;prompting"])
    return path


def until(probe: Callable[[], bool], what: str, within: float = WAIT_S) -> None:
    deadline = time.monotonic() + within
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"


def text_of(page: Page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def test_an_admin_runs_a_programme_from_cohort_to_kpis(
    person: Callable[[], Person], programme: Programme, tmp_path: Path,
) -> None:
    admin = person()
    admin.sign_in(UNIT, "programme-admin")
    page = admin.go("/cohorts")
    page.get_by_role("link", name="Open a cohort").click()
    admin.check()
    page.get_by_label("Name", exact=True).fill("Console cohort: digital leadership")
    page.get_by_label("Sessions per mentorship (target)").fill("2")
    page.get_by_role("button", name="Open the cohort").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Console cohort: digital leadership")
    admin.check()
    programme.cohort_id = page.url.rstrip("/").split("/")[-1]

    page.get_by_role("link", name="Participants").click()
    admin.check()
    page.get_by_role("link", name="Import a file").click()
    page.get_by_label("File (.csv or .jsonl)").set_input_files(people_csv(tmp_path / "hr.csv"))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-accepted")).to_have_text("200", timeout=60_000)
    admin.check()
    page.get_by_role("link", name="See the participants").click()
    page.get_by_label("Search").fill("person 007")  # htmx: the table follows the typing
    expect(page.locator("#people caption")).to_have_text("1 participant shown")
    expect(page.locator("#people tbody")).to_contain_text("ct-007")
    page.get_by_label("Search").fill("")
    page.get_by_label("Department").select_option("Treasury")
    page.get_by_label("Role").select_option("mentor")
    expect(page.locator("#people caption")).to_have_text("20 participants shown")
    admin.check()

    admin.go(f"/cohorts/{programme.cohort_id}/rounds")

    def draft_holds_everyone() -> bool:
        page.goto(f"/cohorts/{programme.cohort_id}/rounds")
        if page.get_by_role("button", name="Run a draft round").count() == 0:
            return False
        page.get_by_role("button", name="Run a draft round").click()
        page.wait_for_url(re.compile(r"/rounds/[^/]+$"))
        return (text_of(page, "#mentors-in-pool"), text_of(page, "#mentees-in-pool")) == (
            "100", "100")

    until(draft_holds_everyone, "a draft round over all 200 people")
    admin.check()
    assert int(text_of(page, "#pairs-proposed")) > 0
    first = page.locator("table.pairs-table tbody tr").first
    programme.pair_id = (first.get_attribute("id") or "").removeprefix("pair-")
    programme.mentor, programme.mentee = (first.locator("td small").nth(i).inner_text()
                                          for i in (0, 1))
    first.get_by_role("button", name=re.compile("^Lock")).click()
    expect(page.locator(f"#pair-{programme.pair_id}")).to_contain_text("locked")
    admin.check(audited_before=True)

    rows = page.locator("table.pairs-table tbody tr")
    by_hand = (rows.nth(1).locator("td small").nth(0).inner_text(),
               rows.nth(2).locator("td small").nth(1).inner_text())
    page.get_by_text("Fix a pair by hand and re-solve").click()
    page.get_by_label("Mentor's employee id").fill(by_hand[0])
    page.get_by_label("Mentee's employee id").fill(by_hand[1])
    page.get_by_role("button", name="Fix and re-solve").click()
    expect(page.get_by_role("status")).to_contain_text("Re-solved")
    admin.check(audited_before=True)
    kept = rows.filter(has_text=programme.mentor).filter(has_text=programme.mentee)
    expect(kept).to_contain_text("locked")
    programme.pair_id = (kept.get_attribute("id") or "").removeprefix("pair-")
    expect(rows.filter(has_text=by_hand[0]).filter(has_text=by_hand[1])).to_have_count(1)
    page.get_by_role("button", name="Publish this round").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pair status")
    admin.check()
    assert int(text_of(page, "#col-proposed .count")) > 0

    for member in (programme.mentor, programme.mentee):
        me = person()
        me.sign_in(UNIT, "participant", member)
        me.go("/me")
        card = me.page.locator(f"#pair-{programme.pair_id}")
        expect(card).to_contain_text("Why this partner")
        card.get_by_role("button", name="Accept").click()
        expect(me.page.get_by_role("status")).to_contain_text("You accepted the proposal")
        me.close()

    mentee = person()
    mentee.sign_in(UNIT, "participant", programme.mentee)

    def mentorship_listed() -> bool:
        mentee.page.goto("/me")
        return mentee.page.get_by_role("link", name=re.compile("^Mentorship with")).count() > 0

    until(mentorship_listed, "the confirmed pair's mentorship")
    mentee.page.get_by_role("link", name=re.compile("^Mentorship with")).click()
    mentee.check()
    starts = datetime.now(UTC) + timedelta(minutes=2)
    page = mentee.page
    page.locator("#new-day").fill(starts.date().isoformat())
    page.locator("#new-start").fill(starts.strftime("%H:%M"))
    page.locator("#new-time_zone").fill("UTC")
    page.locator("#new-video_link").fill("https://meet.example.com/console-test")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.locator("#session-1")).to_contain_text("scheduled")
    mentee.check()
    page.get_by_role("button", name="We met: mark as held").click()
    expect(page.locator("#session-1")).to_contain_text("held")
    give_feedback(mentee, rating=5, note="Private: more on prompting next time")

    mentor = person()
    mentor.sign_in(UNIT, "participant", programme.mentor)
    mentor.go(f"/me/mentorships/{programme.pair_id}")
    expect(mentor.page.locator("#session-1")).to_contain_text("held")
    give_feedback(mentor, rating=4, note="")

    admin.go(f"/cohorts/{programme.cohort_id}/kpis")
    page = admin.page
    assert text_of(page, "#kpi-confirmed") == "1"
    assert text_of(page, "#kpi-held") == "1"
    assert (text_of(page, "#kpi-rating-mentor"), text_of(page, "#kpi-rating-mentee")) == (
        "4.0", "5.0")
    assert "Private: more on prompting" not in page.content()  # a note is its author's alone


def give_feedback(who: Person, *, rating: int, note: str) -> None:
    page = who.page
    session = page.locator("#session-1")
    session.get_by_label(str(rating), exact=True).check()
    session.get_by_label("On which topics (comma-separated)").fill("genai")
    session.get_by_label("Private note (only you will ever see it)").fill(note)
    session.get_by_role("button", name="Give feedback").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for your feedback")
    who.check()


def test_a_participant_and_an_admin_of_another_unit_see_none_of_it(
    person: Callable[[], Person], programme: Programme,
) -> None:
    assert programme.pair_id, "needs the programme of the test before"
    stranger = person()
    stranger.sign_in(OTHER_UNIT, "participant", programme.mentor)  # same directory id
    page = stranger.go("/me")
    expect(page.get_by_text("No partner proposed yet.")).to_be_visible()
    expect(page.get_by_text("You are not enrolled in any cohort.")).to_be_visible()
    assert "Console cohort" not in page.content()
    page.goto(f"/me/mentorships/{programme.pair_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    stranger.check()

    other_admin = person()
    other_admin.sign_in(OTHER_UNIT, "programme-admin")
    page = other_admin.go("/cohorts")
    expect(page.get_by_text("No cohort yet.")).to_be_visible()
    for path in ("", "/participants", "/rounds", "/kpis"):
        page.goto(f"/cohorts/{programme.cohort_id}{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    other_admin.check()


def test_a_participant_moves_and_cancels_a_session_and_sees_refusals_in_plain_words(
    person: Callable[[], Person], programme: Programme,
) -> None:
    assert programme.pair_id, "needs the programme of the first test"
    mentor = person()
    mentor.sign_in(UNIT, "participant", programme.mentor)
    page = mentor.go(f"/me/mentorships/{programme.pair_id}")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    page.locator("#new-day").fill(tomorrow)
    page.locator("#new-start").fill("10:00")
    page.locator("#new-time_zone").fill("UTC")
    page.get_by_role("button", name="Schedule", exact=True).click()  # video, but no link
    expect(page.get_by_role("alert")).to_contain_text(
        "A video session needs an https meeting link.")
    mentor.check()

    page.go_back()
    page.locator("#new-day").fill(tomorrow)
    page.locator("#new-start").fill("10:00")
    page.locator("#new-time_zone").fill("UTC")
    page.get_by_label("in person", exact=True).check()
    page.locator("#new-location").fill("Floor 12, room B")
    page.get_by_role("button", name="Schedule", exact=True).click()
    second = page.locator("#session-2")
    expect(second).to_contain_text("Floor 12, room B")
    second.locator("summary", has_text="Reschedule").click()
    in_berlin = datetime.fromisoformat(f"{tomorrow}T10:00:00+00:00").astimezone(
        ZoneInfo("Europe/Berlin"))  # the form offers the session's own plan, in its zone
    expect(second.locator("#r2-day")).to_have_value(in_berlin.date().isoformat())
    expect(second.locator("#r2-start")).to_have_value(in_berlin.strftime("%H:%M"))
    expect(second.get_by_label("in person", exact=True)).to_be_checked()
    expect(second.locator("#r2-location")).to_have_value("Floor 12, room B")
    second.locator("#r2-start").fill((in_berlin + timedelta(minutes=90)).strftime("%H:%M"))
    second.locator("#r2-location").fill("Floor 3, café")
    second.get_by_role("button", name="Move the session").click()
    expect(page.get_by_role("status")).to_contain_text("Session moved.")
    expect(page.locator("#session-2")).to_contain_text("Floor 3, café")
    page.locator("#session-2").get_by_role("button", name="Cancel the session").click()
    expect(page.locator("#session-2")).to_contain_text("cancelled")
    mentor.check()


def test_a_participant_enrols_with_consent_and_withdraws_knowing_what_is_erased(
    person: Callable[[], Person], programme: Programme,
) -> None:
    assert programme.cohort_id, "needs the cohort of the first test"
    newcomer = person()
    newcomer.sign_in(UNIT, "participant", "ct-self-1")
    page = newcomer.go("/me")
    page.get_by_role("link", name="Enrol Console cohort: digital leadership").click()
    newcomer.check()
    page.get_by_label("Mentee: I am a senior and want to learn").check()
    page.get_by_label("Name", exact=True).fill("Sam Senior")
    page.get_by_label("E-mail").fill("sam.senior@example.com")
    page.get_by_label("Department", exact=True).fill("Treasury")
    page.get_by_label("Career level (1–10)").fill("8")
    page.get_by_role("button", name="Enrol").click()  # consent not given: the browser asks
    expect(page).to_have_url(re.compile("/enrol$"))
    page.get_by_label("I take part voluntarily").check()
    page.get_by_role("button", name="Enrol").click()
    expect(page.get_by_role("status")).to_contain_text("You are enrolled.")
    newcomer.check()

    page.get_by_role("link", name="Withdraw").click()
    expect(page.get_by_role("list").filter(has_text="private notes")).to_be_visible()
    newcomer.check()
    page.get_by_role("button", name="Withdraw and erase my details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have withdrawn")
    expect(page.get_by_text("The enrolment service erased:")).to_contain_text("email")
    newcomer.check()
    page.goto("/me")  # nothing identifies the enrolment any more
    expect(page.get_by_text("You are not enrolled in any cohort.")).to_be_visible()


def test_an_admin_subscribes_a_webhook_and_reads_the_delivery_log(
    person: Callable[[], Person],
) -> None:
    admin = person()
    admin.sign_in(UNIT, "programme-admin")
    page = admin.go("/deliveries")
    expect(page.get_by_role("table")).to_contain_text("email")  # the invitations just sent
    page.get_by_role("link", name="Webhook subscriptions").click()
    page.get_by_label("URL of the receiver").fill("https://hooks.example.com/revmentor")
    page.get_by_label("Description (optional)").fill("HR dashboard")
    page.get_by_role("button", name="Subscribe", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("shown this once")
    expect(page.locator("code")).to_have_text(re.compile(r"^whsec_"))
    expect(page.get_by_role("table")).to_contain_text("HR dashboard")
    admin.check()


def test_the_console_speaks_german_and_keeps_it_accessible(
    person: Callable[[], Person], programme: Programme,
) -> None:
    admin = person()
    admin.sign_in(UNIT, "programme-admin")
    admin.page.get_by_role("link", name="Deutsch").click()
    expect(admin.page.locator("html")).to_have_attribute("lang", "de")
    page = admin.go(f"/cohorts/{programme.cohort_id}/kpis")
    expect(page.get_by_role("heading", level=1)).to_have_text("Treffen und Kennzahlen")
    for path in ("/cohorts", "/deliveries", "/webhooks", f"/cohorts/{programme.cohort_id}/pairs",
                 f"/cohorts/{programme.cohort_id}/participants/new"):
        admin.go(path)
    assert len(programme.pages_checked) >= 20


def test_someone_signs_in_and_opens_their_programme_with_the_keyboard_alone(
    person: Callable[[], Person], programme: Programme,
) -> None:
    visitor = person()
    page = visitor.page
    page.goto("/signin")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # past the skip link into the main content: the first field
    expect(page.get_by_label("Business unit")).to_be_focused()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type(UNIT)
    page.keyboard.press("Tab")  # the role radios: one tab stop, arrows choose
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Participant", exact=True)).to_be_checked()
    page.keyboard.press("Tab")
    page.keyboard.type(programme.mentee)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("My programme")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="revmentor")).to_be_focused()


def test_pages_reflow_to_a_phone_width(person: Callable[[], Person],
                                        programme: Programme) -> None:
    admin = person()
    admin.sign_in(UNIT, "programme-admin")
    admin.page.set_viewport_size({"width": 375, "height": 800})
    for path in (f"/cohorts/{programme.cohort_id}", f"/cohorts/{programme.cohort_id}/kpis",
                 f"/cohorts/{programme.cohort_id}/pairs", "/cohorts/new"):
        admin.page.goto(path)
        width = admin.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide on a 375px screen"


def context_cookie(person: Person) -> dict[str, Any]:
    return next(dict(c) for c in person.context.cookies()
                if c.get("name") == "revmentor_console")


def test_the_session_cookie_is_httponly_and_samesite_lax(
    person: Callable[[], Person],
) -> None:
    admin = person()
    admin.sign_in(UNIT, "programme-admin")
    cookie = context_cookie(admin)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Lax", False)


def test_a_service_that_is_down_shows_a_notice_and_the_rest_still_works(
    person: Callable[[], Person], running_stack: LocalStack,
) -> None:
    """Last in this module: it stops the notifications service of the shared stack."""
    running_stack.processes["notifications"].stop(20.0)
    admin = person()
    admin.sign_in(UNIT, "programme-admin")
    page = admin.go("/deliveries")
    expect(page.get_by_role("heading", level=1)).to_have_text("Service unavailable")
    expect(page.get_by_role("alert")).to_contain_text(
        "The notifications service does not answer right now.")
    admin.go("/cohorts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cohorts")
