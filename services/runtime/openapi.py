"""Every status a route can answer, in its OpenAPI document, as problem+json.

The operations routes (``/healthz``, ``/readyz``, ``/metrics``) document their own answers.

A client generated from the document, or a contract test such as schemathesis, must find every
error it can meet: 401 and 403 where a token is required, 404 where a path names something, 409
where a route says state can conflict, 400 (not parseable) and 413 (too large) where there is a
body, 422 where anything is parsed,
503 when the database is down. FastAPI documents only 200 and its own 422 (as
``application/json``); :func:`document_problems` completes the document once, when it is first
served, with one shared ``ProblemDetails`` schema under ``application/problem+json``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field

PROBLEM = "application/problem+json"
_REF = "#/components/schemas/ProblemDetails"


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where in the request: body, query, path, header.")
    msg: str
    type: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details; a broken rule adds what the client needs to correct it."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:revmentor:problem:<code> for a broken rule, else "
                      "about:blank.")
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] | None = Field(None, description="Each invalid field (422).")


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that can also answer ``statuses`` (409, 413, 415…)."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def document_problems(app: FastAPI) -> None:
    """Serve an OpenAPI document that lists every problem each route can answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                             description=app.description)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                if "operations" not in operation.get("tags", ()):
                    _complete(operation["responses"], _statuses(operation))
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        components.update(_problem_schemas())
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _statuses(operation: dict[str, Any]) -> set[int]:
    """The problems every operation of this kind can answer, beyond what it declared itself."""
    statuses = {503}
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        statuses |= {401, 403}
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if "requestBody" in operation:
        statuses |= {400, 413}
    if parameters or "requestBody" in operation:
        statuses.add(422)
    return statuses


def _complete(responses: dict[str, Any], statuses: set[int]) -> None:
    for status in statuses:
        responses.setdefault(str(status), {"description": HTTPStatus(status).phrase})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            response["content"] = {PROBLEM: {"schema": {"$ref": _REF}}}


def _problem_schemas() -> dict[str, Any]:
    schema = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    return {"ProblemDetails": schema, **definitions}
