"""HTTP routes of the notifications service: the delivery log and webhook endpoints for
programme admins, preferences for participants.

Each route parses, authorises (the token's role and business unit), calls one command and
renders a view. Another business unit's delivery or endpoint is a 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from contracts.notifications import Channel
from services.notifications.commands import NotificationsCommands
from services.notifications.domain import DeliveryStatus
from services.notifications.schemas import (
    DeliveryPage,
    DeliveryView,
    EndpointCreatedView,
    EndpointRequest,
    EndpointView,
    PingView,
    Preferences,
)
from services.notifications.store import LogFilter
from services.runtime.auth import Admin, ParticipantOnly
from services.runtime.errors import NotFound
from services.runtime.openapi import problems


def routes(commands: NotificationsCommands) -> APIRouter:
    router = APIRouter(tags=["notifications"])

    @router.get("/deliveries", response_model=DeliveryPage)
    async def delivery_log(
        who: Admin,
        participant_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        template: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        status: DeliveryStatus | None = None,
        channel: Channel | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        before: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    ) -> DeliveryPage:
        """Your business unit's deliveries, newest first."""
        where = LogFilter(participant_id, template, status, channel)
        items = await commands.log(who.business_unit, where, limit, before)
        return DeliveryPage(items=[DeliveryView.of(d) for d in items],
                            next_before=items[-1].delivery_id if len(items) == limit else None)

    @router.get("/deliveries/{delivery_id}", response_model=DeliveryView)
    async def read_delivery(delivery_id: str, who: Admin) -> DeliveryView:
        return DeliveryView.of(await commands.delivery(who.business_unit, delivery_id))

    @router.post("/webhooks", status_code=201, response_model=EndpointCreatedView,
                 responses=problems(409))
    async def register_endpoint(body: EndpointRequest, who: Admin) -> EndpointCreatedView:
        """Subscribe an endpoint; the answer holds its signing secret, shown this once."""
        endpoint = await commands.register(who.business_unit, body.url, body.event_types,
                                           body.format, body.description)
        return EndpointCreatedView.created(endpoint)

    @router.get("/webhooks", response_model=list[EndpointView])
    async def list_endpoints(who: Admin) -> list[EndpointView]:
        return [EndpointView.of(e) for e in await commands.endpoints_of(who.business_unit)]

    @router.get("/webhooks/{endpoint_id}", response_model=EndpointView)
    async def read_endpoint(endpoint_id: str, who: Admin) -> EndpointView:
        return EndpointView.of(await commands.endpoint(who.business_unit, endpoint_id))

    @router.delete("/webhooks/{endpoint_id}", status_code=204, response_class=Response)
    async def remove_endpoint(endpoint_id: str, who: Admin) -> Response:
        await commands.remove(who.business_unit, endpoint_id)
        return Response(status_code=204)

    @router.post("/webhooks/{endpoint_id}/enable", response_model=EndpointView)
    async def enable_endpoint(endpoint_id: str, who: Admin) -> EndpointView:
        """Send to an endpoint again after it was disabled for failing."""
        return EndpointView.of(await commands.enable(who.business_unit, endpoint_id))

    @router.post("/webhooks/{endpoint_id}/ping", response_model=PingView)
    async def ping_endpoint(endpoint_id: str, who: Admin) -> PingView:
        """Send a signed test event now; the answer says how the endpoint took it."""
        return PingView.of(await commands.ping(who.business_unit, endpoint_id))

    @router.get("/me/preferences", response_model=Preferences)
    async def my_preferences(who: ParticipantOnly) -> Preferences:
        opt_out = await commands.preferences(who.business_unit, _acting(who.acting_participant))
        return Preferences(email_opt_out=opt_out.get(Channel.EMAIL.value, False))

    @router.put("/me/preferences", response_model=Preferences)
    async def set_my_preferences(body: Preferences, who: ParticipantOnly) -> Preferences:
        """Opt out of (or back in to) e-mail in every cohort of your business unit."""
        await commands.set_preferences(who.business_unit, _acting(who.acting_participant),
                                       {Channel.EMAIL.value: body.email_opt_out})
        return body

    return router


def _acting(participant_id: str | None) -> str:
    if participant_id is None:
        raise NotFound("participant-not-found", "the token speaks for no participant")
    return participant_id
