"""Messages in the recipient's language and time zone, from Jinja2 templates.

Each template is one file per language (``templates/<lang>/<template>.j2``) with three blocks:
``subject`` and ``text`` (rendered without HTML escaping) and ``body`` (an HTML fragment,
escaped, placed into ``templates/layout.html``). Dates and times are formatted by Babel in the
recipient's locale and time zone. The language is the recipient's locale when this service has
templates for it, else the cohort's first language, else English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

LANGUAGES = ("en", "de")
TEMPLATES = Path(__file__).parent / "templates"
UTC_ZONE = ZoneInfo("UTC")

FACTORS = {
    "en": {"topic_fit": "what you want to learn matches what your partner teaches",
           "reverse_topic_fit": "you can teach each other in return",
           "format": "you prefer the same way to meet",
           "cross_department": "you work in different departments",
           "goal_similarity": "your goals are alike"},
    "de": {"topic_fit": "was Sie lernen möchten, passt zu dem, was Ihr Gegenüber vermittelt",
           "reverse_topic_fit": "Sie können auch voneinander lernen",
           "format": "Sie bevorzugen dieselbe Form des Treffens",
           "cross_department": "Sie arbeiten in verschiedenen Bereichen",
           "goal_similarity": "Ihre Ziele ähneln sich"},
}


def language_for(locale: str | None, cohort_languages: tuple[str, ...]) -> str:
    """The first of the recipient's locale and the cohort's first language we have templates for."""
    candidates = [locale] if locale else []
    candidates += list(cohort_languages[:1])
    for tag in candidates:
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in LANGUAGES:
            return primary
    return "en"


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else UTC_ZONE
    except (ZoneInfoNotFoundError, ValueError):
        return UTC_ZONE


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


class Renderer:
    def __init__(self) -> None:
        loader = FileSystemLoader(TEMPLATES)
        self.text_env = Environment(loader=loader, autoescape=False, undefined=StrictUndefined,
                                    keep_trailing_newline=True, trim_blocks=True,
                                    lstrip_blocks=True)
        self.html_env = Environment(loader=loader, autoescape=True, undefined=StrictUndefined,
                                    trim_blocks=True, lstrip_blocks=True)
        self.layout = self.html_env.get_template("layout.html")

    def render(self, template: str, language: str, zone: ZoneInfo, context: dict[str, Any]
               ) -> Rendered:
        values = {**context, **_formatters(language, zone)}
        name = f"{language}/{template}.j2"
        text_tpl = self.text_env.get_template(name)
        html_tpl = self.html_env.get_template(name)
        subject = " ".join(_block(text_tpl, "subject", values).split())
        body = Markup(_block(html_tpl, "body", values))
        html = self.layout.render(subject=subject, body=body, lang=language)
        return Rendered(subject, _block(text_tpl, "text", values).strip() + "\n", html, language)


def _block(template: Template, name: str, values: dict[str, Any]) -> str:
    return "".join(template.blocks[name](template.new_context(values)))


def _formatters(language: str, zone: ZoneInfo) -> dict[str, Any]:
    def when(moment: datetime) -> str:
        local = moment.astimezone(zone)
        return (f"{format_date(local, 'full', locale=language)}, "
                f"{format_time(local, 'short', locale=language)} "
                f"({get_timezone_name(local, 'long', locale=language)})")

    def day(moment: datetime) -> str:
        return format_date(moment.astimezone(zone), "long", locale=language)

    def number(value: float) -> str:
        return format_decimal(value, "#,##0.##", locale=language)

    def factor(name: str) -> str:
        return FACTORS[language].get(name, name.replace("_", " "))

    return {"when": when, "day": day, "number": number, "factor": factor}
