"""The audit chain page (R6.3, issue 14): the chain's head and last seal, and a button that walks the whole
chain and names the first entry edited or deleted (the same check as `python -m db.audit verify`)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Template

from db.audit import chain
from db.audit.record import record
from db.staff.permissions import Permission
from web.auth import requires
from web.i18n import gettext
from web.templating import render


@get("/admin/audit-chain", guards=[requires(Permission.AUDIT_CHAIN_VERIFY)], name="admin-audit-chain")
async def audit_chain_page(request: Request) -> Template:
    return render(request, "admin/audit_chain.html", status=await chain.status(), verdict=None, problem=None)


@post("/admin/audit-chain/verify", guards=[requires(Permission.AUDIT_CHAIN_VERIFY)])
async def verify_chain(request: Request) -> Template:
    await chain.seal()
    verdict = await chain.verify()
    problem = verdict.problem.text(gettext) if verdict.problem else None
    await record(
        request.user.actor,
        "audit.verify",
        "audit_chain",
        verdict.head_seq,
        summary=verdict.problem.text() if verdict.problem else "ok",
        after={"checked": verdict.checked, "ok": verdict.ok},
    )
    return render(
        request,
        "admin/audit_chain.html",
        partial="admin/_audit_verdict.html",
        status_code=200,
        status=await chain.status(),
        verdict=verdict,
        problem=problem,
    )


ROUTES = [audit_chain_page, verify_chain]
NAV = [(Permission.AUDIT_CHAIN_VERIFY, "/admin/audit-chain", "Audit chain")]
