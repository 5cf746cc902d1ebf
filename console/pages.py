"""Rendering: Jinja2 templates in the visitor's language (Babel catalogues for de and en).

The language is the visit's choice, else the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from console.visits import CSRF_FIELD, visit_of

HERE = Path(__file__).parent
LANGUAGES = ("en", "de")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}


@cache
def translations(language: str) -> Translations:
    found = Translations.load(str(HERE / "translations"), [language], domain="messages")
    if not isinstance(found, Translations):  # no catalogue: a build without translations/
        raise RuntimeError(f"no compiled catalogue for {language} in {HERE / 'translations'}")
    return found


@cache
def environment(language: str) -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"],
                      trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = lambda value: when(value, language)
    env.filters["number"] = lambda value, digits=1: number(value, language, digits)
    env.filters["percent"] = lambda value: percent(value, language)
    env.globals["factor_labels"] = FACTOR_LABELS
    return env


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def language_of(request: Request) -> str:
    chosen = visit_of(request).language
    if chosen in LANGUAGES:
        return chosen
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "en"


def when(value: Any, language: str) -> str:
    if value in (None, ""):
        return "–"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return format_datetime(moment, "medium", locale=language)


def number(value: Any, language: str, digits: int = 1) -> str:
    if value is None:
        return "–"
    return format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0",
                          locale=language)


def percent(value: Any, language: str) -> str:
    return "–" if value is None else format_percent(value, locale=language)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           status_code: int = 200, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    language = language_of(request)
    visit = visit_of(request)
    page = environment(language).get_template(template).render(
        request=request, lang=language, languages=LANGUAGE_NAMES, visit=visit,
        person=visit.person, csrf=visit.csrf, csrf_field=CSRF_FIELD,
        flashes=visit.take_flashes() if not is_htmx(request) else [],
        path=request.url.path, **(context or {}))
    return HTMLResponse(page, status_code=status_code, headers=dict(headers or {}))


def N_(message: str) -> str:
    """Marks a message for extraction; templates translate it with ``_(…)``."""
    return message


FACTOR_LABELS = {
    "topic_fit": N_("Topic fit"), "reverse_topic_fit": N_("Reverse topic fit"),
    "format": N_("Format"), "cross_department": N_("Different departments"),
    "goal_similarity": N_("Similar goals"),
}
VOCABULARY = (
    N_("open"), N_("closed"), N_("scheduled"), N_("held"), N_("cancelled"), N_("batch"),
    N_("rolling"), N_("required"), N_("preferred"), N_("ignored"), N_("mentor"), N_("mentee"),
    N_("enrolled"), N_("withdrawn"), N_("proposed"), N_("confirmed"), N_("declined"),
    N_("draft"), N_("discarded"), N_("active"), N_("completed"), N_("ended_early"),
    N_("in_person"), N_("video"), N_("either"), N_("accepted"), N_("rejected"),
    N_("already_enrolled"), N_("no_feasible_partner"), N_("declined_all"),
    N_("capacity_exhausted"), N_("not_selected"), N_("delivered"), N_("failed"), N_("pending"),
    N_("max_score"), N_("max_matched"), N_("admin"), N_("participant"), N_("import"),
    N_("rescheduled"), N_("participant_unavailable"), N_("other"), N_("no_common_ground"),
    N_("schedule_conflict"), N_("prefers_other_topic"), N_("moved_role"), N_("left_company"),
    N_("no_time"), N_("not_yet_open"),
)
