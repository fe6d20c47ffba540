"""Activation through identity's API on its own (DESIGN sections 5 and 6): the invitation
code, then password, language, terms and two-factor in that order; a half-done activation
resumed with the code or by signing in; the activation's one-time code and its resend."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from identity_testkit import (
    INVALID_CODE,
    INVALID_CODE_FR,
    PASSWORD,
    START,
    IdentityWorld,
    identity_world,
)
from werkzeug.test import TestResponse

from contracts.events.codec import decode
from contracts.events.codes import new_code
from contracts.events.examples import load_example
from identity.passwords import Passwords
from identity.terms import PRIVACY_VERSION, TERMS_VERSION

STEPS = ["password", "language", "terms", "two_factor"]


def _steps(*done: str) -> list[dict[str, object]]:
    return [{"name": name, "done": name in done} for name in STEPS]


def _out_of_order(answer: TestResponse, *missing: str) -> None:
    status, body = answer.status_code, answer.json
    assert status == 409, body
    assert body["error"] == "step_out_of_order"
    assert body["message"] == "Finish the earlier activation steps first."
    assert body["missing"] == list(missing)


def test_the_steps_in_order_activate_the_account(world: IdentityWorld) -> None:
    invitation = world.invite("ada@example.org")
    redeemed = world.redeem(invitation.code)
    assert redeemed.status_code == 200
    body = redeemed.json
    assert body is not None
    token = body.pop("activation_token")
    assert len(token) >= 43
    assert body == {
        "email": "ada@example.org",
        "first_name": "Ada",
        "language": None,
        "steps": _steps(),
        "terms_version": TERMS_VERSION,
        "privacy_version": PRIVACY_VERSION,
        "status": "pending",
        "partners": [],
        "activated_with": None,
    }

    answer = world.step(token, "password", {"password": PASSWORD})
    assert answer.status_code == 200 and answer.json["steps"] == _steps("password")
    answer = world.step(token, "language", {"language": "fr"})
    assert answer.status_code == 200 and answer.json["steps"] == _steps("password", "language")
    assert answer.json["language"] == "fr"
    answer = world.step(token, "terms", world.terms())
    assert answer.status_code == 200
    assert answer.json["steps"] == _steps("password", "language", "terms")

    sent = world.step(token, "two-factor", {"method": "email"})
    assert sent.status_code == 202
    assert set(sent.json) == {"challenge_id", "method", "expires_in", "resend_after"}
    assert (sent.json["method"], sent.json["expires_in"], sent.json["resend_after"]) == (
        "email",
        600,
        30,
    )
    (requested,) = world.events("TwoFactorCodeRequested")
    assert requested.data["purpose"] == "activation"
    assert requested.data["email"] == "ada@example.org"
    assert requested.data["language"] == "fr"  # the language just chosen
    assert requested.data["code"].isdigit() and len(requested.data["code"]) == 6
    assert world.events("AccountActivated") == []

    confirmed = world.step(token, "two-factor/confirm", {"code": requested.data["code"]})
    assert (confirmed.status_code, confirmed.json) == (200, {"status": "active"})

    (activated,) = world.events("AccountActivated")
    account = world.account("ada@example.org")
    assert activated.data == {
        "account_id": account.id,
        "email": "ada@example.org",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "language": "fr",
        "invitation_id": invitation.id,
        "institution_id": invitation.institution_id,
        "evaluation": invitation.evaluation,
        "activated_at": START,
    }
    assert account.status == "active"
    assert account.two_factor == "email"
    assert account.language == "fr"
    assert (account.terms_version, account.privacy_version) == (TERMS_VERSION, PRIVACY_VERSION)
    assert account.terms_accepted_at == START and account.activated_at == START
    assert world.context.passwords.verify(account.password_hash, PASSWORD)

    # the code and the activation token are spent
    answer = world.redeem(invitation.code)
    assert (answer.status_code, answer.json) == (404, INVALID_CODE)
    answer = world.redeem(invitation.code, **{"Accept-Language": "fr"})
    assert (answer.status_code, answer.json) == (404, INVALID_CODE_FR)
    gone = world.client.get("/api/v1/activation", headers=world.bearer(token))
    assert gone.status_code == 401 and gone.json["error"] == "invalid_token"
    again = world.step(token, "two-factor/confirm", {"code": requested.data["code"]})
    assert again.status_code == 401
    assert len(world.events("AccountActivated")) == 1


def test_an_invalid_code_gets_one_answer_in_the_person_s_language(world: IdentityWorld) -> None:
    invitation = world.invite()
    for typed in ("AAAA-BBBB-CCCC-DDDD", "not a code", invitation.code[:-1] + "Z"):
        if typed == invitation.code:
            continue
        answer = world.redeem(typed)
        assert (answer.status_code, answer.json) == (404, INVALID_CODE)
        answer = world.redeem(typed, **{"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
        assert (answer.status_code, answer.json) == (404, INVALID_CODE_FR)
    assert world.redeem(invitation.code.lower().replace("-", " ")).status_code == 200


def test_skipped_steps_are_refused(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    _out_of_order(world.step(token, "language", {"language": "en"}), "password")
    _out_of_order(world.step(token, "terms", world.terms()), "password", "language")
    _out_of_order(
        world.step(token, "two-factor", {"method": "email"}), "password", "language", "terms"
    )
    _out_of_order(
        world.step(token, "two-factor/confirm", {"code": "123456"}),
        "password",
        "language",
        "terms",
    )

    assert world.step(token, "password", {"password": PASSWORD}).status_code == 200
    _out_of_order(world.step(token, "terms", world.terms()), "language")
    _out_of_order(world.step(token, "two-factor", {"method": "email"}), "language", "terms")

    assert world.step(token, "language", {"language": "en"}).status_code == 200
    _out_of_order(world.step(token, "two-factor", {"method": "email"}), "terms")
    _out_of_order(world.step(token, "two-factor/confirm", {"code": "123456"}), "terms")

    assert world.events("TwoFactorCodeRequested") == []
    account = world.account(invitation.email)
    assert account.status == "pending" and account.terms_accepted_at is None
    french = world.step(token, "two-factor", {"method": "email"}, **{"Accept-Language": "fr"})
    # the account chose English: its choice wins over the browser's
    assert french.json["message"] == "Finish the earlier activation steps first."


def test_a_half_done_activation_resumes_with_the_same_code(world: IdentityWorld) -> None:
    invitation = world.invite()
    first = world.activation_token(invitation)
    assert world.step(first, "password", {"password": PASSWORD}).status_code == 200

    resumed = world.redeem(invitation.code)
    assert resumed.status_code == 200
    assert resumed.json["steps"] == _steps("password")
    token = resumed.json["activation_token"]
    assert token != first
    assert world.step(token, "language", {"language": "en"}).status_code == 200
    status = world.client.get("/api/v1/activation", headers=world.bearer(token))
    assert status.json["steps"] == _steps("password", "language")


def test_a_half_done_activation_resumes_by_signing_in(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    assert world.step(token, "password", {"password": PASSWORD}).status_code == 200

    wrong = world.sign_in(invitation.email, "Wrong-Horse-9-Battery")
    assert wrong.status_code == 401 and wrong.json["error"] == "invalid_credentials"
    answer = world.sign_in(invitation.email, PASSWORD)
    assert answer.status_code == 409
    body = answer.json
    assert body["error"] == "activation_incomplete"
    assert body["message"] == "Your account is not activated yet. Finish the activation steps."
    assert body["steps"] == _steps("password")
    assert "challenge_id" not in body
    assert world.codes(invitation.email, "sign_in") == []  # no sign-in code for a pending one

    resumed = body["activation_token"]
    assert world.step(resumed, "language", {"language": "en"}).status_code == 200
    assert world.step(resumed, "terms", world.terms()).status_code == 200
    assert world.step(resumed, "two-factor", {"method": "email"}).status_code == 202
    code = world.last_code(invitation.email, "activation")
    confirmed = world.step(resumed, "two-factor/confirm", {"code": code})
    assert (confirmed.status_code, confirmed.json) == (200, {"status": "active"})
    assert [e.data["invitation_id"] for e in world.events("AccountActivated")] == [invitation.id]
    # now an ordinary sign-in
    assert set(world.sign_in(invitation.email, PASSWORD).json) == {
        "challenge_id",
        "method",
        "expires_in",
    }


def test_the_activation_status_shows_steps_and_terms_versions(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    answer = world.client.get("/api/v1/activation", headers=world.bearer(token))
    assert (answer.status_code, answer.json) == (
        200,
        {
            "email": invitation.email,
            "first_name": "Ada",
            "language": None,
            "steps": _steps(),
            "terms_version": TERMS_VERSION,
            "privacy_version": PRIVACY_VERSION,
            "status": "pending",
            "partners": [],
            "activated_with": None,
        },
    )
    for headers in ({}, world.bearer("not-a-token"), {"Authorization": f"Basic {token}"}):
        refused = world.client.get("/api/v1/activation", headers=headers)
        assert refused.status_code == 401 and refused.json["error"] == "invalid_token"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_activation_token_lasts_one_hour(world: IdentityWorld) -> None:
    token = world.activation_token(world.invite())
    world.clock.advance(minutes=59, seconds=59)
    assert world.client.get("/api/v1/activation", headers=world.bearer(token)).status_code == 200
    world.clock.advance(seconds=1)
    assert world.client.get("/api/v1/activation", headers=world.bearer(token)).status_code == 401


def test_terms_must_be_the_current_versions_and_accepted(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    assert world.step(token, "password", {"password": PASSWORD}).status_code == 200
    assert world.step(token, "language", {"language": "en"}).status_code == 200

    old = world.step(
        token,
        "terms",
        {"terms_version": "2025-01-01", "privacy_version": PRIVACY_VERSION, "accepted": True},
    )
    assert old.status_code == 409
    assert old.json["error"] == "terms_outdated"
    assert (old.json["terms_version"], old.json["privacy_version"]) == (
        TERMS_VERSION,
        PRIVACY_VERSION,
    )
    refused = world.step(token, "terms", world.terms(accepted=False))
    assert refused.status_code == 422 and refused.json["error"] == "terms_not_accepted"
    missing = world.step(token, "terms", world.context.terms.as_dict())
    assert missing.status_code == 422
    assert world.account(invitation.email).terms_accepted_at is None

    assert world.step(token, "terms", world.terms()).status_code == 200
    assert world.account(invitation.email).terms_accepted_at == START


def test_the_activation_code_is_resent_no_sooner_than_30_seconds(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    for name, body in (
        ("password", {"password": PASSWORD}),
        ("language", {"language": "en"}),
        ("terms", world.terms()),
    ):
        assert world.step(token, name, body).status_code == 200
    assert world.step(token, "two-factor", {"method": "email"}).status_code == 202
    (old,) = world.codes(invitation.email, "activation")

    too_soon = world.step(token, "two-factor", {"method": "email"})
    assert too_soon.status_code == 429
    assert too_soon.json["error"] == "resend_too_soon"
    assert too_soon.headers["Retry-After"] == "30" and too_soon.json["retry_after"] == 30
    world.clock.advance(seconds=29)
    assert world.step(token, "two-factor", {"method": "email"}).headers["Retry-After"] == "1"
    assert len(world.codes(invitation.email, "activation")) == 1

    world.clock.advance(seconds=1)
    assert world.step(token, "two-factor", {"method": "email"}).status_code == 202
    new = world.last_code(invitation.email, "activation")
    refused = world.step(token, "two-factor/confirm", {"code": old})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_code"
    assert world.account(invitation.email).status == "pending"
    confirmed = world.step(token, "two-factor/confirm", {"code": new})
    assert (confirmed.status_code, confirmed.json) == (200, {"status": "active"})


def test_the_activation_code_expires_after_10_minutes(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    for name, body in (
        ("password", {"password": PASSWORD}),
        ("language", {"language": "en"}),
        ("terms", world.terms()),
    ):
        assert world.step(token, name, body).status_code == 200
    assert world.step(token, "two-factor", {"method": "email"}).status_code == 202
    world.clock.advance(minutes=10, seconds=1)
    code = world.last_code(invitation.email, "activation")
    assert world.step(token, "two-factor/confirm", {"code": code}).status_code == 400


def test_a_resent_invitation_ends_what_the_old_code_opened(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    assert world.step(token, "password", {"password": PASSWORD}).status_code == 200
    resent = load_example("InvitationIssued")
    resent["id"] = str(uuid.uuid4())
    resent["data"].update(
        invitation_id=str(invitation.id),
        institution_id=str(invitation.institution_id),
        email=invitation.email,
        evaluation=invitation.evaluation,
        code=new_code(),
        resent=True,
        expires_at=(world.clock() + timedelta(days=30)).isoformat(),
    )
    world.handle(decode(resent))
    assert world.client.get("/api/v1/activation", headers=world.bearer(token)).status_code == 401
    assert world.redeem(invitation.code).status_code == 404
    again = world.redeem(resent["data"]["code"])
    assert again.status_code == 200
    assert {s["name"]: s["done"] for s in again.json["steps"]}["password"] is True


def test_the_invitation_used_is_the_one_announced(world: IdentityWorld) -> None:
    """Invited to two evaluations before activating: AccountActivated names the invitation
    whose code was redeemed."""
    first = world.invite(evaluation={"ref": "MATH101", "name": "Mathematics"})
    world.clock.advance(minutes=5)
    world.invite(evaluation={"ref": "PHYS201", "name": "Physics"})
    world.clock.advance(minutes=5)
    world.activate(first)
    (activated,) = world.events("AccountActivated")
    assert activated.data["invitation_id"] == first.id
    assert activated.data["evaluation"] == first.evaluation


def test_a_revoked_invitation_ends_a_half_done_activation(world: IdentityWorld) -> None:
    invitation = world.invite()
    token = world.activation_token(invitation)
    assert world.step(token, "password", {"password": PASSWORD}).status_code == 200
    revoked = load_example("InvitationRevoked")
    revoked["data"]["invitation_id"] = str(invitation.id)
    world.handle(decode(revoked))

    assert world.client.get("/api/v1/activation", headers=world.bearer(token)).status_code == 401
    answer = world.redeem(invitation.code)
    assert (answer.status_code, answer.json) == (404, INVALID_CODE)
    signed = world.sign_in(invitation.email, PASSWORD)
    assert signed.status_code == 409 and signed.json["error"] == "activation_incomplete"
    assert "activation_token" not in signed.json
    assert signed.json["message"].startswith("Your invitation is no longer valid.")

    # invited again: the new code resumes where the activation stopped
    again = world.invite()
    resumed = world.redeem(again.code)
    assert resumed.status_code == 200 and resumed.json["steps"] == _steps("password")


def test_the_stored_hash_is_argon2id_with_the_platform_s_parameters(
    database_url: str, tmp_path: Path
) -> None:
    with identity_world(database_url, tmp_path, passwords=Passwords()) as world:
        world.activate(world.invite())
        stored = world.account("ada@example.org").password_hash
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert PASSWORD not in stored


def test_a_weaker_hash_is_upgraded_at_sign_in(world: IdentityWorld) -> None:
    world.active_account()  # hashed with the tests' cheap parameters
    assert world.account("ada@example.org").password_hash.startswith("$argon2id$v=19$m=1024,")
    platform = world.again(passwords=Passwords())
    assert platform.sign_in("ada@example.org", PASSWORD).status_code == 200
    stored = world.account("ada@example.org").password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    world.clock.advance(seconds=30)
    assert platform.sign_in("ada@example.org", PASSWORD).status_code == 200
