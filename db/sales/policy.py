"""Sales policy as data (R1.1): per-channel audit and hold time, the buyer details a sale needs per event kind
and channel (versioned), group tiers, concession kinds.

Editing needs POLICY_EDIT (the web guard); every change leaves an audit record."""

from __future__ import annotations

from db.audit.record import record
from db.catalog.operations import EVENT_KINDS
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.engine import engine_name
from db.core.errors import InvalidInput, NotFound
from db.core.transaction import queued_write
from db.sales.ordering.buyer import BUYER_DETAILS, DEFAULT_BUYER_DETAILS, SHOP_DEFAULT_BUYER_DETAILS
from db.sales.ordering.pricing import ConcessionRule, Tier
from db.sales.status import CHANNELS, ONLINE_CHANNELS
from db.sales.tables import BuyerDetailsPolicy, ChannelPolicy, ConcessionKind, GroupDiscountTier

DEFAULT_HOLD_MINUTES = 15
_BUYER_POLICY_LOCK = 0x7C_B0E15  # pg_advisory_xact_lock key of a new buyer details version (SQLite: queued writes)


async def channel_policy(channel: str) -> tuple[bool, int]:
    """(needs_audit, hold_minutes) of a channel; a channel without a row needs no audit, 15 minutes."""
    row = (
        await ChannelPolicy.select(ChannelPolicy.needs_audit, ChannelPolicy.hold_minutes)
        .where(ChannelPolicy.channel == channel)
        .first()
    )
    return (row["needs_audit"], row["hold_minutes"]) if row else (False, DEFAULT_HOLD_MINUTES)


async def list_channel_policies() -> list[dict]:
    return await ChannelPolicy.select().order_by(ChannelPolicy.channel)


async def set_channel_policy(actor: Actor, channel: str, needs_audit: bool, hold_minutes: int) -> None:
    if channel not in CHANNELS:
        raise InvalidInput("Unknown sales channel: {channel}", field="channel", channel=channel)
    if not 1 <= hold_minutes <= 7 * 24 * 60:
        raise InvalidInput("The hold time must be between 1 minute and 7 days.", field="hold_minutes")
    async with queued_write(ChannelPolicy._meta.db):
        row = await ChannelPolicy.objects().where(ChannelPolicy.channel == channel).first()
        before = {"needs_audit": row.needs_audit, "hold_minutes": row.hold_minutes} if row else None
        if row is None:
            await ChannelPolicy.insert(
                ChannelPolicy(channel=channel, needs_audit=needs_audit, hold_minutes=hold_minutes, updated_at=utcnow())
            )
        else:
            await ChannelPolicy.update(
                {
                    ChannelPolicy.needs_audit: needs_audit,
                    ChannelPolicy.hold_minutes: hold_minutes,
                    ChannelPolicy.updated_at: utcnow(),
                }
            ).where(ChannelPolicy.id == row.id)
        await record(
            actor,
            "policy.channel",
            "channel_policy",
            channel,
            before=before,
            after={"needs_audit": needs_audit, "hold_minutes": hold_minutes},
        )


def parse_buyer_details(stored: str | None, channel: str) -> frozenset[str]:
    """A stored version's details ("name,phone"); None (no version yet) is the channel's default."""
    if stored is None:
        return SHOP_DEFAULT_BUYER_DETAILS if channel == "web_shop" else DEFAULT_BUYER_DETAILS
    return frozenset(d for d in stored.split(",") if d in BUYER_DETAILS)


async def buyer_details_needed(event_kind: str, channel: str) -> frozenset[str]:
    """What a sale of this kind of event on this channel asks the buyer for (the latest version)."""
    row = (
        await BuyerDetailsPolicy.select(BuyerDetailsPolicy.details)
        .where((BuyerDetailsPolicy.event_kind == event_kind) & (BuyerDetailsPolicy.channel == channel))
        .order_by(BuyerDetailsPolicy.version, ascending=False)
        .first()
    )
    return parse_buyer_details(row["details"] if row else None, channel)


async def buyer_policies() -> list[dict]:
    """Every event kind and channel with the details its sales ask for now and that version's number and author
    (version 0: never changed, the default)."""
    rows = await BuyerDetailsPolicy.select().order_by(BuyerDetailsPolicy.version)
    latest = {(r["event_kind"], r["channel"]): r for r in rows}  # the highest version wins
    out = []
    for kind in EVENT_KINDS:
        for channel in CHANNELS:
            row = latest.get((kind, channel))
            out.append(
                {
                    "event_kind": kind,
                    "channel": channel,
                    "details": parse_buyer_details(row["details"] if row else None, channel),
                    "version": row["version"] if row else 0,
                    "created_at": row["created_at"] if row else None,
                    "created_by": row["created_by"] if row else "",
                }
            )
    return out


