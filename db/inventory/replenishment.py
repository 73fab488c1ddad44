"""Replenishment (R4.4): a seller or a shortage alert raises a request (quantity, reason); a supervisor approves it
as a plan with its source, or rejects it (never their own request); a plan is carried out into its target
allocation (or the pool).

Sources: `hold_back` releases free stock from a hold-back allocation (a move, in the allocation ledger);
`promoter` is a new allocation from the promoter (new capacity); `consignment` is stock bought from an
upstream supplier (new capacity, and an immutable stock_supply_cost row with supplier, agreement, cost per
ticket and quantity: what the finance budget reads)."""

from __future__ import annotations

import datetime as dt

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from db.core.transaction import queued_write
from db.inventory import stock
from db.inventory.allocations import (
    HOLD_BACK,
    MAX_QUANTITY,
    clean_line,
    ensure_pool,
    ledger_entry,
    price_class_facts,
    put_into,
    take_from,
)
from db.inventory.allocations import write_entries as write_ledger
from db.inventory.tables import Alert, Allocation, Replenishment, SupplyCost

SOURCES = ("hold_back", "promoter", "consignment")
REQUESTED, PLANNED, REJECTED, DONE = "requested", "planned", "rejected", "done"
MAX_COST_FEN = 10_000_000  # 100,000 yuan a ticket


