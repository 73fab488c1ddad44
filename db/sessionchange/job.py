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
  BULK_PROVIDER_RATE calls per second, idempotent by the refund number), then the e-mails and the SMS outbox
  rows, each order once: a mail is marked handed over (`sending`) in a committed transaction after the SMTP
  server has all of it but the end of its data, and ended right after (Handover), so a kill before the mark
  sends it again on restart (the server kept nothing) and a kill after it does not. The server's answer
  makes it `sent` or `failed`; a notice still `sending` after a kill is one whose end was being written at
  that instant (it shows as such in the report)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
import os
import re
import smtplib
import time
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


def raw_mail(sender: str, to: str, subject: str, body: str, message_id: str) -> bytes:
    """A plain-text UTF-8 message as bytes, built without the email package's header parsing (which cost more
    than the SMTP hand-over in the bulk benchmark): RFC 2047 subject, base64 body."""
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {Header(subject, 'utf-8').encode()}\r\n"
        f"Date: {formatdate()}\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
    ).encode()


def message_id(change_id: int, item_id: int) -> str:
    """One notice's Message-ID: the same for the same order of the same change, whoever sends it."""
    return f"<change-{change_id}.{item_id}@ticketcenter>"


def mail_connections() -> int:
    """SMTP connections one batch of notices is handed over on, one message each (see _notify)."""
    return max(1, int(os.environ.get("BULK_MAIL_CONNECTIONS", "50")))


class Handover:
    """Notices handed to the SMTP server in two steps, one message per connection: `stage` sends everything of
    each message but the end of its data, `finish` sends the ends and reads the server's answers. A server
    keeps nothing of a message whose data did not end (the connection dropped), so a notice marked as
    handed over between the two steps, in a committed transaction, is mailed once even if this process is
    killed: before the commit nothing was delivered and the notice is sent again; after it, the ends go out
    within microseconds (written to every socket before any answer is read)."""

    def __init__(self, sender: str, size: int) -> None:
        self.sender = sender
        self.size = size
        self.smtps: dict[int, smtplib.SMTP] = {}  # by position in the batch
        self.in_data: set[int] = set()  # the positions whose message waits for the end of its data

    def stage(self, messages: list[tuple[int, str, bytes]]) -> dict[int, str]:
        """Each message on its own connection up to the end of its data: item -> staged | failed | unreachable.
        A kept connection the server has closed meanwhile is opened again."""
        outcome: dict[int, str] = {}
        for n, (item, to, message) in enumerate(messages):
            if outcome and set(outcome.values()) == {"unreachable"}:
                outcome[item] = "unreachable"  # the server did not answer the first: do not wait for each
                continue
            for attempt in (1, 2):
                kept = n in self.smtps
                try:
                    outcome[item] = self._stage_one(n, to, message)
                    break
                except OSError as exc:  # smtplib's errors are OSErrors too
                    self._drop(n)
                    if kept and attempt == 1 and isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError)):
                        continue  # a kept connection the server closed meanwhile: once more on a new one
                    log.warning("session change e-mail failed: %s", type(exc).__name__)
                    smtp_error = isinstance(exc, smtplib.SMTPException) or kept
                    outcome[item] = "failed" if smtp_error else "unreachable"
                break
        return outcome

    def _stage_one(self, n: int, to: str, message: bytes) -> str:
        if n not in self.smtps:
            self.smtps[n] = smtplib.SMTP(*smtp_address(), timeout=20)
        smtp = self.smtps[n]
        smtp.ehlo_or_helo_if_needed()
        if smtp.mail(self.sender)[0] != 250 or smtp.rcpt(to)[0] not in (250, 251):
            smtp.rset()
            return "failed"
        if smtp.docmd("DATA")[0] != 354:
            raise smtplib.SMTPDataError(0, "DATA refused")
        data = re.sub(rb"(?m)^\.", b"..", message)
        smtp.send(data if data.endswith(b"\r\n") else data + b"\r\n")
        self.in_data.add(n)
        return "staged"

    def finish(self, messages: list[tuple[int, str, bytes]], claimed: set[int]) -> dict[int, str]:
        """End the staged messages of the `claimed` items (every socket first, then the answers): item -> sent |
        failed. A staged message not claimed (another run notified that order meanwhile) is dropped unended."""
        ends = [(n, item) for n, (item, _, _) in enumerate(messages) if n in self.in_data and item in claimed]
        for n in self.in_data - {n for n, _ in ends}:
            self._drop(n)
        self.in_data = set()
        outcome = {}
        for n, item in ends:
            try:
                self.smtps[n].send(b".\r\n")
            except (OSError, smtplib.SMTPException):
                outcome[item] = "failed"
                self._drop(n)
        for n, item in ends:
            if item in outcome:
                continue
            try:
                outcome[item] = "sent" if self.smtps[n].getreply()[0] == 250 else "failed"
            except (OSError, smtplib.SMTPException):
                outcome[item] = "failed"
                self._drop(n)
        return outcome

    def _drop(self, n: int) -> None:
        self.in_data.discard(n)
        smtp = self.smtps.pop(n, None)
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.close()

    def close(self) -> None:
        for smtp in self.smtps.values():
            with contextlib.suppress(Exception):
                smtp.quit()
        self.smtps = {}


