"""The administrator's audit chain page (issue 14): status, a verify button that names the first broken
entry, the verification itself audited; only roles with the duty reach it."""

from __future__ import annotations

from db.audit import chain
from db.audit.record import record
from db.audit.tables import AuditEntry
from db.core.actor import Actor
from tests.helpers import http_client, make_staff, post_form, sign_in


async def test_admin_verifies_the_chain_and_sees_the_edited_entry_named():
    await make_staff("admin", "zhaolei")
    for i in range(5):
        await record(Actor(3, "李娜", "seller"), "order.pay", "order", f"TC{i}")
    async with http_client() as client:
        await sign_in(client, "zhaolei")
        page = await client.get("/admin/audit-chain")
        assert page.status_code == 200 and "审计链校验" in page.text and 'href="/admin/audit-chain"' in page.text
        ok = await post_form(client, "/admin/audit-chain/verify", headers={"HX-Request": "true"})
        assert ok.status_code == 200 and 'data-testid="chain-ok"' in ok.text and "<html" not in ok.text
        row = await AuditEntry.select(AuditEntry.id, AuditEntry.chain_seq).where(AuditEntry.object_id == "TC2").first()
        target, place = row["id"], row["chain_seq"]
        await AuditEntry.update({AuditEntry.summary: "改过"}).where(AuditEntry.id == target)
        broken = await post_form(client, "/admin/audit-chain/verify")
        assert 'data-testid="chain-broken"' in broken.text
        assert f"记录 #{target}（链中第 {place} 位）在封存后被修改" in broken.text
    checks = await AuditEntry.select().where(AuditEntry.action == "audit.verify").order_by(AuditEntry.id)
    assert [c["actor_name"] for c in checks] == ["zhaolei", "zhaolei"]
    assert checks[0]["summary"] == "ok" and f"Entry #{target} " in checks[1]["summary"]
    assert (await chain.verify()).problem.entry == target


async def test_sellers_do_not_reach_the_chain_page():
    await make_staff("seller", "lina")
    async with http_client() as client:
        await sign_in(client, "lina")
        assert (await client.get("/admin/audit-chain")).status_code == 403
