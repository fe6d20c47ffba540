"""What the identity service's tests share: the app on a migrated database with an injected
clock and cheap argon2 parameters, invitations fed through the service's own handler, tokens
signed like the gateway's, and the one-time codes and links read back from the outbox."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, Row, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from contracts.bus.sealing import open_sensitive
from contracts.events.codec import decode
from contracts.events.codes import new_code
from contracts.events.envelope import Event
from contracts.runtime.migrations import upgrade
from contracts.runtime.service import CONTEXT
from contracts.runtime.settings import ServiceSettings
from contracts.testing.clock import TestClock
from contracts.testing.events import example_event
from contracts.testing.tokens import TestTokens
from identity import create_app
from identity.api import Context
from identity.config import Settings
from identity.handlers import handlers
from identity.passwords import Passwords
from identity.store import accounts, outbox

START = datetime(2026, 11, 23, 8, 30, 12, tzinfo=UTC)
PUBLIC_URL = "https://exams.example.edu"
PASSWORD = "Correct-Horse-9-Battery"
NEW_PASSWORD = "Tr0ub4dour&3xyz!"
#: cheap enough for tests that hash many times; the platform's parameters are tested once
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

INVALID_CODE = {
    "error": "invitation_code_invalid",
    "message": "Invitation code does not exist or has expired",
}
INVALID_CODE_FR = {
    "error": "invitation_code_invalid",
    "message": "Le code d'invitation n'existe pas ou a expiré",
}


def fast_passwords() -> Passwords:
    return Passwords(FAST_HASHER)


@dataclass(frozen=True)
class Invitation:
    id: uuid.UUID
    institution_id: uuid.UUID
    email: str
    code: str
    evaluation: dict[str, str]


@dataclass(frozen=True)
class SignedIn:
    """What the internal code step answered: a session and its first refresh token."""

    account_id: uuid.UUID
    session_id: uuid.UUID
    refresh_token: str
    body: dict[str, Any]


@dataclass
class IdentityWorld:
    app: Flask
    client: FlaskClient
    tokens: TestTokens
    settings: ServiceSettings
    clock: TestClock
    env: dict[str, str]
    database_url: str
    others: list[IdentityWorld] = field(default_factory=list)
    #: ids of identity's own events (PasswordResetAsked) already handled
    delivered: set[uuid.UUID] = field(default_factory=set)

    # -- plumbing ----------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.extensions["nexam.runtime"].engine
        return engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        sessions: sessionmaker[Session] = self.app.extensions["nexam.runtime"].sessions
        return sessions

    @property
    def context(self) -> Context:
        context: Context = self.app.extensions[CONTEXT]
        return context

    def again(self, passwords: Passwords | None = None, **env: str) -> IdentityWorld:
        """Another app on the same database, var folder, clock and token key (a redeployment
        with other settings); closed with this one."""
        environ = {**self.env, **env}
        settings = Settings.from_env(environ)
        app = create_app(
            settings,
            verifier=self.tokens.verifier(),
            clock=self.clock,
            passwords=passwords or fast_passwords(),
        )
        other = IdentityWorld(
            app,
            app.test_client(),
            self.tokens,
            settings.service,
            self.clock,
            environ,
            self.database_url,
        )
        self.others.append(other)
        return other

    def close(self) -> None:
        for other in self.others:
            other.close()
        self.engine.dispose()

    # -- events ------------------------------------------------------------------------------

    def events(self, event_type: str | None = None) -> list[Event]:
        """The events in the outbox, opened and decoded as a consumer would, oldest first."""
        with self.engine.connect() as db:
            bodies = db.scalars(select(outbox.c.body).order_by(outbox.c.position)).all()
        sealer = self.app.extensions["nexam.runtime"].sealer
        return [
            decode(open_sensitive(b, sealer))
            for b in bodies
            if event_type is None or b["type"] == event_type
        ]

    def codes(self, email: str, purpose: str) -> list[str]:
        """Every one-time code emailed to ``email`` for ``purpose``, oldest first."""
        return [
            e.data["code"]
            for e in self.events("TwoFactorCodeRequested")
            if e.data["email"] == email and e.data["purpose"] == purpose
        ]

    def last_code(self, email: str, purpose: str) -> str:
        return self.codes(email, purpose)[-1]

    def reset_tokens(self, email: str) -> list[str]:
        """The token of every reset link emailed to ``email``, oldest first."""
        return [
            parse_qs(urlsplit(e.data["reset_url"]).query)["token"][0]
            for e in self.events("PasswordResetRequested")
            if e.data["email"] == email
        ]

    def account(self, email: str) -> Row[Any]:
        with self.engine.connect() as db:
            return db.execute(select(accounts).where(accounts.c.email == email)).one()

    # -- invitations -------------------------------------------------------------------------

    def invite(
        self,
        email: str = "ada@example.org",
        *,
        first_name: str = "Ada",
        last_name: str = "Lovelace",
        language: str = "en",
        evaluation: dict[str, str] | None = None,
        days: int = 30,
        at: datetime | None = None,
    ) -> Invitation:
        """InvitationIssued handled as identity's consumer does, with a fresh code."""
        invitation = self.new_invitation(email, evaluation)
        self.handle(
            self.issued(
                invitation,
                first_name=first_name,
                last_name=last_name,
                language=language,
                days=days,
                at=at,
            )
        )
        return invitation

    @staticmethod
    def new_invitation(
        email: str = "ada@example.org", evaluation: dict[str, str] | None = None
    ) -> Invitation:
        """An invitation with a fresh code, not announced yet."""
        evaluation = evaluation or {"ref": "MATH101-FINAL-2026", "name": "Mathematics 101"}
        return Invitation(uuid.uuid4(), uuid.uuid4(), email, new_code(), evaluation)

    @staticmethod
    def resent(invitation: Invitation) -> Invitation:
        """The same invitation with the new code a resend gives it."""
        return dataclasses.replace(invitation, code=new_code())

    def issued(
        self,
        invitation: Invitation,
        *,
        first_name: str = "Ada",
        last_name: str = "Lovelace",
        language: str = "en",
        days: int = 30,
        at: datetime | None = None,
    ) -> Event:
        """The InvitationIssued that announces ``invitation`` and its code; ``at`` is when it
        occurred (the golden example's moment if not given)."""
        event = example_event(
            "InvitationIssued",
            invitation_id=invitation.id,
            institution_id=invitation.institution_id,
            email=invitation.email,
            first_name=first_name,
            last_name=last_name,
            language=language,
            evaluation=invitation.evaluation,
            code=invitation.code,
            expires_at=self.clock() + timedelta(days=days),
        )
        return event if at is None else dataclasses.replace(event, occurred_at=at)

    @staticmethod
    def closed(invitation: Invitation, event_type: str, *, at: datetime) -> Event:
        """CodeExpired or InvitationRevoked for ``invitation``, occurred at ``at``."""
        moment = "expired_at" if event_type == "CodeExpired" else "revoked_at"
        event = example_event(
            event_type,
            invitation_id=invitation.id,
            institution_id=invitation.institution_id,
            email=invitation.email,
            **{moment: at},
        )
        return dataclasses.replace(event, occurred_at=at)

    def deliver_own_events(self) -> None:
        """The events identity sends itself (a reset link asked for), handled once each as
        its worker would."""
        for event in self.events("PasswordResetAsked"):
            if event.id not in self.delivered:
                self.handle(event)
                self.delivered.add(event.id)

    def handle(self, event: Event) -> None:
        """Run identity's handler for ``event`` as its consumer does."""
        with self.sessions() as session, session.begin():
            handlers(
                self.context.code_key,
                self.clock,
                public_url=self.context.public_url,
                outbox=self.context.outbox,
            )[event.type](session, event)

    # -- activation --------------------------------------------------------------------------

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def redeem(self, code: str, **headers: str) -> TestResponse:
        return self.client.post("/api/v1/activation", json={"code": code}, headers=headers)

    def activation_token(self, invitation: Invitation) -> str:
        answer = self.redeem(invitation.code)
        assert answer.status_code == 200, answer.json
        token: str = answer.json["activation_token"]  # type: ignore[index]
        return token

    def step(self, token: str, name: str, body: dict[str, Any], **headers: str) -> TestResponse:
        """POST /api/v1/activation/<name> with the activation token."""
        return self.client.post(
            f"/api/v1/activation/{name}", json=body, headers={**self.bearer(token), **headers}
        )

    def terms(self, accepted: bool = True) -> dict[str, Any]:
        return {**self.context.terms.as_dict(), "accepted": accepted}

    def activate(
        self, invitation: Invitation, password: str = PASSWORD, language: str = "en"
    ) -> uuid.UUID:
        """Every activation step, each expected to succeed; the account's id."""
        token = self.activation_token(invitation)
        for name, body in (
            ("password", {"password": password}),
            ("language", {"language": language}),
            ("terms", self.terms()),
        ):
            answer = self.step(token, name, body)
            assert answer.status_code == 200, (name, answer.json)
        answer = self.step(token, "two-factor", {"method": "email"})
        assert answer.status_code == 202, answer.json
        code = self.last_code(invitation.email, "activation")
        answer = self.step(token, "two-factor/confirm", {"code": code})
        assert (answer.status_code, answer.json) == (200, {"status": "active"})
        account_id: uuid.UUID = self.account(invitation.email).id
        return account_id

    def active_account(self, email: str = "ada@example.org", **kwargs: Any) -> uuid.UUID:
        return self.activate(self.invite(email), **kwargs)

    # -- sign-in and sessions ----------------------------------------------------------------

    def gateway(self) -> dict[str, str]:
        return self.tokens.header(roles=("gateway",))

    def candidate(
        self, signed: SignedIn, roles: tuple[str, ...] = ("candidate",)
    ) -> dict[str, str]:
        """A gateway-signed access token for the candidate's session."""
        return self.tokens.header(
            roles=roles, subject=str(signed.account_id), claims={"sid": str(signed.session_id)}
        )

    def sign_in(self, email: str, password: str, **extra: Any) -> TestResponse:
        return self.client.post(
            "/api/v1/sessions", json={"email": email, "password": password, **extra}
        )

    def enter_code(self, challenge_id: str, code: str) -> TestResponse:
        """The gateway's call for the code step of sign-in."""
        return self.client.post(
            "/internal/v1/sessions",
            json={"challenge_id": challenge_id, "code": code},
            headers=self.gateway(),
        )

    def refresh(self, refresh_token: str) -> TestResponse:
        return self.client.post(
            "/internal/v1/sessions/refresh",
            json={"refresh_token": refresh_token},
            headers=self.gateway(),
        )

    def challenge(self, email: str = "ada@example.org", password: str = PASSWORD) -> str:
        answer = self.sign_in(email, password)
        assert answer.status_code == 200, answer.json
        challenge_id: str = answer.json["challenge_id"]  # type: ignore[index]
        return challenge_id

    def signed_in(self, email: str = "ada@example.org", password: str = PASSWORD) -> SignedIn:
        """Both steps of sign-in, each expected to succeed."""
        challenge_id = self.challenge(email, password)
        answer = self.enter_code(challenge_id, self.last_code(email, "sign_in"))
        assert answer.status_code == 201, answer.json
        return self.signed_in_from(answer.json)  # type: ignore[arg-type]

    @staticmethod
    def signed_in_from(body: dict[str, Any]) -> SignedIn:
        return SignedIn(
            uuid.UUID(body["account_id"]),
            uuid.UUID(body["session_id"]),
            body["refresh_token"],
            body,
        )

    def me(self, signed: SignedIn) -> TestResponse:
        return self.client.get("/api/v1/me", headers=self.candidate(signed))


def _settings_env(database_url: str, tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        "NEXAM_ENV": "test",
        "NEXAM_VAR_DIR": str(tmp_path / "var"),
        "IDENTITY_DATABASE_URL": database_url,
        "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
        "PUBLIC_URL": PUBLIC_URL,
        **env,
    }


@contextmanager
def identity_world(
    database_url: str, tmp_path: Path, passwords: Passwords | None = None, **env: str
) -> Iterator[IdentityWorld]:
    """The identity app on a freshly migrated database; its engines disposed afterwards."""
    upgrade("identity", database_url)
    environ = _settings_env(database_url, tmp_path, **env)
    settings = Settings.from_env(environ)
    tokens = TestTokens(settings.service.token_issuer, settings.service.token_audience)
    clock = TestClock(START)
    app = create_app(
        settings,
        verifier=tokens.verifier(),
        clock=clock,
        passwords=passwords or fast_passwords(),
    )
    world = IdentityWorld(
        app, app.test_client(), tokens, settings.service, clock, environ, database_url
    )
    try:
        yield world
    finally:
        world.close()