async def set_buyer_details(actor: Actor, event_kind: str, channel: str, details: set[str]) -> int:
    """A new version of what sales of `event_kind` on `channel` ask the buyer for; returns its number. An online
    sale needs a phone or an e-mail: the e-ticket goes there."""
    if event_kind not in EVENT_KINDS:
        raise InvalidInput("Choose the kind of event.", field="event_kind")
    if channel not in CHANNELS:
        raise InvalidInput("Unknown sales channel: {channel}", field="channel", channel=channel)
    if unknown := set(details) - set(BUYER_DETAILS):
        raise InvalidInput("Unknown buyer detail: {detail}", field="details", detail=", ".join(sorted(unknown)))
    if channel in ONLINE_CHANNELS and not details & {"phone", "email"}:
        raise InvalidInput(
            "An online sale needs the buyer's phone or e-mail: the e-tickets are sent there.", field="details"
        )
    stored = ",".join(d for d in BUYER_DETAILS if d in details)
    db = BuyerDetailsPolicy._meta.db
    async with queued_write(db):
        if engine_name(db) == "postgresql":  # saves at the same moment take their numbers one after another
            await BuyerDetailsPolicy.raw("SELECT pg_advisory_xact_lock({})", _BUYER_POLICY_LOCK).run()
        current = (
            await BuyerDetailsPolicy.select(BuyerDetailsPolicy.details, BuyerDetailsPolicy.version)
            .where((BuyerDetailsPolicy.event_kind == event_kind) & (BuyerDetailsPolicy.channel == channel))
            .order_by(BuyerDetailsPolicy.version, ascending=False)
            .first()
        )
        version = (current["version"] if current else 0) + 1
        await BuyerDetailsPolicy.insert(
            BuyerDetailsPolicy(
                event_kind=event_kind,
                channel=channel,
                details=stored,
                version=version,
                created_at=utcnow(),
                created_by=actor.name,
            )
        )
        await record(
            actor,
            "policy.buyer_details",
            "buyer_policy",
            f"{event_kind}/{channel}",
            before={"details": sorted(parse_buyer_details(current["details"] if current else None, channel))},
            after={"details": sorted(parse_buyer_details(stored, channel)), "version": version},
        )
    return version


async def group_tiers() -> list[Tier]:
    rows = await GroupDiscountTier.select(GroupDiscountTier.min_size, GroupDiscountTier.percent_off).order_by(
        GroupDiscountTier.min_size
    )
    return [Tier(r["min_size"], r["percent_off"]) for r in rows]


async def set_group_tiers(actor: Actor, tiers: list[Tier]) -> None:
    """Replace the group discount policy (R3.5) with `tiers`."""
    sizes = [t.min_size for t in tiers]
    if len(set(sizes)) != len(sizes) or any(t.min_size < 2 for t in tiers):
        raise InvalidInput("Each group tier needs its own minimum size of at least 2.", field="min_size")
    if any(not 0 <= t.percent_off <= 100 for t in tiers):
        raise InvalidInput("A discount must be between 0 and 100 percent.", field="percent_off")
    async with queued_write(ChannelPolicy._meta.db):
        before = [{"min_size": t.min_size, "percent_off": t.percent_off} for t in await group_tiers()]
        await GroupDiscountTier.delete(force=True)
        if tiers:
            await GroupDiscountTier.insert(
                *[GroupDiscountTier(min_size=t.min_size, percent_off=t.percent_off, updated_at=utcnow()) for t in tiers]
            )
        await record(
            actor,
            "policy.group_tiers",
            "group_tier",
            "",
            before={"tiers": before},
            after={"tiers": [{"min_size": t.min_size, "percent_off": t.percent_off} for t in tiers]},
        )


async def concession_kinds(active_only: bool = True) -> list[dict]:
    query = ConcessionKind.select().order_by(ConcessionKind.id)
    if active_only:
        query = query.where(ConcessionKind.active == True)  # noqa: E712
    return await query


async def concession_rules(codes: set[str]) -> dict[str, ConcessionRule]:
    """The active concession kinds named by `codes`; an unknown or inactive one is refused."""
    if not codes:
        return {}
    rows = await ConcessionKind.select().where(ConcessionKind.code.is_in(list(codes)) & (ConcessionKind.active == True))  # noqa: E712
    rules = {
        r["code"]: ConcessionRule(r["code"], r["percent_off"], r["fixed_price_fen"], r["requires_id"]) for r in rows
    }
    if missing := codes - rules.keys():
        raise InvalidInput("Unknown concession kind: {kind}", field="concession", kind=", ".join(sorted(missing)))
    return rules


async def save_concession_kind(
    actor: Actor,
    code: str,
    name_zh: str,
    name_en: str,
    *,
    percent_off: int | None = None,
    fixed_price_fen: int | None = None,
    requires_id: bool = True,
    id_hint: str = "",
    active: bool = True,
) -> int:
    """Create or update a concession kind (R3.6): exactly one of percent_off and fixed_price_fen."""
    code = code.strip().lower()
    if not code or len(code) > 20 or not name_zh.strip() or not name_en.strip():
        raise InvalidInput("A concession kind needs a code (up to 20 characters) and its names.", field="code")
    if (percent_off is None) == (fixed_price_fen is None):
        raise InvalidInput("Give either a percentage off or a fixed price.", field="percent_off")
    if percent_off is not None and not 0 <= percent_off <= 100:
        raise InvalidInput("A discount must be between 0 and 100 percent.", field="percent_off")
    if fixed_price_fen is not None and fixed_price_fen < 0:
        raise InvalidInput("A price cannot be below zero.", field="fixed_price_fen")
    values = {
        "name_zh": name_zh.strip(),
        "name_en": name_en.strip(),
        "percent_off": percent_off,
        "fixed_price_fen": fixed_price_fen,
        "requires_id": requires_id,
        "id_hint": id_hint.strip(),
        "active": active,
    }
    async with queued_write(ChannelPolicy._meta.db):
        row = await ConcessionKind.select().where(ConcessionKind.code == code).first()
        if row is None:
            kind_id = (await ConcessionKind.insert(ConcessionKind(code=code, **values)).returning(ConcessionKind.id))[
                0
            ]["id"]
        else:
            kind_id = row["id"]
            await ConcessionKind.update({getattr(ConcessionKind, k): v for k, v in values.items()}).where(
                ConcessionKind.id == kind_id
            )
        await record(
            actor,
            "policy.concession",
            "concession_kind",
            code,
            before=row and {k: row[k] for k in values},
            after=values,
        )
    return kind_id


async def get_concession_kind(code: str) -> dict:
    row = await ConcessionKind.select().where(ConcessionKind.code == code).first()
    if row is None:
        raise NotFound("No such concession kind.")
    return row
