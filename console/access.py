"""Who may see a page: the signed-in person and the platform acting with their token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from console.platform import Caller
from console.visits import Person, visit_of


class NotSignedIn(Exception):
    """No one is signed in: the page sends the browser to the sign-in."""


class NotAllowed(Exception):
    """Signed in, but without the role the page needs."""


@dataclass(frozen=True)
class Viewer:
    person: Person
    platform: Caller


async def signed_in(request: Request) -> Viewer:
    visit = visit_of(request)
    if visit.person is None or visit.token is None:
        raise NotSignedIn
    return Viewer(visit.person, request.app.state.platform.acting_as(visit.token))


async def admin(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    if not viewer.person.is_admin:
        raise NotAllowed
    return viewer


async def participant(viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    if not viewer.person.is_participant:
        raise NotAllowed
    return viewer


SignedIn = Annotated[Viewer, Depends(signed_in)]
Admin = Annotated[Viewer, Depends(admin)]
Participant = Annotated[Viewer, Depends(participant)]
