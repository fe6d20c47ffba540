"""The notifier's rules, free of I/O: which email an event asks for and what it says, when to
try again, and what an SMTP failure means."""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from contracts.events.envelope import Event

#: what the operator view shows instead of a code, a token or a link that carries one
REDACTED = "[redacted]"

QUEUED = "queued"
DELIVERED = "delivered"
FAILED = "failed"
STATUSES = (QUEUED, DELIVERED, FAILED)

#: a candidate is waiting on a screen for these: they go before a roster of invitations
URGENT = 0
ROUTINE = 1


@dataclass(frozen=True)
class Links:
    """Addresses on the platform, always built from PUBLIC_URL (never from a request)."""

    public_url: str

    @property
    def sign_in(self) -> str:
        return f"{self.public_url}/connexion"

    @property
    def code_entry(self) -> str:
        return f"{self.public_url}/connexion/code-invitation"

    def code_entry_with(self, code: str) -> str:
        return f"{self.code_entry}?code={quote(code, safe='')}"


@dataclass(frozen=True)
class EmailPlan:
    """What one event asks the notifier to send: the template and the values it shows."""

    kind: str
    language: str
    recipient: str
    recipient_name: str
    priority: int
    invitation_id: uuid.UUID | None
    context: dict[str, Any]
    #: context keys that carry a code or a token (or a link made from one)
    sensitive: frozenset[str] = field(default_factory=frozenset)

    def redacted_context(self) -> dict[str, Any]:
        return {
            key: REDACTED if key in self.sensitive and value is not None else value
            for key, value in self.context.items()
        }

    def secrets(self) -> list[str]:
        return [str(self.context[k]) for k in self.sensitive if self.context.get(k)]


def plan_email(event: Event, links: Links) -> EmailPlan:
    """The email for ``event``; a LookupError for an event that sends none."""
    try:
        planner = _PLANNERS[event.type]
    except KeyError:
        raise LookupError(f"no email for {event.type}") from None
    return planner(event, links)


def _full_name(data: Mapping[str, Any]) -> str:
    return " ".join(part for part in (data.get("first_name"), data.get("last_name")) if part)


def _minutes_between(start: datetime, end: datetime) -> int:
    return max(1, round((end - start).total_seconds() / 60))


def _invitation(event: Event, links: Links) -> EmailPlan:
    data = event.data
    common = {
        "first_name": data["first_name"],
        "evaluation_name": data["evaluation"]["name"],
        "sign_in_url": links.sign_in,
    }
    existing = data["account_exists"] or data.get("code") is None
    if existing:
        kind, context, sensitive = "invitation_existing_account", common, frozenset[str]()
    else:
        kind = "invitation"
        context = common | {
            "code": data["code"],
            "link": links.code_entry_with(data["code"]),
            "code_entry_url": links.code_entry,
            "expires_at": data["expires_at"],
            "resent": bool(data.get("resent")),
        }
        sensitive = frozenset({"code", "link"})
    return _plan_for(
        data,
        kind,
        context,
        invitation_id=data["invitation_id"],
        sensitive=sensitive,
    )


def _plan_for(
    data: Mapping[str, Any],
    kind: str,
    context: dict[str, Any],
    *,
    priority: int = ROUTINE,
    invitation_id: Any = None,
    sensitive: frozenset[str] = frozenset(),
) -> EmailPlan:
    """An email to the person an event is about, in their language."""
    return EmailPlan(
        kind=kind,
        language=data["language"],
        recipient=data["email"],
        recipient_name=_full_name(data),
        priority=priority,
        invitation_id=invitation_id,
        context=context,
        sensitive=sensitive,
    )


def _urgent_with_secret(event: Event, kind: str, secret: str) -> EmailPlan:
    """A one-time code or a reset link: sent before routine mail, the secret redacted."""
    data = event.data
    return _plan_for(
        data,
        kind,
        {
            "first_name": data["first_name"],
            secret: data[secret],
            "expires_at": data["expires_at"],
            "valid_minutes": _minutes_between(event.occurred_at, data["expires_at"]),
        },
        priority=URGENT,
        sensitive=frozenset({secret}),
    )


def _two_factor_code(event: Event, links: Links) -> EmailPlan:
    return _urgent_with_secret(event, "two_factor_code", "code")


def _password_reset(event: Event, links: Links) -> EmailPlan:
    return _urgent_with_secret(event, "password_reset", "reset_url")


def _password_changed(event: Event, links: Links) -> EmailPlan:
    data = event.data
    return _plan_for(
        data,
        "password_changed",
        {
            "first_name": data["first_name"],
            "changed_at": data["changed_at"],
            "sign_in_url": links.sign_in,
        },
    )


def _account_activated(event: Event, links: Links) -> EmailPlan:
    data = event.data
    evaluation = data.get("evaluation")
    return _plan_for(
        data,
        "account_activated",
        {
            "first_name": data["first_name"],
            "evaluation_name": evaluation["name"] if evaluation else None,
            "sign_in_url": links.sign_in,
        },
    )


def _copy_receipt(event: Event, links: Links) -> EmailPlan:
    data = event.data
    return _plan_for(
        data,
        "copy_receipt",
        {
            "first_name": data["first_name"],
            "exam_title": data["exam_title"],
            "submitted_at": data["submitted_at"],
            "sha256": data["sha256"],
            "copy_id": data["copy_id"],
        },
    )


