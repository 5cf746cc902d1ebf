"""The demo's employees: German and English profiles as an HR export would list them.

Seeded, so one seed gives the same people, the same answers and the same figures. Mentors are
the juniors (levels 1-4) who offer digital topics; mentees the seniors (levels 5-10) who offer
what experience teaches. Some mentors report to a mentee of the same cohort, so the matching
engine has reporting lines to keep apart.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from services.stack.demo.units import Unit

DIGITAL_TOPICS = ("genai", "prompting", "social-media", "collaboration-tools", "data-literacy",
                  "cybersecurity", "low-code", "agile-methods", "remote-work", "mobile-banking")
EXPERIENCE_TOPICS = ("stakeholder-management", "negotiation", "strategy", "leadership",
                     "decision-making", "networking", "risk-judgement", "client-relationships")

FIRST = {
    "de": ("Lea", "Jonas", "Mia", "Lukas", "Hannah", "Felix", "Sophie", "Maximilian", "Emma",
           "Paul", "Marie", "Leon", "Anna", "Finn", "Laura", "Jürgen", "Ursula", "Klaus",
           "Sabine", "Dieter", "Petra", "Wolfgang", "Monika", "Thomas", "Andrea", "Stefan",
           "Birgit", "Michael", "Gabriele", "Frank", "Özlem", "Björn", "Käthe", "Jörg"),
    "en": ("Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Emily", "Jack",
           "Sophie", "Charlie", "Grace", "Margaret", "David", "Susan", "Richard", "Elizabeth",
           "Andrew", "Catherine", "Graham", "Fiona", "Nigel", "Priya", "Siobhán", "Aoife",
           "Rhys", "Zara", "Callum", "Imogen", "Tom"),
}
LAST = {
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
           "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hartmann",
           "Lange", "Werner", "Krause", "Lehmann", "Weiß", "Köhler", "Yılmaz", "Öztürk"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
           "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
           "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "O'Brien", "Murphy",
           "Campbell", "MacLeod", "Nowak", "Okafor"),
}
DEPARTMENTS = {
    "de": ("Digitale Kanäle", "Vertrieb Privatkunden", "Baufinanzierung", "Risikomanagement",
           "Finanzen & Controlling", "Personal", "IT-Betrieb", "Recht & Compliance",
           "Marketing", "Filialnetz Süd"),
    "en": ("Digital Channels", "Corporate Lending", "Treasury", "Credit Risk", "Finance",
           "People & Culture", "Technology", "Legal", "Marketing", "Transaction Banking"),
}
TIME_ZONES = {
    "de": (("Europe/Berlin", 8), ("Europe/Vienna", 1), ("Europe/Zurich", 1)),
    "en": (("Europe/London", 7), ("Europe/Dublin", 1), ("America/New_York", 1),
           ("Asia/Dubai", 1)),
}
SECOND_LANGUAGES = {"de": ("en", "fr", "tr"), "en": ("de", "fr", "es")}
GOALS = {
    "de": ("Ich möchte verstehen, wie KI-Assistenten unseren Arbeitsalltag verändern.",
           "Mir ist wichtig zu lernen, wie Entscheidungen im Vorstand vorbereitet werden.",
           "Ich will die Sicht der jungen Kolleginnen und Kollegen auf unsere Kunden kennenlernen.",
           "Ich möchte zeigen, wie wir im Team mit Kollaborationstools arbeiten.",
           "Verhandlungsgeschick und Netzwerken sind Themen, bei denen ich wachsen will."),
    "en": ("I want to understand how generative AI could change the way my team works.",
           "I would like to learn how senior leaders weigh risk in big decisions.",
           "Keen to see our clients through the eyes of colleagues who grew up digital.",
           "Happy to show how we run our work in collaboration tools and low-code apps.",
           "Negotiation and stakeholder management are where I want to grow."),
}
MAIL_DOMAIN = {"de": "privatkunden.example.de", "en": "corporate.example.co.uk"}


@dataclass(frozen=True)
class Person:
    """One employee as the HR export lists them; ``employee_id`` is the directory id."""

    employee_id: str
    role: str
    name: str
    email: str
    department: str
    career_level: int
    languages: tuple[str, ...]
    time_zone: str
    topics_offered: tuple[str, ...]
    topics_wanted: tuple[str, ...]
    preferred_format: str
    goals: str
    manager_chain: tuple[str, ...] = field(default=())

    def application(self) -> dict[str, Any]:
        """The enrolment API's body (also one JSON Lines row of the import)."""
        return {
            "employee_id": self.employee_id, "role": self.role, "name": self.name,
            "email": self.email, "department": self.department,
            "career_level": self.career_level, "languages": list(self.languages),
            "time_zone": self.time_zone, "topics_offered": list(self.topics_offered),
            "topics_wanted": list(self.topics_wanted), "preferred_format": self.preferred_format,
            "goals": self.goals, "manager_chain": list(self.manager_chain),
            "manager_id": self.manager_chain[0] if self.manager_chain else None,
            "locale": self.languages[0], "consent": True,
        }


