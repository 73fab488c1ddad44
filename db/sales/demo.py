"""Demo sales policy and the demo partner: channel policies, group tiers, the four concession kinds,
and the partner 票多多开放平台 with the API key `demo-partner-key`. Safe to run twice."""

from __future__ import annotations

from db.core.actor import Actor
from db.sales.aftersale.policies import ensure_default as ensure_default_refund_policy
from db.sales.channels.partners import create_partner_key, key_hash
from db.sales.ordering.pricing import Tier
from db.sales.policy import save_concession_kind, set_channel_policy, set_group_tiers
from db.sales.tables import ChannelPolicy, ConcessionKind, GroupDiscountTier, PartnerKey

DEMO_PARTNER = "票多多开放平台"
DEMO_PARTNER_KEY = "demo-partner-key"

CHANNEL_POLICIES = [("box_office", False, 15), ("partner", False, 15), ("web_shop", False, 15), ("outlet", True, 60)]
GROUP_TIERS = [Tier(10, 10), Tier(30, 15), Tier(50, 20)]
CONCESSIONS = [
    ("student", "学生", "Student", "学生证（全日制在校生）"),
    ("military", "军人", "Military", "军官证、士兵证或退役军人证"),
    ("disabled", "残疾人", "Disabled", "中华人民共和国残疾人证"),
    ("senior", "老年人", "Senior", "身份证，年满 60 周岁"),
]


async def load(actor: Actor) -> None:
    await ensure_default_refund_policy(actor)
    if not await ChannelPolicy.exists():
        for channel, needs_audit, minutes in CHANNEL_POLICIES:
            await set_channel_policy(actor, channel, needs_audit, minutes)
    if not await GroupDiscountTier.exists():
        await set_group_tiers(actor, GROUP_TIERS)
    if not await ConcessionKind.exists():
        for code, zh, en, hint in CONCESSIONS:
            await save_concession_kind(actor, code, zh, en, percent_off=50, requires_id=True, id_hint=hint)
    if not await PartnerKey.exists().where(PartnerKey.key_sha256 == key_hash(DEMO_PARTNER_KEY)):
        await create_partner_key(actor, DEMO_PARTNER, DEMO_PARTNER_KEY)