async def _record_notices(
    change: dict, actor: Actor, rows: list[dict], texts: dict, outcome: dict, now: dt.datetime
) -> set[int]:
    """In one transaction: the notices' marks (sending: handed over, the server's answer still to come; failed;
    none: no address), their SMS outbox rows, and the answers of the batch before (`outcome` sent | failed:
    the mark and the e-mail's delivery record). Returns the items this call marked `sending` (the claim: only
    those are ended)."""
    async with queued_write(_db()):
        note = f"session {change['kind']} #{change['id']}"
        deliveries, sms_rows = [], []
        for row in rows:
            if row["buyer_phone"]:
                sms_rows.append(
                    {
                        "order": row["order_id"],
                        "phone": row["buyer_phone"],
                        "body": texts[row["item"]],
                        "created_at": now,
                        "sent_at": None,
                    }
                )
                deliveries.append({"order": row["order_id"], "kind": "sms", "status": "sent"})
        answered = [(item, order, status) for item, (order, status) in outcome.items()]
        deliveries += [{"order": order, "kind": "email", "status": status} for _, order, status in answered]
        deliveries += [
            {"order": r["order_id"], "kind": "email", "status": "failed"} for r in rows if r["mark"] == "failed"
        ]
        await insert_many(Delivery, [{**d, "at": now, "actor_name": actor.name, "note": note} for d in deliveries])
        await insert_many(SmsMessage, sms_rows)
        marks: dict[str, list[int]] = {}
        for row in rows:
            marks.setdefault(row["mark"], []).append(row["item"])
        claimed: set[int] = set()
        for status, ids in marks.items():
            marked = (
                await ChangeOrder.update({ChangeOrder.notified_at: now, ChangeOrder.mail_status: status})
                .where(ChangeOrder.id.is_in(ids) & ChangeOrder.notified_at.is_null())
                .returning(ChangeOrder.id)
            )
            if status == "sending":
                claimed = {m["id"] for m in marked}
        for status in ("sent", "failed"):
            ids = [item for item, _, answer in answered if answer == status]
            if ids:
                await ChangeOrder.update({ChangeOrder.mail_status: status}).where(
                    ChangeOrder.id.is_in(ids) & (ChangeOrder.mail_status == "sending")
                )
        if rows:
            await record(
                actor,
                "session.bulk.notify",
                "session",
                change["session"],
                after={
                    "change": change["id"],
                    "orders": len(rows),
                    "emails_handed_over": sum(1 for r in rows if r["mark"] == "sending"),
                    "emails_failed": sum(1 for r in rows if r["mark"] == "failed"),
                    "sms_queued": len(sms_rows),
                },
            )
    return claimed


async def _notify(change: dict, actor: Actor, handover: Handover) -> int:
    """E-mail and text one chunk of done, not yet notified orders, exactly once each (Handover, its connections
    kept for the whole run); the number notified. A batch of notices is staged on as many SMTP connections,
    marked in one transaction, then ended; the servers' answers are recorded with the next batch's marks."""
    rows = await _unnotified(change["id"], chunk_size())
    if not rows:
        return 0
    answers: dict[int, tuple[int, str]] = {}  # item -> (order, sent | failed), recorded with the next batch
    orders = {row["item"]: row["order_id"] for row in rows}
    for start in range(0, len(rows), handover.size):
        batch = rows[start : start + handover.size]
        messages, texts = [], {}
        for row in batch:
            subject, body, sms = notice_text(change, row)
            texts[row["item"]] = sms
            if row["buyer_email"]:
                mail = raw_mail(
                    handover.sender, row["buyer_email"], subject, body, message_id(change["id"], row["item"])
                )
                messages.append((row["item"], row["buyer_email"], mail))
        staged = await asyncio.to_thread(handover.stage, messages)
        for row in batch:
            row["mark"] = {"staged": "sending", "failed": "failed", "unreachable": "failed"}.get(
                staged.get(row["item"], ""), "none"
            )
        claimed = await _record_notices(change, actor, batch, texts, answers, utcnow())
        ended = await asyncio.to_thread(handover.finish, messages, claimed)
        answers = {item: (orders[item], status) for item, status in ended.items()}
    if answers:
        await _record_notices(change, actor, [], {}, answers, utcnow())
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
    handover = Handover(os.environ.get("SMTP_FROM", "tickets@ticketcenter.example.cn"), mail_connections())
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
                while await _notify(change, actor, handover):
                    pass
                break
            mailing = asyncio.create_task(_notify(change, actor, handover))
    finally:
        if mailing is not None:
            await mailing
        await asyncio.to_thread(handover.close)
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
