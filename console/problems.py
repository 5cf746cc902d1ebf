"""What a refusal or an outage says to a person: a heading and a sentence in their language.

The services answer problem+json (RFC 9457) with an English ``title`` and ``detail`` and a
type ``urn:revmentor:problem:<code>``. A known code gets its own translated sentence; any other
problem shows its title and detail as the service wrote them. Never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from console.platform import ServiceDown, ServiceProblem


def N_(message: str) -> str:
    """Marks a message for extraction; translated when shown."""
    return message


SERVICE_NAMES = {"enrolment": N_("enrolment"), "matching": N_("matching"),
                 "sessions": N_("sessions"), "notifications": N_("notifications")}

BY_CODE = {
    "cohort-not-found": N_("This cohort does not exist, or it belongs to another business unit."),
    "participant-not-found": N_("This participant was not found in your business unit."),
    "pair-not-found": N_("This pair was not found, or you are not part of it."),
    "round-not-found": N_("This matching round was not found."),
    "mentorship-not-found": N_("This mentorship was not found, or you are not part of it."),
    "session-not-found": N_("This session was not found, or you are not part of it."),
    "cohort-closed": N_("The cohort is closed: nobody can enrol any more."),
    "enrolment-not-open": N_("Enrolment has not opened yet."),
    "already-enrolled": N_("This person is already enrolled in the cohort."),
    "consent-required": N_("Enrolment needs your explicit consent."),
    "level-does-not-fit-policy": N_(
        "The career level does not fit the cohort's level gap for this role."),
    "no-common-language": N_("None of the languages is one the cohort runs in."),
    "unknown-time-zone": N_("The time zone is not a known IANA time zone."),
    "invalid-window": N_("The enrolment window must end in the future, after it opens."),
    "invalid-upload": N_("The file cannot be imported."),
    "import-too-large": N_("The file has too many rows; the rows before the limit were imported."),
    "round-published": N_("This round is already published and can no longer change."),
    "draft-superseded": N_("A newer draft replaced this one; open the latest draft."),
    "pair-not-open": N_("This proposal is no longer open for an answer."),
    "pair-breaks-rules": N_("This pair would break one of the cohort's matching rules."),
    "start-in-past": N_("The session cannot start in the past."),
    "start-too-far-ahead": N_("The session cannot start more than a year ahead."),
    "duration-out-of-range": N_("A session lasts between 15 and 240 minutes."),
    "video-link-required": N_("A video session needs an https meeting link."),
    "location-required": N_("A session in person needs a place."),
    "session-overlaps": N_("The session overlaps another session of this mentorship."),
    "session-not-started": N_("The session has not started yet."),
    "session-not-held": N_("Feedback can be given once the session was held."),
    "session-cancelled": N_("This session was cancelled."),
    "session-already-held": N_("This session was already held."),
    "feedback-already-given": N_("You already gave feedback on this session."),
    "feedback-window-closed": N_("The time for feedback on this session is over."),
    "mentorship-ended": N_("This mentorship has ended."),
    "participant-withdrawn": N_("This person withdrew from the programme."),
}
BY_STATUS = {
    401: N_("Your sign-in has expired. Please sign in again."),
    403: N_("You are not allowed to do this."),
    404: N_("Not found. It does not exist, or it belongs to another business unit."),
    409: N_("This conflicts with the current state."),
    413: N_("The upload is too large."),
    422: N_("Some of the values are not valid."),
}


@dataclass(frozen=True)
class Notice:
    """A readable message: heading, sentence, the service's own detail, and an HTTP status."""

    heading: str
    message: str
    detail: str
    status: int


def notice_of(error: ServiceProblem | ServiceDown, gettext: Callable[[str], str]) -> Notice:
    if isinstance(error, ServiceDown):
        name = gettext(SERVICE_NAMES.get(error.service, error.service))
        return Notice(gettext("Service unavailable"),
                      gettext("The %(service)s service does not answer right now. "
                              "Please try again in a moment.") % {"service": name}, "", 503)
    message = BY_CODE.get(error.code or "") or BY_STATUS.get(error.status)
    heading = gettext("Not found") if error.status == 404 else gettext("That did not work")
    if error.status == 503:
        return Notice(gettext("Service busy"),
                      gettext("The service is busy. Please try again in a moment."), "", 503)
    if message is None:
        return Notice(heading, error.title, error.detail, error.status)
    return Notice(heading, gettext(message), error.detail if error.status == 422 else "",
                  error.status)
