"""Tables of the identity service."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    Column,
    CursorResult,
    Executable,
    ForeignKey,
    Integer,
    Row,
    String,
    Table,
    UniqueConstraint,
    Uuid,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from contracts.bus.tables import inbox_table, outbox_table
from contracts.runtime.database import UtcDateTime, service_metadata

metadata = service_metadata()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

institutions = Table(
    "institutions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", UtcDateTime(), nullable=False),
    #: the sign-in partners it offers its candidates, space separated ("google microsoft")
    Column("partners", String(40), nullable=False, server_default=""),
    #: Microsoft only for accounts of this tenant, when set
    Column("microsoft_tenant", String(64), nullable=True),
)

api_clients = Table(
    "api_clients",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("institution_id", Uuid, ForeignKey("institutions.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("secret_digest", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("secret_rotated_at", UtcDateTime(), nullable=False),
)

#: one account per address (compared in lower case), created pending by an invitation
accounts = Table(
    "accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("status", String(16), nullable=False),  # pending, active, expired
    Column("invited_language", String(2), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("language", String(2), nullable=True),
    Column("terms_version", String(40), nullable=True),
    Column("privacy_version", String(40), nullable=True),
    Column("terms_accepted_at", UtcDateTime(), nullable=True),
    Column("two_factor", String(16), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("activated_at", UtcDateTime(), nullable=True),
    Column("password_changed_at", UtcDateTime(), nullable=True),
    #: the sign-in partner chosen at activation instead of a password and emailed codes
    Column("activated_with", String(16), nullable=True),
)

#: what an invitation lets its holder do: activate the account with the code
activations = Table(
    "activations",
    metadata,
    Column("invitation_id", Uuid, primary_key=True),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    Column("institution_id", Uuid, nullable=False),
    Column("evaluation_ref", String(100), nullable=False),
    Column("evaluation_name", String(200), nullable=False),
    Column("code_digest", String(64), nullable=True, unique=True),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("status", String(16), nullable=False),  # open, expired, revoked, completed
    Column("updated_at", UtcDateTime(), nullable=False),
)

#: every invitation identity has heard of, with the moments (occurred_at) of the latest
#: InvitationIssued and of the latest CodeExpired or InvitationRevoked handled for it, whatever
#: order they came in: an older event than these changes nothing. Kept even before the
#: InvitationIssued arrives, and locked by each handler so one invitation's events never race.
known_invitations = Table(
    "known_invitations",
    metadata,
    Column("invitation_id", Uuid, primary_key=True),
    Column("issued_at", UtcDateTime(), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
)

#: short-lived proof that someone redeemed a code, for the activation steps
activation_tokens = Table(
    "activation_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("invitation_id", Uuid, ForeignKey("activations.invitation_id"), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

#: failures counted per address (known or not, so a lock tells nothing about who has an
#: account), reserved before the password is checked so parallel attempts cannot slip past
throttles = Table(
    "throttles",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", UtcDateTime(), nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
)

#: one-time codes sent by email, for finishing an activation or a sign-in
challenges = Table(
    "challenges",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),  # activation, sign_in
    Column("code_digest", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
)

#: a signed-in browser or app: ends 12 h after sign-in whatever happens, or when revoked
sign_in_sessions = Table(
    "sign_in_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("amr", String(40), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("revoked_reason", String(40), nullable=True),
)

#: every refresh token a session was given; a used one presented again revokes the session
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("session_id", Uuid, ForeignKey("sign_in_sessions.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
)

#: an account's identity at a sign-in partner: once linked, only (issuer, subject) signs in
#: with that partner, never the address it gives (which its user may change)
partner_links = Table(
    "partner_links",
    metadata,
    Column("issuer", String(300), primary_key=True),
    Column("subject", String(255), primary_key=True),
    Column("provider", String(16), nullable=False),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False),
    #: the address the partner gave when the link was made, for operators
    Column("email", String(320), nullable=False),
    Column("linked_at", UtcDateTime(), nullable=False),
    UniqueConstraint("account_id", "provider"),
)

reset_tokens = Table(
    "reset_tokens",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("account_id", Uuid, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
)


def account_by_id(session: Session, account_id: Any) -> Row[Any] | None:
    return session.execute(select(accounts).where(accounts.c.id == account_id)).first()


def known_invitation(session: Session, invitation_id: Any) -> Row[Any]:
    """The invitation's row, created empty when identity first hears of it, and locked until
    the transaction ends: the handlers of one invitation's events take turns."""
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        module.insert(known_invitations)
        .values(invitation_id=invitation_id)
        .on_conflict_do_nothing(index_elements=["invitation_id"])
    )
    return session.execute(
        select(known_invitations)
        .where(known_invitations.c.invitation_id == invitation_id)
        .with_for_update()
    ).one()


def changed_rows(session: Session, statement: Executable) -> int:
    """How many rows an UPDATE, INSERT or DELETE touched."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)
