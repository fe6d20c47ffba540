"""From an event to the email the notifier queues: plan, rendering, and the RFC 5322 message
with its text and HTML parts, built once so that sending is only a matter of bytes."""

from __future__ import annotations

import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any

from contracts.bus.sealing import Sealer
from contracts.events.envelope import Event
from contracts.events.humantext import one_line
from notifier.domain import QUEUED, EmailPlan, Links, message_id_for, plan_email
from notifier.rendering import Brand, EmailRenderer, RenderedEmail
from notifier.sealed_mime import seal_message

CRLF = "\r\n"


@dataclass(frozen=True)
class Sender:
    """Who the emails come from: the From header as configured (MAIL_FROM) and its domain."""

    mail_from: str
    domain: str

    @property
    def address(self) -> str:
        return parseaddr(self.mail_from)[1] or self.mail_from


def build_message(
    plan: EmailPlan, rendered: RenderedEmail, *, sender: Sender, message_id: str, date: datetime
) -> bytes:
    """The RFC 5322 message: multipart/alternative with quoted-printable text and HTML parts.

    The headers that carry people's text (From, To, Subject) are made by the standard
    library's header registry, which folds and encodes them and refuses a line break in them;
    the names are made one line first, so no value can end a header and start another. The
    rest is written out directly (C-accelerated quoted-printable): a whole
    ``email.message.EmailMessage`` took ten times longer, and this runs once per candidate of
    a roster."""
    boundary = f"=_nexam_{uuid.uuid4().hex}"  # "=_" never occurs in quoted-printable text
    headers = [
        ("Date", format_datetime(date)),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("Content-Language", plan.language),
        ("Auto-Submitted", "auto-generated"),  # RFC 3834: no vacation replies, please
    ]
    lines = [
        _from_header(sender.mail_from),
        _mailbox_header("To", plan.recipient_name, plan.recipient),
        _subject_header(rendered.subject),
        *(f"{name}: {value}{CRLF}" for name, value in headers),
        CRLF,
    ]
    for subtype, body in (("plain", rendered.text), ("html", rendered.html)):
        lines.append(f"--{boundary}{CRLF}")
        lines.append(f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}')
        lines.append(f"Content-Transfer-Encoding: quoted-printable{CRLF}{CRLF}")
        lines.append(_quoted_printable(body))
        lines.append(CRLF)
    lines.append(f"--{boundary}--{CRLF}")
    # ASCII throughout, except an internationalised address (sent with SMTPUTF8)
    return "".join(lines).encode("utf-8")


def _mailbox_header(name: str, display_name: str, address: str) -> str:
    """``To: Ada Lovelace <ada@example.org>`` and its line end, folded and encoded."""
    # RFC 6532: with SMTPUTF8 an international address, and so its header, is plain UTF-8
    chosen = policy.SMTP if address.isascii() else policy.SMTPUTF8
    local, _at, domain = address.rpartition("@")
    mailbox = Address(display_name=one_line(display_name), username=local, domain=domain)
    return str(chosen.header_factory(name, mailbox).fold(policy=chosen))


@lru_cache(maxsize=8)
def _from_header(mail_from: str) -> str:
    return _mailbox_header("From", *parseaddr(mail_from))


@lru_cache(maxsize=256)  # a few subjects per kind and language
def _subject_header(subject: str) -> str:
    return str(policy.SMTP.header_factory("Subject", one_line(subject)).fold(policy=policy.SMTP))


def _quoted_printable(text: str) -> str:
    lines = text.replace(CRLF, "\n").split("\n")
    encoded = binascii.b2a_qp(CRLF.join(lines).encode("utf-8"), istext=True).decode("ascii")
    return encoded if encoded.endswith(CRLF) else encoded + CRLF


class Composer:
    """Turns an event into the values of its ``outgoing_email`` row, the message sealed."""

    def __init__(
        self, renderer: EmailRenderer, links: Links, sender: Sender, sealer: Sealer
    ) -> None:
        self.renderer = renderer
        self.links = links
        self.sender = sender
        self.sealer = sealer

    @classmethod
    def create(cls, brand: Brand, sender: Sender, sealer: Sealer) -> Composer:
        return cls(EmailRenderer(brand), Links(brand.public_url), sender, sealer)

    def outgoing(self, event: Event, now: datetime) -> dict[str, Any]:
        plan = plan_email(event, self.links)
        rendered = self.renderer.render(plan)
        message_id = message_id_for(event.id, self.sender.domain)
        return {
            "source_event_id": event.id,
            "source_event_type": event.type,
            "correlation_id": event.correlation_id or str(event.id),
            "invitation_id": plan.invitation_id,
            "kind": plan.kind,
            "language": plan.language,
            "recipient": plan.recipient,
            "recipient_key": plan.recipient.lower(),
            "subject": rendered.subject[:300],
            "message_id": message_id,
            "mime": seal_message(
                self.sealer,
                build_message(plan, rendered, sender=self.sender, message_id=message_id, date=now),
                event.id,
            ),
            "redacted_text": rendered.redacted_text,
            "priority": plan.priority,
            "status": QUEUED,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
