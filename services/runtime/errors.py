"""The errors a rule raises when a request or command cannot be carried out.

One family for every service, free of any framework so that domain modules can raise it: a
:class:`Violation` names the broken rule in ``code`` (kebab-case, e.g. ``cohort-closed``) and
carries what a client needs to correct the request in ``extra``. The HTTP layer renders it as
problem+json of type ``urn:revmentor:problem:<code>``, with the status its class stands for.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_TYPE_PREFIX = "urn:revmentor:problem:"


class Violation(Exception):
    """A request breaks a rule; ``code`` names the rule and becomes the problem type."""

    status: ClassVar[int] = 422

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code, self.detail, self.extra = code, detail, extra

    @property
    def problem_type(self) -> str:
        return f"{PROBLEM_TYPE_PREFIX}{self.code}"

    @property
    def title(self) -> str:
        return self.code.replace("-", " ").capitalize()


class Invalid(Violation):
    """The request can never succeed as stated (HTTP 422)."""

    status = 422


class Conflict(Violation):
    """The request conflicts with the current state of what it acts on (HTTP 409)."""

    status = 409


class NotFound(Violation):
    """No such thing, or not one the caller may see (HTTP 404: existence never leaks)."""

    status = 404


class Forbidden(Violation):
    """The caller may see the thing but not do this to it (HTTP 403)."""

    status = 403
