"""The refund and exchange rules in force are in the partner API's event data, before payment (issue 11,
R5.1): structured tiers plus the text in Chinese and English; an event's own version replaces the default."""

from __future__ import annotations

from db.sales.aftersale import policies
from db.sales.aftersale.rules import Rules, Tier
from tests.aftersale.support import SUPERVISOR, staff
from tests.helpers import http_client
from tests.sales.support import AUTH, sales_catalog

OWN = Rules((Tier(72, 10, min_fee_fen=2000, max_fee_fen=8000),), exchange_allowed=False, whole_order_only=True)


async def test_events_carry_the_rules_in_force_structured_and_in_both_languages():
    ids = await sales_catalog()
    await staff()
    default = (await policies.history())[-1].version
    own = await policies.save_version(SUPERVISOR, OWN.as_json(), reason="大型演出专用规则", event_id=ids["show"])
    async with http_client() as client:
        events = {e["name"]: e for e in (await client.get("/api/v1/events", headers=AUTH)).json()}
    show, walk = events["测试演出"]["rules"], events["测试景区"]["rules"]
    assert show["policy_version"] == own.version != default == walk["policy_version"]
    assert show["refund_tiers"] == [{"hours_before": 72, "percent": 10, "min_fee_fen": 2000, "max_fee_fen": 8000}]
    assert show["exchange_allowed"] is False and show["exchange_tiers"] == [] and show["whole_order_only"] is True
    assert "From 72 hours before the start: refund less 10% of the price." in show["text"]["en"]
    assert "No exchanges." in show["text"]["en"] and "Whole orders only." in show["text"]["en"]
    assert any("72 小时" in line and "10%" in line for line in show["text"]["zh_CN"])
    assert not any("From" in line for line in show["text"]["zh_CN"])  # every line translated
    assert [t["hours_before"] for t in walk["refund_tiers"]] == [48, 24] and walk["exchange_allowed"] is True
    assert len(walk["text"]["zh_CN"]) == len(walk["text"]["en"])


async def test_the_schema_documents_the_rules_field():
    await sales_catalog()
    async with http_client() as client:
        schema = (await client.get("/schema/openapi.json")).json()
    event = schema["components"]["schemas"]["Event"]
    assert "rules" in event["properties"] and "rules" in event["required"]
    assert any("RulesOut" in name for name in schema["components"]["schemas"])