def people_of(unit: Unit, count: int, rng: random.Random) -> list[Person]:
    """``count`` employees of ``unit``: a few more mentors than mentees, as volunteers come."""
    mentors = (count * 52 + 99) // 100
    locale = unit.locale
    prefix = unit.business_unit.removeprefix("bu-").split("-")[0][:4]
    used_addresses: set[str] = set()
    people: list[Person] = []
    seniors: list[Person] = []
    for n in range(count):
        role = "mentor" if n < mentors else "mentee"
        first, last = rng.choice(FIRST[locale]), rng.choice(LAST[locale])
        address = _address(first, last, MAIL_DOMAIN[locale], used_addresses)
        zones, weights = zip(*TIME_ZONES[locale], strict=True)
        languages = [locale]
        if rng.random() < (0.6 if locale == "de" else 0.25):
            languages.append(rng.choice(SECOND_LANGUAGES[locale]))
        junior = role == "mentor"
        offered, wanted = ((DIGITAL_TOPICS, EXPERIENCE_TOPICS) if junior
                           else (EXPERIENCE_TOPICS, DIGITAL_TOPICS))
        people.append(Person(
            employee_id=f"e-{prefix}-{10000 + n}", role=role, name=f"{first} {last}",
            email=address, department=rng.choice(DEPARTMENTS[locale]),
            career_level=rng.randint(1, 4) if junior else rng.randint(5, 10),
            languages=tuple(languages), time_zone=rng.choices(zones, weights)[0],
            topics_offered=tuple(rng.sample(offered, rng.randint(2, 4))),
            topics_wanted=tuple(rng.sample(wanted, rng.randint(1, 3))),
            preferred_format=rng.choices(("either", "video", "in_person"), (6, 3, 1))[0],
            goals=rng.choice(GOALS[locale]),
        ))
    seniors = [p for p in people if p.role == "mentee"]
    return [_with_manager(p, seniors, prefix, rng) for p in people]


def _with_manager(person: Person, seniors: list[Person], prefix: str,
                  rng: random.Random) -> Person:
    """A reporting line upwards: one in five mentors reports to a senior of the cohort."""
    executive = f"e-{prefix}-{rng.randint(1, 40):05d}"
    above = [p for p in seniors if p.career_level > person.career_level
             and p.employee_id != person.employee_id]
    if above and rng.random() < (0.2 if person.role == "mentor" else 0.05):
        manager = rng.choice(above)
        chain = (manager.employee_id, *manager.manager_chain, executive)
    else:
        chain = (f"e-{prefix}-{rng.randint(100, 999):05d}", executive)
    return Person(**{**person.__dict__, "manager_chain": tuple(dict.fromkeys(chain))})


def _address(first: str, last: str, domain: str, used: set[str]) -> str:
    """first.last@domain in ASCII (ü becomes ue, as corporate directories write it), unique."""
    local = ".".join(_ascii(part) for part in (first, last))
    candidate, n = f"{local}@{domain}", 1
    while candidate in used:
        n += 1
        candidate = f"{local}{n}@{domain}"
    used.add(candidate)
    return candidate


def _ascii(text: str) -> str:
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("Ä", "Ae"),
                            ("Ö", "Oe"), ("Ü", "Ue")):
        text = text.replace(umlaut, spelled)
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum() or c == "-")
