"""Promotions for slow sellers (R4.3): discount rules (percent or amount off, per class, a validity window,
channels, a ticket limit) and bundles (two sessions or events together at one price).

Prices come from the pure functions of db/catalog/pricing.py (discounted, bundle_shares) through
db/sales/ordering/pricing.unit_price; a scheduled price change (R3.2) still moves the list price the
discount starts from. The limit is taken with a conditional UPDATE (used + n <= limit) in the order's own
transaction, so concurrent sales never exceed it; an order that is then refused gives nothing back because
nothing was committed. Every rule change is audited; each order line records the promotion in its breakdown."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from db.audit.record import record
from db.catalog.pricing import Discount, bundle_shares
from db.catalog.tables import EventSession, PriceClass
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound
from db.core.text import one_line
from db.core.transaction import queued_write
from db.inventory.paper import require
from db.inventory.realname import Holder
from db.inventory.tables import Bundle, Promotion
from db.sales.ordering.buyer import Buyer
from db.sales.status import CHANNELS
from db.staff.permissions import Permission

if TYPE_CHECKING:
    from db.sales.ordering.orders import OrderSummary

KINDS = ("percent", "amount")
# The limit, taken or refused in one conditional statement (the row lock orders concurrent sales).
_TAKE = "UPDATE {table} SET used = used + {{}} WHERE id = {{}} AND used + {{}} <= {limit} RETURNING id"
MAX_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class PromotionSpec:
    name: str
    session_id: int
    kind: str
    value: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    limit_tickets: int
    channels: tuple[str, ...] = CHANNELS
    price_classes: tuple[int, ...] = ()  # () = every class of the session


@dataclass(frozen=True, slots=True)
class Offer:
    """A promotion as a sale sees it."""

    id: int
    name: str
    rule: Discount
    price_classes: tuple[int, ...]
    left: int
    valid_until: dt.datetime

    def covers(self, price_class_id: int) -> bool:
        return not self.price_classes or price_class_id in self.price_classes


def _name(name: str) -> str:
    name = one_line((name or "").strip(), "name")
    if not 1 <= len(name) <= 60:
        raise InvalidInput("Enter the promotion's name (1 to 60 characters).", field="name")
    return name


def _window(valid_from: dt.datetime, valid_until: dt.datetime) -> None:
    if valid_until <= valid_from:
        raise InvalidInput("The promotion must end after it starts.", field="valid_until")


def _channels(channels: tuple[str, ...]) -> list[str]:
    if not channels or any(c not in CHANNELS for c in channels):
        raise InvalidInput("Choose at least one sales channel.", field="channels")
    return sorted(set(channels))


def _limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("The limit must be from 1 to {max} tickets.", field="limit_tickets", max=MAX_LIMIT)


async def create_promotion(actor: Actor, spec: PromotionSpec) -> int:
    require(actor, Permission.PROMOTION_EDIT)
    name = _name(spec.name)
    if spec.kind not in KINDS:
        raise InvalidInput("Choose percent off or an amount off.", field="kind")
    if spec.kind == "percent" and not 1 <= spec.value <= 90:
        raise InvalidInput("A percentage off must be from 1 to 90.", field="value")
    if spec.kind == "amount" and spec.value < 1:
        raise InvalidInput("The amount off must be at least 0.01 yuan.", field="value")
    _window(spec.valid_from, spec.valid_until)
    _limit(spec.limit_tickets)
    channels = _channels(spec.channels)
    if not await EventSession.exists().where(EventSession.id == spec.session_id):
        raise NotFound("No such session.")
    classes = {r["id"] for r in await PriceClass.select(PriceClass.id).where(PriceClass.session == spec.session_id)}
    if any(pc not in classes for pc in spec.price_classes):
        raise InvalidInput("A chosen price class is not sold for this session.", field="price_classes")
    values = {"session": spec.session_id, "price_classes": sorted(spec.price_classes), "kind": spec.kind}
    values |= {"value": spec.value, "limit_tickets": spec.limit_tickets}
    return await _create(actor, Promotion, "promotion", spec, channels, name=name, **values)


async def _create(actor: Actor, table, noun: str, spec, channels: list[str], **values) -> int:
    """One promotion or bundle row with its validity window and channels, and its audit entry."""
    async with queued_write(table._meta.db):
        row = await table.insert(
            table(
                **values,
                channels=channels,
                valid_from=spec.valid_from,
                valid_until=spec.valid_until,
                created_at=utcnow(),
                created_by=actor.name,
            )
        ).returning(table.id)
        await record(
            actor, f"{noun}.create", noun, row[0]["id"], after={k: v for k, v in values.items() if k != "name"}
        )
    return row[0]["id"]


async def end_promotion(actor: Actor, promotion_id: int) -> None:
    require(actor, Permission.PROMOTION_EDIT)
    async with queued_write(Promotion._meta.db):
        done = (
            await Promotion.update({Promotion.active: False})
            .where((Promotion.id == promotion_id) & (Promotion.active == True))
            .returning(Promotion.id)
        )
        if not done:
            raise NotFound("No such active promotion.")
        await record(actor, "promotion.end", "promotion", promotion_id)


def _list(value) -> list:
    return json.loads(value) if isinstance(value, str) else list(value or [])


async def offers(session_id: int, channel: str, now: dt.datetime | None = None) -> list[Offer]:
    """The promotions a sale of this session on this channel may use now (with tickets left)."""
    now = now or utcnow()
    rows = await Promotion.select().where(
        (Promotion.session == session_id)
        & (Promotion.active == True)
        & (Promotion.valid_from <= now)
        & (Promotion.valid_until > now)
        & (Promotion.used < Promotion.limit_tickets)
    )
    return [
        Offer(
            r["id"],
            r["name"],
            Discount(r["kind"], r["value"]),
            tuple(_list(r["price_classes"])),
            r["limit_tickets"] - r["used"],
            r["valid_until"],
        )
        for r in rows
        if channel in _list(r["channels"])
    ]


async def offer(promotion_id: int, session_id: int, channel: str, now: dt.datetime) -> Offer:
    for candidate in await offers(session_id, channel, now):
        if candidate.id == promotion_id:
            return candidate
    raise Conflict(
        "This promotion does not apply to this sale now (ended, used up, or another channel).", field="promotion"
    )


async def take(promotion: Offer, tickets: int) -> None:
    """Inside the order's transaction: use `tickets` of the promotion's limit, or refuse the order."""
    if tickets == 0:
        return
    taken = await Promotion.raw(
        _TAKE.format(table="inventory_promotion", limit="limit_tickets"), tickets, promotion.id, tickets
    )
    if not taken:
        raise Conflict(
            "The promotion {name} has fewer than {n} tickets left; sell at the list price or fewer tickets.",
            field="promotion",
            name=promotion.name,
            n=tickets,
        )


async def give_back(promotion_id: int, tickets: int) -> None:
    await Promotion.update({Promotion.used: Promotion.used - tickets}).where(
        (Promotion.id == promotion_id) & (Promotion.used >= tickets)
    )


async def promotions(limit: int = 100) -> list[dict]:
    return (
        await Promotion.select(
            Promotion.all_columns(),
            Promotion.session.event.name,
            Promotion.session.starts_at,
            Promotion.session.venue.timezone,
        )
        .order_by(Promotion.id, ascending=False)
        .limit(limit)
    )


# Bundles ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BundleSpec:
    name: str
    first_class: int
    second_class: int
    price_fen: int
    valid_from: dt.datetime
    valid_until: dt.datetime
    limit_sets: int
    channels: tuple[str, ...] = CHANNELS


async def create_bundle(actor: Actor, spec: BundleSpec) -> int:
    require(actor, Permission.PROMOTION_EDIT)
    name = _name(spec.name)
    _window(spec.valid_from, spec.valid_until)
    _limit(spec.limit_sets)
    channels = _channels(spec.channels)
    classes = await PriceClass.select(PriceClass.id, PriceClass.session, PriceClass.price_fen).where(
        PriceClass.id.is_in([spec.first_class, spec.second_class])
    )
    by_id = {c["id"]: c for c in classes}
    if spec.first_class not in by_id or spec.second_class not in by_id:
        raise NotFound("No such price class.")
    if by_id[spec.first_class]["session"] == by_id[spec.second_class]["session"]:
        raise InvalidInput("A bundle joins two different sessions.", field="second_class")
    if spec.price_fen < 1:
        raise InvalidInput("Enter the bundle's price.", field="price_fen")
    values = {"first_class": spec.first_class, "second_class": spec.second_class, "price_fen": spec.price_fen}
    return await _create(actor, Bundle, "bundle", spec, channels, name=name, limit_sets=spec.limit_sets, **values)


async def bundles(now: dt.datetime | None = None, channel: str | None = None) -> list[dict]:
    """Bundles (with their two sessions); with `now`, only those on sale then (and on `channel`)."""
    query = Bundle.select().order_by(Bundle.id, ascending=False)
    if now is not None:
        query = query.where(
            (Bundle.active == True)
            & (Bundle.valid_from <= now)
            & (Bundle.valid_until > now)
            & (Bundle.used < Bundle.limit_sets)
        )
    rows = await query
    ids = {r["first_class"] for r in rows} | {r["second_class"] for r in rows}
    classes = {
        c["id"]: c
        for c in await PriceClass.select(
            PriceClass.id,
            PriceClass.name,
            PriceClass.price_fen,
            PriceClass.session,
            PriceClass.session.event.name,
            PriceClass.session.starts_at,
            PriceClass.session.venue.timezone,
        ).where(PriceClass.id.is_in(sorted(ids) or [-1]))
    }
    result = []
    for r in rows:
        if channel is not None and channel not in _list(r["channels"]):
            continue
        result.append({**r, "first": classes.get(r["first_class"]), "second": classes.get(r["second_class"])})
    return result


async def take_bundle(bundle_id: int, sets: int, channel: str, now: dt.datetime) -> dict:
    """Inside the sale's transaction: use `sets` of the bundle's limit; the bundle's row."""
    row = await Bundle.select().where(Bundle.id == bundle_id).first()
    if (
        row is None
        or not row["active"]
        or not row["valid_from"] <= now < row["valid_until"]
        or channel not in _list(row["channels"])
    ):
        raise Conflict("This bundle is not on sale on this channel now.", field="bundle")
    taken = await Bundle.raw(_TAKE.format(table="inventory_bundle", limit="limit_sets"), sets, bundle_id, sets)
    if not taken:
        raise Conflict("The bundle {name} has fewer than {n} sets left.", field="bundle", name=row["name"], n=sets)
    return row


