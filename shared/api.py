"""HTTP API pieces every service uses: JSON errors, dependencies, request metrics."""

from __future__ import annotations

import dataclasses
import time
from enum import Enum
from typing import Annotated, Any, cast

import asyncpg
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .audit import audited
from .metrics import HTTP_LATENCY
from .refusals import Kind, Refusal


class ErrorBody(BaseModel):
    """Every 4xx/5xx answer has this shape."""

    error: str = Field(description="Machine-readable error code, e.g. not_found, invalid_request.")
    message: str = Field(description="What was wrong and what is accepted.")
    details: list[dict[str, Any]] = Field(
        default_factory=list, description="Per-field problems: field (loc), rule broken (msg)."
    )


class ApiError(Exception):
    """Raise from a route or an HTTP dependency (a token, a body size, a media type) to answer
    with a JSON error; use cases raise shared.refusals.Refusal instead."""

    def __init__(self, status: int, error: str, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.details = [detail] if detail else []


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody},
    401: {"model": ErrorBody, "description": "No token, or an unknown one."},
    403: {"model": ErrorBody, "description": "The token's role or region may not do this."},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}


REFUSAL_STATUS: dict[Kind, int] = {
    Kind.INVALID: 422,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.FORBIDDEN: 403,
    Kind.UNAVAILABLE: 503,
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def _refusal(request: Request, exc: Refusal) -> JSONResponse:
        request.state.error_code = exc.code  # for the audit trail
        body = ErrorBody(error=exc.code, message=exc.message, details=exc.details)
        return JSONResponse(body.model_dump(), status_code=REFUSAL_STATUS[exc.kind])

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        request.state.error_code = exc.error  # for the audit trail
        body = ErrorBody(error=exc.error, message=exc.message, details=exc.details)
        return JSONResponse(body.model_dump(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        request.state.error_code = "invalid_request"
        details = [
            {"field": ".".join(str(p) for p in e["loc"]), "rule": e["msg"]} for e in exc.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['rule']}" for d in details[:5])
        body = ErrorBody(error="invalid_request", message=message, details=details)
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        body = ErrorBody(error=code, message=str(exc.detail))
        return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)


def as_body(value: Any) -> Any:
    """The JSON body of what a use case returns: a domain dataclass becomes a dict of its fields
    (nested ones and those in lists or dicts too) and an enum member its value; FastAPI then
    writes datetimes as ISO text. Routes answer through this one function so a domain value's
    body is the same everywhere."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_body(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [as_body(v) for v in value]
    if isinstance(value, dict):
        return {k: as_body(v) for k, v in value.items()}
    return value


SECRET_PARAMS = ("token", "access_token", "api_token", "api_key")


def install_no_secrets_in_urls(app: FastAPI) -> None:
    """Refuse a credential in the query string: URLs end up in browser history, proxy logs and
    screenshots. Pages get a short-lived board link or a session cookie instead."""

    @app.middleware("http")
    async def _no_token_in_url(request: Request, call_next: Any) -> Any:
        given = [p for p in SECRET_PARAMS if p in request.query_params]
        if not given:
            return await call_next(request)
        body = ErrorBody(
            error="token_in_url",
            message=f"credentials are not accepted in the URL ({', '.join(given)}=); send "
            "Authorization: Bearer <token>, or open the ranking board with a link from "
            "POST /v1/board-links",
            details=[{"field": p, "rule": "not allowed in the query string"} for p in given],
        )
        request.state.error_code = body.error
        return JSONResponse(body.model_dump(), status_code=400)


def install_request_metrics(app: FastAPI, service: str) -> None:
    @app.middleware("http")
    async def _timed(request: Request, call_next: Any) -> Any:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_LATENCY.labels(
            service, request.method, template, f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


def get_pool(request: Request) -> asyncpg.Pool:
    pool = request.app.state.runtime.pool
    if pool is None:
        raise ApiError(503, "starting", "the service is starting; try again shortly")
    # a state-changing request gets the pool whose transactions write its audit row
    return cast(asyncpg.Pool, audited(pool, request))


Pool = Annotated[asyncpg.Pool, Depends(get_pool)]
