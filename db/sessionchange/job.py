"""The background job of a session change (R9.3, R6.1): it runs in the web service (web/jobs.py asks every
second in every worker), survives the server being killed, and does each order exactly once.

- A worker takes a running change by a lease (a conditional UPDATE of session_change.lease_until, renewed per
  chunk); a lease left by a killed server runs out and another worker, or the restarted one, takes over.
- Exactly once: an order's ChangeOrder row goes pending -> done by a conditional UPDATE in the same
  transaction as the order's refund (void first, as refunds.py does; fee-free by the organiser's waiver) or,
  for a change or postponement, its history entry. A kill rolls the open transaction back, the row stays
  pending, the next run does it. A chunk of orders shares one transaction; if one order is refused, the
  chunk is redone order by order so that only that one fails (with its reason, for the retry).
- After each commit, outside any write transaction: provider refunds (the sandbox; at most
  BULK_PROVIDER_RATE calls per second, idempotent by the refund number), then the e-mails over one SMTP
  connection per chunk and the SMS outbox rows. An order is marked notified after its mail was handed over,
  so a kill between the two sends that mail again on restart (at least once; the refund itself never twice)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import os
import smtplib
import time
import uuid
from email.header import Header
from email.utils import formatdate
from zoneinfo import ZoneInfo

from db.audit.record import record
from db.core.actor import Actor
from db.core.clock import utcnow
from db.core.errors import DomainError
from db.core.rows import insert_many
from db.core.transaction import queued_write
from db.gate.tables import Admission
from db.sales.aftersale.bulk import refund_orders
from db.sales.aftersale.notify import METHODS_ZH
from db.sales.aftersale.refunds import APPROVED, PROVIDER_METHODS, RefundRefused, request_refund, send_to_provider
from db.sales.aftersale.rules import ALREADY_REFUNDED
from db.sales.delivery.operations import order_link, smtp_address
from db.sales.history import add_event
from db.sales.rows import event_row
from db.sales.status import PAID, TICKET_ISSUED
from db.sales.tables import Delivery, OrderEvent, SmsMessage, Ticket
from db.sessionchange.operations import CANCEL, DONE, FAILED, PENDING, RUNNING, get_change, token
from db.sessionchange.tables import ChangeOrder, SessionChange

log = logging.getLogger("ticketcenter.sessionchange")


def chunk_size() -> int:
    return max(1, int(os.environ.get("BULK_CHUNK", "100")))


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=float(os.environ.get("BULK_LEASE_SECONDS", "20")))


def provider_rate() -> float:
    """Provider refund calls per second at most (the provider's published limit)."""
    return max(0.1, float(os.environ.get("BULK_PROVIDER_RATE", "20")))


class Pacer:
    """At most `rate` calls per second: each call waits for its slot."""

    def __init__(self, rate: float) -> None:
        self.gap = 1 / rate
        self.next_at = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        if self.next_at > now:
            await asyncio.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.gap


def _db():
    return SessionChange._meta.db


async def claim(now: dt.datetime | None = None) -> int | None:
    """Take a running change whose lease is free or ran out; None if there is none."""
    now = now or utcnow()
    rows = await SessionChange.raw(
        "UPDATE session_change SET lease_until = {} WHERE id = (SELECT id FROM session_change WHERE status = {} "
        "AND (lease_until IS NULL OR lease_until < {}) ORDER BY id LIMIT 1) AND status = {} "
        "AND (lease_until IS NULL OR lease_until < {}) RETURNING id",
        now + lease(),
        RUNNING,
        now,
        RUNNING,
        now,
    ).run()
    return rows[0]["id"] if rows else None


async def _renew(change_id: int) -> None:
    await SessionChange.update({SessionChange.lease_until: utcnow() + lease()}).where(SessionChange.id == change_id)


async def run_due() -> int:
    """The periodic job: run one claimed change to its end; the number of orders it did."""
    change_id = await claim()
    return await run(change_id) if change_id else 0


async def _pending(change_id: int, limit: int) -> list[dict]:
    return (
        await ChangeOrder.select(ChangeOrder.id, ChangeOrder.order, ChangeOrder.order.code)
        .where((ChangeOrder.change == change_id) & (ChangeOrder.status == PENDING))
        .order_by(ChangeOrder.id)
        .limit(limit)
    )


async def _take(item_id: int, now: dt.datetime) -> bool:
    """The order's claim: pending -> done, in the caller's transaction (rolled back with it)."""
    return bool(
        await ChangeOrder.update(
            {ChangeOrder.status: DONE, ChangeOrder.done_at: now, ChangeOrder.attempts: ChangeOrder.attempts + 1}
        )
        .where((ChangeOrder.id == item_id) & (ChangeOrder.status == PENDING))
        .returning(ChangeOrder.id)
    )


async def _do_one(change: dict, item: dict, actor: Actor, now: dt.datetime) -> None:
    if not await _take(item["id"], now):
        return  # another worker did it
    if change["kind"] == CANCEL:
        unused = Ticket.exists().where(
            (Ticket.order == item["order"])
            & (Ticket.status == TICKET_ISSUED)
            & Ticket.id.not_in(Admission.select(Admission.ticket))
        )
        if not await unused:
            await ChangeOrder.update({ChangeOrder.failure: "nothing left to refund"}).where(
                ChangeOrder.id == item["id"]
            )
            return
        try:
            refund = await request_refund(
                actor, item["order.code"], None, channel="bulk", cause="cancelled", waived=True, now=now
            )
        except RefundRefused as refused:
            if refused.reason != ALREADY_REFUNDED:
                raise
            await ChangeOrder.update({ChangeOrder.failure: "nothing left to refund"}).where(
                ChangeOrder.id == item["id"]
            )
            return
        await ChangeOrder.update({ChangeOrder.refund_id: refund.id, ChangeOrder.refund_fen: refund.refund_fen}).where(
            ChangeOrder.id == item["id"]
        )
    else:
        await add_event(
            item["order"], PAID, actor, now, f"session {change['kind']} #{change['id']}: {change['reason']}"
        )


async def _chunk(change: dict, items: list[dict], actor: Actor, now: dt.datetime) -> None:
    """One transaction for the chunk: each order's claim, then (cancellation) the set-based refund of the
    claimed orders, or (change, postponement) their history entries."""
    ids = [item["id"] for item in items]
    claimed = await ChangeOrder.raw(
        "UPDATE session_change_order SET status = {}, done_at = {}, attempts = attempts + 1 "
        f'WHERE status = {{}} AND id IN ({", ".join(str(i) for i in ids)}) RETURNING id, "order"',
        DONE,
        now,
        PENDING,
    ).run()
    orders = sorted(row["order"] for row in claimed)
    if not orders:
        return
    if change["kind"] != CANCEL:
        note = f"session {change['kind']} #{change['id']}: {change['reason']}"
        await OrderEvent.insert(*(OrderEvent(**event_row(o, PAID, actor, now, note)) for o in orders))
        return
    await refund_orders(actor, change["session"], orders, cause="cancelled", now=now)
    await ChangeOrder.raw(
        "UPDATE session_change_order SET "
        'refund_id = (SELECT MAX(r.id) FROM aftersale_refund r WHERE r."order" = session_change_order."order"), '
        "refund_fen = (SELECT r.refund_fen FROM aftersale_refund r WHERE r.id = (SELECT MAX(r2.id) FROM "
        'aftersale_refund r2 WHERE r2."order" = session_change_order."order")) '
        f"WHERE id IN ({', '.join(str(row['id']) for row in claimed)})"
    ).run()


async def _process(change: dict, items: list[dict], actor: Actor) -> None:
    try:
        async with queued_write(_db()):
            await _chunk(change, items, actor, utcnow())
        return
    except Exception:
        log.info("change %s: a chunk failed, redone order by order", change["id"])
    for item in items:
        try:
            async with queued_write(_db()):
                await _do_one(change, item, actor, utcnow())
        except Exception as exc:
            message = str(exc) if isinstance(exc, DomainError) else type(exc).__name__
            log.warning("change %s: order %s failed: %s", change["id"], item["order.code"], message)
            async with queued_write(_db()):
                await ChangeOrder.update(
                    {
                        ChangeOrder.status: FAILED,
                        ChangeOrder.failure: message[:500],
                        ChangeOrder.attempts: ChangeOrder.attempts + 1,
                    }
                ).where((ChangeOrder.id == item["id"]) & (ChangeOrder.status == PENDING))


async def _provider_refunds(change_id: int, pacer: Pacer) -> None:
    """Send the job's approved provider refunds (also those a killed run left unsent), paced."""
    rows = await ChangeOrder.raw(
        "SELECT r.id FROM session_change_order c JOIN aftersale_refund r ON r.id = c.refund_id "
        "WHERE c.change = {} AND r.status = {} AND r.method IN ({}) ORDER BY r.id",
        change_id,
        APPROVED,
        PROVIDER_METHODS[0],
    ).run()
    for row in rows:
        await pacer.wait()
        await send_to_provider(row["id"])


def _local(at: dt.datetime | None, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if at else ""


def notice_text(change: dict, row: dict) -> tuple[str, str, str]:
    """(subject, e-mail body, SMS text) of one order's notice, in Chinese (the buyers' language)."""
    zone = change["session.venue.timezone"]
    event = change["session.event.name"]
    code = row["code"]
    if change["kind"] == CANCEL:
        method = METHODS_ZH.get(row["method"] or "", row["method"] or "")
        if row["method"] == "cash":
            method += "（请到售票窗口领取）"
        subject = f"演出取消通知 {code} · {event}"
        body = (
            f"{row['buyer_name']}，您好：\n\n很抱歉，{event}（{_local(change['old_starts_at'], zone)}）已取消。"
            f"\n原因：{change['reason']}\n订单 {code} 的门票已作废，全额退款 ¥{row['refund_fen'] / 100:.2f}，"
            f"不收手续费，退回{method}。\n订单详情：{order_link(code)}\n\n票务中心"
        )
        sms = f"【票务中心】{event}已取消，订单{code}全额退款¥{row['refund_fen'] / 100:.2f}，详情：{order_link(code)}"
        return subject, body, sms
    link = f"{os.environ.get('PUBLIC_BASE_URL', 'https://tickets.example.cn').rstrip('/')}/shop/changes/{token(row['item'])}"
    what = []
    if change["new_starts_at"]:
        what.append(f"时间由 {_local(change['old_starts_at'], zone)} 改为 {_local(change['new_starts_at'], zone)}")
    if change["new_venue"]:
        what.append(f"场馆由 {change['old_venue.name']} 改为 {change['new_venue.name']}")
    label = "延期" if change["kind"] != "change" else "变更"
    subject = f"演出{label}通知 {code} · {event}"
    body = (
        f"{row['buyer_name']}，您好：\n\n{event} 已{label}：{'；'.join(what)}。\n原因：{change['reason']}"
        f"\n\n请在 {_local(change['choice_until'], zone)} 前选择：保留门票、改签，或免手续费全额退票："
        f"\n{link}\n逾期未选择视为保留门票。\n\n票务中心"
    )
    until = _local(change["choice_until"], zone)
    sms = f"【票务中心】{event}已{label}，订单{code}可保留、改签或免费退票，{until}前选择：{link}"
    return subject, body, sms


async def _unnotified(change_id: int, limit: int) -> list[dict]:
    return await ChangeOrder.raw(
        "SELECT c.id AS item, o.id AS order_id, o.code, o.buyer_name, o.buyer_email, o.buyer_phone, c.refund_fen, "
        "(SELECT r.method FROM aftersale_refund r WHERE r.id = c.refund_id) AS method "
        'FROM session_change_order c JOIN sales_order o ON o.id = c."order" '
        "WHERE c.change = {} AND c.status = {} AND c.notified_at IS NULL ORDER BY c.id LIMIT {}",
        change_id,
        DONE,
        limit,
    ).run()


def raw_mail(sender: str, to: str, subject: str, body: str) -> bytes:
    """A plain-text UTF-8 message as bytes, built without the email package's header parsing (which cost more
    than the SMTP hand-over in the bulk benchmark): RFC 2047 subject, base64 body."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {Header(subject, 'utf-8').encode()}\r\n"
        f"Date: {formatdate()}\r\nMessage-ID: <{uuid.uuid4().hex}@ticketcenter>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
    ).encode()


def _send_all(sender: str, messages: list[tuple[int, str, bytes]]) -> dict[int, str]:
    """Hand the messages to the SMTP server over one connection: item -> sent | failed."""
    outcome = {}
    if not messages:
        return outcome
    host, port = smtp_address()
    try:
        with smtplib.SMTP(host, port, timeout=20) as smtp:
            for item, to, message in messages:
                try:
                    smtp.sendmail(sender, [to], message)
                    outcome[item] = "sent"
                except smtplib.SMTPRecipientsRefused:
                    outcome[item] = "failed"
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("session change e-mail failed: %s", type(exc).__name__)
    for item, _, _ in messages:
        outcome.setdefault(item, "failed")
    return outcome


async def _notify(change: dict, actor: Actor) -> int:
    """E-mail and text one chunk of done, not yet notified orders; the number notified."""
    rows = await _unnotified(change["id"], chunk_size())
    if not rows:
        return 0
    sender = os.environ.get("SMTP_FROM", "tickets@ticketcenter.example.cn")
    messages, texts = [], {}
    for row in rows:
        subject, body, sms = notice_text(change, row)
        texts[row["item"]] = sms
        if row["buyer_email"]:
            messages.append((row["item"], row["buyer_email"], raw_mail(sender, row["buyer_email"], subject, body)))
    outcome = await asyncio.to_thread(_send_all, sender, messages)
    now = utcnow()
    async with queued_write(_db()):
        deliveries, sms_rows = [], []
        for row in rows:
            status = outcome.get(row["item"], "none")
            if status != "none":
                deliveries.append(
                    {"order": row["order_id"], "kind": "email", "status": status, "at": now, "actor_name": actor.name}
                )
            if row["buyer_phone"]:
                sms_rows.append(
                    {
                        "order": row["order_id"],
                        "phone": row["buyer_phone"],
                        "body": texts[row["item"]],
                        "created_at": now,
                    }
                )
                deliveries.append(
                    {"order": row["order_id"], "kind": "sms", "status": "sent", "at": now, "actor_name": actor.name}
                )
        note = f"session {change['kind']} #{change['id']}"
        await insert_many(Delivery, [{**d, "note": note} for d in deliveries])
        await insert_many(SmsMessage, [{**m, "sent_at": None} for m in sms_rows])
        for status in ("sent", "failed", "none"):
            ids = [r["item"] for r in rows if outcome.get(r["item"], "none") == status]
            if ids:
                await ChangeOrder.update({ChangeOrder.notified_at: now, ChangeOrder.mail_status: status}).where(
                    ChangeOrder.id.is_in(ids) & ChangeOrder.notified_at.is_null()
                )
        await record(
            actor,
            "session.bulk.notify",
            "session",
            change["session"],
            after={
                "change": change["id"],
                "orders": len(rows),
                "emails_sent": sum(1 for s in outcome.values() if s == "sent"),
                "emails_failed": sum(1 for s in outcome.values() if s == "failed"),
                "sms_queued": len(sms_rows),
            },
        )
    return len(rows)


def job_actor(change_id: int) -> Actor:
    return Actor.system(f"session change job #{change_id}")


async def run(change_id: int) -> int:
    """Carry a claimed change through: every pending order, its provider refunds and its notices; then
    finish (done with a report of done and failed orders). Returns the orders done in this run."""
    change = await get_change(change_id)
    actor = job_actor(change_id)
    pacer = Pacer(provider_rate())
    done = 0
    mailing: asyncio.Task | None = None  # the previous chunk's notices go out while the next chunk is done
    try:
        while True:
            await _renew(change_id)
            items = await _pending(change_id, chunk_size())
            if items:
                await _process(change, items, actor)
                done += len(items)
            if change["kind"] == CANCEL:
                await _provider_refunds(change_id, pacer)
            if mailing is not None:
                await mailing  # one at a time: two would pick the same unnotified orders
                mailing = None
            if not items:
                while await _notify(change, actor):
                    pass
                break
            mailing = asyncio.create_task(_notify(change, actor))
    finally:
        if mailing is not None:
            await mailing
    async with queued_write(_db()):
        finished = (
            await SessionChange.update(
                {SessionChange.status: DONE, SessionChange.finished_at: utcnow(), SessionChange.lease_until: None}
            )
            .where((SessionChange.id == change_id) & (SessionChange.status == RUNNING))
            .returning(SessionChange.id)
        )
        if finished:
            failed = await ChangeOrder.count().where((ChangeOrder.change == change_id) & (ChangeOrder.status == FAILED))
            await record(
                actor,
                f"session.{change['kind']}.finish",
                "session",
                change["session"],
                after={"change": change_id, "failed": failed},
            )
    return done