_PLANNERS = {
    "InvitationIssued": _invitation,
    "TwoFactorCodeRequested": _two_factor_code,
    "PasswordResetRequested": _password_reset,
    "PasswordChanged": _password_changed,
    "AccountActivated": _account_activated,
    "CopySubmitted": _copy_receipt,
}

#: the events that lead to an email
EMAIL_EVENTS = tuple(_PLANNERS)


# -- the order of an invitation's events --------------------------------------------------------

#: events that end an invitation's code and send no email of their own
CODE_ENDING_EVENTS = ("CodeExpired", "InvitationRevoked")

#: why an invitation email still waiting is not sent, by the event that made its code dead
NOT_SENT = {
    "CodeExpired": "not sent: the invitation code expired",
    "InvitationRevoked": "not sent: the invitation was revoked",
    "AccountActivated": "not sent: the account is activated",
    "InvitationIssued": "not sent: a newer invitation email replaces it",
}


@dataclass(frozen=True)
class KnownInvitation:
    """What the notifier knows of one invitation, whatever order its events came in: when
    its latest code was issued, and when the latest event that ended a code (revoke, expiry,
    activation) occurred."""

    issued_at: datetime | None = None
    closed_at: datetime | None = None

    def issued(self, at: datetime) -> KnownInvitation:
        return KnownInvitation(_latest(self.issued_at, at), self.closed_at)

    def closed(self, at: datetime) -> KnownInvitation:
        return KnownInvitation(self.issued_at, _latest(self.closed_at, at))

    def emails(self, issued_at: datetime) -> bool:
        """Whether the InvitationIssued that occurred at ``issued_at`` deserves its email: no
        newer code, and nothing ended the invitation's code since (a tie goes to the ending:
        a dead code stays dead)."""
        if self.closed_at is not None and self.closed_at >= issued_at:
            return False
        return self.issued_at is None or self.issued_at <= issued_at

    def ends_latest_code(self, closed_at: datetime) -> bool:
        """Whether an event that occurred at ``closed_at`` ends the latest code, rather than
        one that a newer code (a resend after the expiry) has replaced already."""
        return self.issued_at is None or self.issued_at <= closed_at


def _latest(known: datetime | None, at: datetime) -> datetime:
    return at if known is None or at > known else known


def message_id_for(source_event_id: uuid.UUID, sender_domain: str) -> str:
    """One Message-ID per source event, so a redelivered event is recognisably the same email."""
    return f"<{source_event_id}@{sender_domain}>"


# -- retries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for temporary failures: ``first_delay`` doubling up to ``max_delay``,
    until ``give_up_after`` has passed since the email was queued."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(minutes=10)
    give_up_after: timedelta = timedelta(hours=2)

    def delay_after(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt (1 for the first)."""
        doublings = min(max(attempts - 1, 0), 30)  # 2**30 first delays outgrow any cap
        return min(self.first_delay * (1 << doublings), self.max_delay)

    def gives_up(self, queued_at: datetime, now: datetime) -> bool:
        return now - queued_at >= self.give_up_after


# -- SMTP failures ------------------------------------------------------------------------------


class RelayUnavailable(Exception):
    """The mail relay could not be reached, or refused the session itself (greeting, TLS,
    login): nothing is wrong with the message, every message waits."""


@dataclass(frozen=True)
class Failure:
    reason: str
    permanent: bool
    #: the relay as a whole failed, not this message: the rest of the batch waits too
    relay_down: bool = False


def classify(exc: BaseException) -> Failure:
    """What a sending error means: 5xx replies are permanent, 4xx replies and any trouble
    reaching the relay are temporary."""
    if isinstance(exc, RelayUnavailable):
        return Failure(str(exc) or "the mail relay is unavailable", False, relay_down=True)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        if replies:
            code, text = replies[0]
            return _by_code(int(code), text, relay_down=False)
        return Failure("every recipient was refused", True)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Failure(f"the mail relay closed the connection: {exc}", False, relay_down=True)
    if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPHeloError)):
        return Failure(_reply(exc.smtp_code, exc.smtp_error), False, relay_down=True)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Failure(_reply(exc.smtp_code, exc.smtp_error), False, relay_down=True)
    if isinstance(exc, smtplib.SMTPResponseException):
        # 421: the relay is closing the session, whatever the message
        return _by_code(exc.smtp_code, exc.smtp_error, relay_down=exc.smtp_code == 421)
    if isinstance(exc, (smtplib.SMTPNotSupportedError, UnicodeError)):
        # e.g. an internationalised address and a relay without SMTPUTF8
        return Failure(f"the mail relay cannot carry this message: {exc}", True)
    if isinstance(exc, OSError):  # refused, reset, timed out, unreachable, TLS
        return Failure(f"{type(exc).__name__}: {exc}".rstrip(": "), False, relay_down=True)
    return Failure(f"{type(exc).__name__}: {exc}".rstrip(": "), False)


def _by_code(code: int, text: bytes | str, *, relay_down: bool) -> Failure:
    return Failure(_reply(code, text), permanent=500 <= code < 600, relay_down=relay_down)


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip()