async def request_replenishment(
    actor: Actor,
    price_class_id: int,
    quantity: int,
    reason: str,
    *,
    target_id: int | None = None,
    alert_id: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    now = now or utcnow()
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput("Enter a whole number from {min} to {max}.", field="quantity", min=1, max=MAX_QUANTITY)
    reason = clean_line(reason, field="reason", maximum=500)
    if not reason:
        raise InvalidInput("Write why more stock is needed.", field="reason")
    price_class = await price_class_facts(price_class_id)
    if target_id is not None and not await Allocation.exists().where(
        (Allocation.id == target_id) & (Allocation.price_class == price_class_id)
    ):
        raise InvalidInput("Choose an allocation of this price class.", field="target")
    if alert_id is not None and not await Alert.exists().where(Alert.id == alert_id):
        raise NotFound("No such alert.")
    async with queued_write(Replenishment._meta.db):
        row = Replenishment(
            session=price_class["session"], price_class=price_class_id, target=target_id, alert=alert_id,
            quantity=quantity, reason=reason, requested_by=actor.user_id, requested_by_name=actor.name,
            requested_at=now,
        )  # fmt: skip
        request_id = (await Replenishment.insert(row).returning(Replenishment.id))[0]["id"]
        after = {"price_class": price_class_id, "quantity": quantity, "reason": reason, "alert": alert_id}
        await record(actor, "replenishment.request", "replenishment", request_id, after=after)
    return request_id


async def _request(request_id: int, status: str) -> dict:
    row = await Replenishment.select().where(Replenishment.id == request_id).first()
    if row is None:
        raise NotFound("No such replenishment request.")
    if row["status"] != status:
        raise Conflict("This request is {status} already.", status=row["status"])
    return row


async def approve(
    actor: Actor,
    request_id: int,
    source: str,
    *,
    hold_back_id: int | None = None,
    supplier: str = "",
    agreement: str = "",
    cost_per_ticket_fen: int = 0,
    note: str = "",
    now: dt.datetime | None = None,
) -> None:
    """Approve a request as a plan with its source (a second person: not the one who asked)."""
    now = now or utcnow()
    note = clean_line(note, field="note", maximum=500)
    if source not in SOURCES:
        raise InvalidInput("Choose where the stock comes from.", field="source")
    supplier = clean_line(supplier, field="supplier", maximum=100)
    agreement = clean_line(agreement, field="agreement", maximum=100)
    if source == "consignment":
        if not supplier or not agreement:
            raise InvalidInput("Name the supplier and the agreement of the consignment.", field="supplier")
        if not 1 <= cost_per_ticket_fen <= MAX_COST_FEN:
            raise InvalidInput("Enter the cost per ticket the supplier charges.", field="cost_per_ticket")
    async with queued_write(Replenishment._meta.db):
        row = await _request(request_id, REQUESTED)
        if row["requested_by"] is not None and row["requested_by"] == actor.user_id:
            raise PermissionDenied("A second person decides a replenishment: you asked for this one.")
        if source != HOLD_BACK and (await price_class_facts(row["price_class"]))["seat_class"]:
            raise InvalidInput("A seated class gets no new stock: release a hold-back of its seats.", field="source")
        if source == HOLD_BACK:
            held = await Allocation.select(Allocation.id).where(
                (Allocation.id == (hold_back_id or 0))
                & (Allocation.channel == HOLD_BACK)
                & (Allocation.price_class == row["price_class"])
            )
            if not held:
                raise InvalidInput("Choose the hold-back of this price class to release.", field="hold_back")
        values = {
            Replenishment.status: PLANNED,
            Replenishment.source: source,
            Replenishment.hold_back: hold_back_id if source == HOLD_BACK else None,
            Replenishment.supplier: supplier,
            Replenishment.agreement: agreement,
            Replenishment.cost_per_ticket_fen: cost_per_ticket_fen if source == "consignment" else 0,
            Replenishment.decided_by_name: actor.name,
            Replenishment.decided_at: now,
            Replenishment.decision_note: note,
        }
        await Replenishment.update(values).where((Replenishment.id == request_id) & (Replenishment.status == REQUESTED))
        after = {"status": PLANNED, "source": source, "hold_back": hold_back_id, "supplier": supplier}
        after |= {"agreement": agreement, "cost_per_ticket_fen": cost_per_ticket_fen, "note": note}
        await record(
            actor, "replenishment.approve", "replenishment", request_id, before={"status": REQUESTED}, after=after
        )


async def reject(actor: Actor, request_id: int, note: str, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    note = clean_line(note, field="note", maximum=500)
    if not note:
        raise InvalidInput("Write why the request is rejected.", field="note")
    async with queued_write(Replenishment._meta.db):
        row = await _request(request_id, REQUESTED)
        if row["requested_by"] is not None and row["requested_by"] == actor.user_id:
            raise PermissionDenied("A second person decides a replenishment: you asked for this one.")
        await Replenishment.update(
            {
                Replenishment.status: REJECTED,
                Replenishment.decided_by_name: actor.name,
                Replenishment.decided_at: now,
                Replenishment.decision_note: note,
            }
        ).where((Replenishment.id == request_id) & (Replenishment.status == REQUESTED))
        await record(
            actor, "replenishment.reject", "replenishment", request_id,
            before={"status": REQUESTED}, after={"status": REJECTED, "note": note},
        )  # fmt: skip


async def carry_out(actor: Actor, request_id: int, now: dt.datetime | None = None) -> None:
    """Carry out a plan: the stock goes into the target allocation (or the pool), with its ledger entries and,
    for consignment, its cost. Refused, nothing changed, when a hold-back has fewer free tickets than planned."""
    now = now or utcnow()
    async with queued_write(Replenishment._meta.db):
        row = await _request(request_id, PLANNED)
        price_class = await price_class_facts(row["price_class"])
        target = row["target"] or await ensure_pool(price_class, now)
        quantity, why = row["quantity"], row["reason"]
        ids = {"replenishment_id": request_id}
        entries = []
        if row["source"] == HOLD_BACK:
            if not await take_from(row["hold_back"], quantity):
                raise Conflict("The hold-back has fewer free tickets than planned.", field="quantity")
            entries.append(ledger_entry(row["hold_back"], "release", -quantity, actor, now, why, **ids))
        else:
            await stock.add_stock(price_class["id"], quantity, bool(price_class["seat_class"]))
        await put_into(target, quantity)
        entries.append(ledger_entry(target, "replenish", quantity, actor, now, why, **ids))
        await write_ledger(*entries)
        if row["source"] == "consignment":
            await SupplyCost.insert(
                SupplyCost(
                    replenishment=request_id,
                    session=row["session"],
                    at=now,
                    supplier=row["supplier"],
                    agreement=row["agreement"],
                    quantity=quantity,
                    cost_per_ticket_fen=row["cost_per_ticket_fen"],
                    total_fen=quantity * row["cost_per_ticket_fen"],
                    actor_name=actor.name,
                )  # fmt: skip
            )
        await Replenishment.update(
            {Replenishment.status: DONE, Replenishment.done_by_name: actor.name, Replenishment.done_at: now}
        ).where((Replenishment.id == request_id) & (Replenishment.status == PLANNED))
        after = {"status": DONE, "target": target, "quantity": quantity, "source": row["source"]}
        await record(
            actor, "replenishment.carry_out", "replenishment", request_id, before={"status": PLANNED}, after=after
        )


async def requests(status: str | None = None) -> list[dict]:
    query = Replenishment.select(
        *Replenishment.all_columns(),
        Replenishment.price_class.name,
        Replenishment.session.starts_at,
        Replenishment.session.venue.timezone,
        Replenishment.session.event.name,
        Replenishment.target.channel,
        Replenishment.target.outlet,
    ).order_by(Replenishment.id, ascending=False)
    if status:
        query = query.where(Replenishment.status == status)
    return await query.limit(200)