def shares(row: dict, first_list_fen: int, second_list_fen: int) -> tuple[int, int]:
    first, second = bundle_shares(row["price_fen"], (first_list_fen, second_list_fen))
    return first, second


@dataclass(frozen=True, slots=True)
class BundleSale:
    first: OrderSummary
    second: OrderSummary


async def sell_bundle(
    actor: Actor,
    bundle_id: int,
    sets: int,
    *,
    channel: str,
    buyer: Buyer,
    holders: Sequence[Holder] = (),
    now: dt.datetime | None = None,
) -> BundleSale:
    """Sell `sets` of a bundle: one order per session (each ticket priced at its share of the bundle's price,
    recorded on its order line), both in one transaction with the bundle's limit, audited. `holders`: for
    real-name sessions, the holders of the first session's tickets, then of the second's."""
    from db.sales.ordering.orders import ItemRequest, create_order

    if not 1 <= sets <= 50:
        raise InvalidInput("Enter how many sets, from 1 to {max}.", field="sets", max=50)
    now = now or utcnow()
    async with queued_write(Bundle._meta.db):
        row = await take_bundle(bundle_id, sets, channel, now)
        classes = {
            c["id"]: c
            for c in await PriceClass.select(PriceClass.id, PriceClass.session, PriceClass.price_fen).where(
                PriceClass.id.is_in([row["first_class"], row["second_class"]])
            )
        }
        first, second = classes[row["first_class"]], classes[row["second_class"]]
        share = shares(row, first["price_fen"], second["price_fen"])
        split = len(holders) // 2 if holders else 0
        orders = []
        for pc, unit, who in ((first, share[0], holders[:split]), (second, share[1], holders[split:])):
            orders.append(
                await create_order(
                    actor,
                    session_id=pc["session"],
                    channel=channel,
                    buyer=buyer,
                    items=[ItemRequest(price_class_id=pc["id"], quantity=sets)],
                    holders=who,
                    bundle=(bundle_id, unit),
                    now=now,
                )
            )
        await record(
            actor,
            "bundle.sell",
            "bundle",
            bundle_id,
            after={"sets": sets, "orders": [o.code for o in orders], "price_fen": row["price_fen"] * sets},
        )
    return BundleSale(*orders)


async def classes_on_sale(now: dt.datetime | None = None) -> list[dict]:
    """Price classes of sessions still on sale (event, session start, class, list price): the forms' choices."""
    now = now or utcnow()
    return (
        await PriceClass.select(
            PriceClass.id,
            PriceClass.name,
            PriceClass.price_fen,
            PriceClass.session,
            PriceClass.session.event.name,
            PriceClass.session.starts_at,
            PriceClass.session.venue.timezone,
        )
        .where((PriceClass.session.status == "on_sale") & (PriceClass.session.ends_at > now))
        .order_by(PriceClass.session.starts_at)
        .order_by(PriceClass.id)
    )
