"""A real SMTP server for the e-mail delivery tests: aiosmtpd on a free loopback port, keeping every
message it receives."""

from __future__ import annotations

import email
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.helpers import free_port


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []  # aiosmtpd envelopes: rcpt_tos, content (bytes)

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"

    def emails(self) -> list[EmailMessage]:
        return [email.message_from_bytes(m.content, policy=policy.default) for m in self.messages]


@contextmanager
def running_smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@contextmanager
def smtp_server(monkeypatch) -> Iterator[Mailbox]:
    """A real SMTP server; the sales domain's SMTP_HOST/SMTP_PORT point at it for this test."""
    with running_smtp_server() as (mailbox, port):
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(port))
        yield mailbox
