"""Messages as a recipient reads them: language, local time, the why of a proposal, links;
webhook bodies as Slack, Teams and a Standard Webhooks receiver read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from standardwebhooks import Webhook

from contracts.notifications import Channel
from services.notifications.composer import Composer, Links
from services.notifications.directory import Recipient
from services.notifications.domain import Cohort, Delivery
from services.notifications.endpoints import Endpoint, WebhookFormat, new_secret
from services.notifications.messages import Renderer, language_for, zone_of
from services.notifications.webhooks import body_for, signed_headers

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
COMPOSER = Composer(Renderer(), Links("https://mentoring.example.com/"),
                    organiser="revmentor <noreply@mentoring.example.com>",
                    domain="mentoring.example.com")
COHORT = Cohort("bu", "coh", "AI at work", ("de", "en"))


def person(pid: str, locale: str | None = None, zone: str = "Europe/Berlin") -> Recipient:
    return Recipient("bu", "coh", pid, f"Person {pid}", f"{pid}@example.com", locale, zone)


def proposal(recipient: str = "p-mentor") -> Delivery:
    return Delivery("bu", "coh", Channel.EMAIL, recipient, "pair_proposed", "event-1", NOW,
                    subject_id="pair-1", context={
                        "pair_id": "pair-1", "role": "mentor", "partner_id": "p-mentee",
                        "top_factors": [{"factor": "topic_fit", "contribution": 0.5},
                                        {"factor": "cross_department", "contribution": 0.3}],
                        "teaches": ["genai"], "learns": ["negotiation"]})


@pytest.mark.parametrize(("locale", "cohort", "language"), [
    ("de-AT", ("en",), "de"), ("en_GB", ("de",), "en"), ("fr", ("de", "en"), "de"),
    (None, ("en", "de"), "en"), ("fr", ("it",), "en"), (None, (), "en")])
def test_the_language_is_the_locale_else_the_cohorts_first_else_english(
        locale: str | None, cohort: tuple[str, ...], language: str) -> None:
    assert language_for(locale, cohort) == language


def test_an_unknown_time_zone_falls_back_to_utc() -> None:
    assert zone_of("Mars/Olympus_Mons") == ZoneInfo("UTC")
    assert zone_of(None) == ZoneInfo("UTC")
    assert zone_of("Europe/Vienna") == ZoneInfo("Europe/Vienna")


def test_a_proposal_says_why_what_each_teaches_and_where_to_answer_in_english() -> None:
    mail = COMPOSER.compose(proposal(), person("p-mentor", "en"), person("p-mentee"), COHORT,
                            NOW)
    assert mail.subject == "We propose a mentee for you: Person p-mentee"
    assert mail.text.splitlines()[:8] == [
        "Hello Person p-mentor,", "",
        "in AI at work we propose Person p-mentee as your mentee.", "",
        "Why the two of you:",
        "- what you want to learn matches what your partner teaches",
        "- you work in different departments",
        "You can teach: genai"]
    assert "https://mentoring.example.com/pairs/pair-1" in mail.text
    assert '<a href="https://mentoring.example.com/pairs/pair-1">Accept or decline</a>' in (
        mail.html)
    assert mail.calendar is None


def test_a_proposal_in_german_and_without_a_known_partner() -> None:
    mail = COMPOSER.compose(proposal(), person("p-mentor", "de"), None, COHORT, NOW)
    assert mail.subject == "Unser Vorschlag für Ihr Tandem"
    assert "in AI at work schlagen wir Ihnen ein Gegenüber als Mentee vor." in mail.text
    assert "- Sie arbeiten in verschiedenen Bereichen" in mail.text
    assert mail.language == "de"


def test_html_escapes_what_the_directory_holds() -> None:
    rogue = Recipient("bu", "coh", "p-x", "<script>alert(1)</script>", "x@example.com", "en",
                      None)
    mail = COMPOSER.compose(proposal("p-x"), rogue, None, COHORT, NOW)
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "Hello <script>alert(1)</script>," in mail.text


def test_a_recipient_without_an_address_cannot_be_written_to() -> None:
    nobody = Recipient("bu", "coh", "p-x", None, None, None, None)
    with pytest.raises(ValueError, match="no address"):
        COMPOSER.compose(proposal("p-x"), nobody, None, COHORT, NOW)


def test_a_standard_webhook_verifies_and_slack_and_teams_read_the_same_fact() -> None:
    cloudevent = json.dumps({"specversion": "1.0", "id": "e-1", "type":
                             "revmentor.sessions.MentorshipCompleted.v1", "tenantid": "bu",
                             "cohortid": "coh", "subject": "pair-1", "time": NOW.isoformat(),
                             "data": {"sessions_held": 6, "outcome": "completed"}})
    secret = new_secret()
    endpoint = Endpoint("wh-1", "bu", "https://hr.example.com", [], WebhookFormat.STANDARD,
                        secret)
    body = body_for(endpoint, cloudevent)
    headers = signed_headers(secret, "ntf-1", body, datetime.now(UTC))
    assert Webhook(secret).verify(body, headers)["id"] == "e-1"
    stale = signed_headers(secret, "ntf-1", body, datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(Exception, match="too old"):
        Webhook(secret).verify(body, stale)
    endpoint.format = WebhookFormat.SLACK
    slack = json.loads(body_for(endpoint, cloudevent))
    assert slack["text"] == "revmentor: Mentorship completed"
    assert "*Sessions held:* 6" in slack["blocks"][1]["text"]["text"]
    endpoint.format = WebhookFormat.TEAMS
    teams = json.loads(body_for(endpoint, cloudevent))
    facts = {f["name"]: f["value"] for f in teams["sections"][0]["facts"]}
    assert (facts["Outcome"], facts["About"]) == ("completed", "pair-1")
