"""Sales: the whole flow from inquiry to delivered e-ticket (R3.3-R3.6, R1.2), for every channel.

Box office, public shop and partner API all call these operations; each is ONE transaction, takes plain
values, returns plain values, writes its audit record and an OrderEvent (the status history), and raises
db.core.errors: InvalidInput (422, bad input; `.field` names it), NotFound (404), Conflict (409: sold out,
seat taken, wrong status), PermissionDenied (403). `actor` is db.core.actor.Actor (StaffPrincipal.actor,
PartnerIdentity.actor, or Actor.system(...)); for staff, actor.user_id is recorded as the seller.

Statuses (db/sales/status.py)
    Order: held (stock held, payable until expires_at) | awaiting_audit (stock held, no expiry until the
    auditor decides) | rejected | awaiting_payment (approved; payable until expires_at) | paid |
    cancelled | expired (hold ran out, stock released) | refunded (money came back after an order
    could not be served). PAYABLE = held, awaiting_payment. HOLDING = held, awaiting_audit, awaiting_payment.
    Ticket: issued | revoked. Channels: box_office | outlet | web_shop | partner.

Inquiry (db.sales.queries) - expired holds are released before anything is counted
    availability(session_id) -> {"session_id", "price_classes": [{"id", "name", "seat_class", "price_fen"
        (in force now), "capacity", "available" (= "free"), "free", "held", "sold", "upcoming_changes"}]}
    seat_plan(session_id, section=, seat_ids=, price_class_id=) -> [{"id" (seat id), "section", "row_label",
        "number", "x", "y", "seat_class", "class_name" (the price's name), "price_class_id", "status": free|held|sold}]
    plan_view(session_id, section=None, picked=()) -> Plan(seats, sections, section, kept): what a plan page draws;
        above OVERVIEW_ABOVE seats the section overview (PlanSection: name, seats, free, box) and one section.
    events_on_sale() -> [{"id", "name", "kind", "sessions": [{"id", "starts_at", "ends_at", "seated", "venue",
        "gates": [{"code", "name"}]}]}]
    get_order(code, partner_id=None, contact=False) -> the order row (the buyer's phone and e-mail only with
        contact=True) + "items" (price breakdown, concession, id_type,
        id_masked, "seat.section", "seat.row_label", "seat.number"), "tickets" ({"id", "code" = QR text, "status",
        "seat", "seat.section", "seat.row_label", "seat.number", ...}), "events"
        (status history: at, status, actor_name, note), "payments", "refunds", "deliveries". NotFound.
    audit_queue() -> orders awaiting audit, oldest first, with "items" (concession + checked ID, masked).
    search_orders(status=, channel=, session_id=, code=, seller_id=, limit=, offset=) -> list of orders.
    order_status(code, partner_id=None) -> {"id", "code", "status", "total_fen", "expires_at", "partner"}.
    order_tickets(code) -> [{"id", "code" (QR text), "status", "price_fen", "concession", "price_class.name",
        "seat", "seat.section", "seat.row_label", "seat.number"}] (one query; for APIs and ticket pages).
    A seat's parts are None for general admission; a seat is worded with db.core.i18n.seat_label(section, row,
    number, language), the one format of every page, verdict and document: 池座 3排12座 / 池座 row 3, seat 12.

Order (db.sales.ordering.orders)
    create_order(actor, *, session_id, channel, buyer: Buyer(name, phone, email="", id_number=""),
        items: [ItemRequest(price_class_id=, quantity=) | ItemRequest(seat_id=)], outlet="", partner_id=None,
        idempotency_key=None) -> OrderSummary(id, code, status, total_fen, expires_at, needs_audit, replayed)
        ItemRequest(price_class_id=X, quantity=N) on a SEATED class = "best available N adjacent seats".
        Concession line: ItemRequest(..., concession="student", id_type="student_card", id_number="...")
        (id_type in db.sales.ordering.buyer.ID_TYPES; the number is stored masked). Group (size >= smallest tier)
        and concession orders always go to awaiting_audit; else the channel policy decides.
        Conflict "Sold out..." / "A seat you chose was just taken..." rolls the whole order back.
    approve_order(auditor, code, note="") -> OrderSummary (awaiting_payment, new expires_at). SALES_AUDIT;
        nobody audits their own sale.
    reject_order(auditor, code, reason) -> None (rejected, stock released; reason required).
    cancel_order(actor, code, reason="") -> None (any unpaid holding order; stock released).
    release_expired_holds() -> int (the periodic task; also done lazily before holds and counts).

Payment and issue (db.sales.payments.operations) -> PaymentResult(code, status, outcome, payment_id, change_fen,
    ticket_ids); outcome: accepted | reheld (paid after the hold expired, stock still free) | refund_due
    (paid too late, stock gone: refunded automatically, order -> refunded) | already_paid | ignored | failed.
    confirm_window_payment(seller, code, method: cash|card|mobile, tendered_fen=None, reference="") - cash needs
        tendered_fen >= total (InvalidInput otherwise); change_fen is computed; card and mobile need the
        terminal's reference (issue 12). Issues tickets; the money goes into the seller's open shift.
    pay_prepaid(partner_actor, code, partner_id) - partner-collected money; paying again = already_paid.
    start_online_payment(actor, code, provider_name="sandbox") -> Checkout(reference, url) (pending payment).
    handle_payment_callback(provider_name, body: bytes, signature) - HMAC-checked (bad signature ->
        InvalidInput), idempotent, amount checked; unknown/already-paid -> outcome "ignored", logged.
    sandbox_checkout(reference) -> {"reference", "order_code", "amount_fen", "status"};
    sandbox_pay(reference) - the sandbox customer pays (sends the signed callback).
    Tickets: one per seat or GA unit, Ticket.code = keyring().sign(ticket.id, session_id, concession != '').

Delivery (db.sales.delivery.operations) and documents (db.sales.tickets.documents)
    send_ticket_email(actor, code) (SMTP_HOST/SMTP_PORT, default localhost:1025; PDF attached),
    send_ticket_sms(actor, code) (SMS outbox table; order code + short link, no ticket text),
    record_handover(actor, code, kind: pickup|mail, note="") -> Delivery rows.
    ticket_pdf(code) -> bytes (Chinese via WenQuanYi Zen Hei, QR image); qr_png(text, scale=) / qr_svg(text).

Policy (db.sales.policy; edit with POLICY_EDIT)
    channel_policy(channel) -> (needs_audit, hold_minutes); list_channel_policies();
    set_channel_policy(actor, channel, needs_audit, hold_minutes); group_tiers() -> [Tier(min_size,
    percent_off)]; set_group_tiers(actor, tiers); concession_kinds(); save_concession_kind(actor, code,
    name_zh, name_en, percent_off=|fixed_price_fen=, requires_id=, id_hint=, active=).

Partners (db.sales.channels.partners): create_partner_key(actor, name, key=None) -> key;
    partner_for_key(key) -> PartnerIdentity(id, name) | None (cached 10 s per process);
    revoke_partner_keys(actor, name); forget_cached_keys().

Write transactions: db.core.transaction.queued_write(engine) (write_transaction; on SQLite writers also queue FIFO
in-process). Periodic hold release: web/jobs.py (every 30 s, started by the app).
"""
