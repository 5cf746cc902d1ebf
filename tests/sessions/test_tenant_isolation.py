"""Another business unit sees nothing; participants act only on their own mentorships."""

from __future__ import annotations

import pytest

from services.runtime.auth import PARTICIPANT, PROGRAMME_ADMIN
from tests.sessions.conftest import MENTEE, MENTOR, OTHER_TENANT, SessionsHarness

pytestmark = pytest.mark.integration


async def one_of_each(h: SessionsHarness) -> tuple[str, str]:
    """A mentorship with a held session on which the mentee gave feedback."""
    await h.open_cohort(session_target=3)
    pair_id = await h.mentorship()
    session = await h.schedule(pair_id)
    await h.held(session["session_id"])
    assert (await h.feedback(session["session_id"], MENTEE)).status_code == 201
    return pair_id, str(session["session_id"])


def every_call(h: SessionsHarness, pair_id: str, session_id: str
               ) -> list[tuple[str, str, str, object]]:
    """``(method, url, caller, body)`` for every route that names something."""
    s, m, c = f"/sessions/{session_id}", f"/mentorships/{pair_id}", f"/cohorts/{h.cohort_id}"
    return [
        ("GET", f"{c}/mentorships", "admin", None),
        ("GET", f"{c}/kpis", "admin", None),
        ("POST", f"{m}/end", "admin", {"reason": "moved_role"}),
        ("GET", m, "admin", None),
        ("GET", m, "member", None),
        ("GET", f"{m}/sessions", "member", None),
        ("GET", s, "member", None),
        ("POST", f"{m}/sessions", "member", h.plan(in_hours=5)),
        ("POST", f"{s}/reschedule", "member", h.plan(in_hours=6)),
        ("POST", f"{s}/cancel", "member", {"reason": "other"}),
        ("POST", f"{s}/held", "member", None),
        ("POST", f"{s}/feedback", "member", {"rating": 3, "learned_something": True}),
        ("GET", f"{s}/feedback", "member", None),
    ]


async def test_every_endpoint_answers_404_to_another_business_unit(harness: SessionsHarness):
    h = harness
    pair_id, session_id = await one_of_each(h)
    callers = {"admin": h.admin(OTHER_TENANT), "member": h.participant(MENTEE, OTHER_TENANT)}
    for method, url, caller, body in every_call(h, pair_id, session_id):
        response = await h.http.request(method, url, headers=callers[caller], json=body)
        assert response.status_code == 404, (method, url, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await h.http.get("/me/mentorships", headers=callers["member"])).json() == []
    kpis = (await h.http.get("/kpis", headers=callers["admin"])).json()
    assert (kpis["mentorships"]["confirmed"], kpis["sessions"]["scheduled"]) == (0, 0)


async def test_a_participant_outside_the_pair_gets_its_404_everywhere(harness: SessionsHarness):
    h = harness
    pair_id, session_id = await one_of_each(h)
    stranger = h.participant("e-3001")
    for method, url, caller, body in every_call(h, pair_id, session_id):
        if caller != "member":
            continue
        response = await h.http.request(method, url, headers=stranger, json=body)
        assert response.status_code == 404, (method, url, response.status_code)
    assert (await h.http.get("/me/mentorships", headers=stranger)).json() == []


async def test_an_admin_reads_but_never_acts_for_a_member(harness: SessionsHarness):
    h = harness
    pair_id, session_id = await one_of_each(h)
    admin_only = h.admin()
    both = h.token(roles=[PROGRAMME_ADMIN, PARTICIPANT], subject="admin-2",
                   participant_id="e-3001")
    assert (await h.http.get(f"/sessions/{session_id}", headers=both)).json()["details"] is None
    for method, url, caller, body in every_call(h, pair_id, session_id):
        if caller != "member" or (method == "GET" and "feedback" not in url):
            continue
        assert (await h.http.request(method, url, headers=admin_only, json=body)
                ).status_code == 403, (method, url)
        assert (await h.http.request(method, url, headers=both, json=body)
                ).status_code == 404, (method, url)
    mentorship = await h.sessions.store.mentorship("bu-retail", pair_id)
    assert mentorship is not None and mentorship.sessions_planned == 1
    assert (await h.http.get(f"/mentorships/{pair_id}", headers=h.participant(MENTOR))
            ).status_code == 200
