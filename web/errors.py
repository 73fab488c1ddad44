"""Errors as users should see them: an RFC 9457 problem body under /api, a page (or an HTMX-friendly
fragment) elsewhere; never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from db.core.errors import DomainError, InvalidInputs
from web.i18n import gettext
from web.labels import ORDER_STATUS

log = logging.getLogger("ticketcenter.web")

TITLES = {
    400: "Bad request",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Something went wrong",
}


class Problem(msgspec.Struct):
    """An error answer of the JSON APIs (RFC 9457, media type application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str  # what went wrong and what to do, in the request's language
    field: str | None = None  # the input field at fault, when one is
    errors: list[dict[str, Any]] | None = None  # each invalid parameter (400 from request validation)


def problem_responses(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI documentation of the problem answers an API handler gives, for partners' generated clients."""
    return {
        code: ResponseSpec(
            data_container=Problem,
            description=TITLES[code],
            media_type="application/problem+json",
            generate_examples=False,
        )
        for code in codes
    }


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(status: int, detail: str, headers: dict[str, str] | None = None, **extra: object) -> Response:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail, **extra}
    return Response(content=body, status_code=status, media_type="application/problem+json", headers=headers)


def error_page(request: Request, status: int, message: str) -> Response:
    # A path no route matches never passes the session middleware: render it as signed out.
    request.scope.setdefault("user", None)
    return Template(
        "errors/error.html",
        context={"status": status, "title": gettext(TITLES.get(status, "Error")), "message": message},
        status_code=status,
    )


def explain(exc: DomainError) -> str:
    """A domain error's message in the request's language; an order status in it reads as staff name it."""
    params = {
        name: gettext(ORDER_STATUS[value]) if name == "status" and value in ORDER_STATUS else value
        for name, value in exc.params.items()
    }
    return gettext(exc.message, **params)


def handle_domain_error(request: Request, exc: DomainError) -> Response:
    message = explain(exc)
    if is_api(request):
        extra = {"field": exc.field} if exc.field else {}
        extra |= getattr(exc, "problem_extra", {})  # e.g. a refused refund's reason code
        if isinstance(exc, InvalidInputs):  # every refused field at once
            extra["errors"] = [{"field": e.field, "detail": explain(e)} for e in exc.errors]
        return problem(exc.status_code, message, **extra)
    return error_page(request, exc.status_code, message)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if is_api(request):
        extra = {"errors": exc.extra} if isinstance(exc, ValidationException) and exc.extra else {}
        return problem(status, exc.detail, headers=exc.headers, **extra)  # e.g. Allow on a 405
    if isinstance(exc, NotAuthorizedException):
        if request.headers.get("hx-request"):
            return Response(content="", status_code=401, headers={"HX-Redirect": "/login"})
        return Redirect(f"/login?next={request.url.path}", status_code=303)
    if isinstance(exc, PermissionDeniedException):
        user = request.scope.get("user")
        if user is not None and user.must_enrol:  # a role that signs in with two steps, not set up yet
            return Redirect("/account/two-factor", status_code=303)
        return error_page(request, 403, gettext("Your role does not allow this. Ask a supervisor if you need it."))
    if status == 404:
        return error_page(request, 404, gettext("This page does not exist. Check the address or go back home."))
    message = gettext(TITLES.get(status, "Error")) if status >= 500 else exc.detail
    page = error_page(request, status, message)
    page.headers.update(exc.headers or {})
    return page


def handle_too_deep(request: Request, exc: RecursionError) -> Response:
    """A JSON body nested deeper than the decoder goes (thousands of brackets): refused, not a 500."""
    message = gettext("The request body is nested too deeply.")
    return problem(400, message) if is_api(request) else error_page(request, 400, message)


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    if is_api(request):
        return problem(500, "Internal error; the request was not completed.")
    return error_page(
        request, HTTP_500_INTERNAL_SERVER_ERROR, gettext("The request was not completed. Try again; nothing was saved.")
    )


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    HTTPException: handle_http_exception,
    RecursionError: handle_too_deep,
    Exception: handle_unexpected,
}
