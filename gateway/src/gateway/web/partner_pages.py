"""Signing in and activating with a sign-in partner (DESIGN section 9): the button's form
asks identity where to send the browser, the partner sends it back here, and identity checks
what it brought. The attempt waits in the browser's session, good for one return only."""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask_babel import gettext

from contracts.events.internal import PARTNER_CALLBACK_PATH, PARTNER_NAMES, PROVIDERS
from gateway.ratelimit import RateLimits
from gateway.web.activation_pages import (
    current_activation,
    first_step_page,
    next_step,
    restart_activation,
)
from gateway.web.backend import UNAVAILABLE, Answer
from gateway.web.pages import current_language, render, web
from gateway.web.signin_pages import (
    PageResult,
    refusal,
    resumed_activation,
    sign_in_page,
    signed_in,
    terms_changed,
)

#: the session key of the attempt waiting for the partner's answer (one at a time)
PENDING = "partner_attempt"
SIGN_IN, ACTIVATION = "sign_in", "activation"
AUTHORIZATION_FIELDS = ("authorization_url", "state", "nonce", "code_verifier")


def _not_found() -> tuple[str, int]:
    text = gettext("This page does not exist.")
    return render("refused.html", gettext("Page not found"), status=404, errors=[{"text": text}])


def _status_of(answer: Answer) -> int:
    """Identity's refusal as it is; "not now" (the partner or identity unreachable) as 503,
    never as the gateway's own failure."""
    return answer.status if 400 <= answer.status < 500 else 503


def _line(answer: Answer) -> dict[str, Any]:
    # a message identity wrote for people; an answer that is not one reads as unavailable
    if 400 <= answer.status < 500 or answer.error == "partner_unreachable":
        return refusal(answer)
    return refusal(UNAVAILABLE)


def _refused_page(intent: str, status: int, line: dict[str, Any]) -> PageResult:
    """The page where the person started, with what went wrong."""
    if intent == SIGN_IN:
        return sign_in_page(status, errors=[line], here=url_for("web.sign_in"))
    view = current_activation()
    if view is None:
        return render(
            "invitation_code.html",
            gettext("Activate your account"),
            status=status,
            code="",
            errors=[{**line, "field": "code"}],
            invalid=False,
            here=url_for("web.invitation_code"),
        )
    return first_step_page(
        view, errors=[line], code=status, here=url_for("web.activation_password")
    )


def _expired(intent: str) -> PageResult:
    text = gettext("This sign-in attempt has expired or was already used. Start again.")
    return _refused_page(intent, 400, {"field": None, "text": text})


def _cancelled(intent: str, provider: str) -> PageResult:
    partner = PARTNER_NAMES[provider]
    text = (
        gettext(
            "%(partner)s did not sign you in: the sign-in was cancelled or refused. Try "
            "again, or use your password.",
            partner=partner,
        )
        if intent == SIGN_IN
        else gettext(
            "%(partner)s did not sign you in: the sign-in was cancelled or refused. Try "
            "again, or create a password.",
            partner=partner,
        )
    )
    return _refused_page(intent, 400, {"field": None, "text": text})


def _usable(answer: Answer) -> bool:
    if not answer.ok or not all(isinstance(answer.body.get(f), str) for f in AUTHORIZATION_FIELDS):
        return False
    return urlsplit(answer.body["authorization_url"]).scheme in ("https", "http")


def _same(expected: object, given: str) -> bool:
    if not isinstance(expected, str) or not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _signed_in(provider: str, attempt: dict[str, Any], proof: dict[str, str]) -> PageResult:
    body = {**proof, **(attempt.get("terms") or {})}
    issued = web().backend.partner_sign_in(provider, body, current_language())
    if not isinstance(issued, Answer):
        return signed_in(issued)
    resumed = resumed_activation(issued)
    if resumed is not None:
        return resumed
    if issued.error == "terms_outdated":
        return sign_in_page(
            409, errors=[terms_changed()], terms=issued.body, here=url_for("web.sign_in")
        )
    return _refused_page(SIGN_IN, _status_of(issued), _line(issued))


def _activated_with(provider: str, proof: dict[str, str]) -> PageResult:
    token = session.get("activation")
    if not isinstance(token, str):
        return restart_activation()
    answer = web().backend.internal(
        "POST",
        f"/internal/v1/partners/{provider}/activation",
        language=current_language(),
        json={**proof, "activation_token": token},
    )
    if answer.ok:
        return next_step(answer)
    if answer.error == "step_out_of_order":
        return redirect(url_for("web.activation_next"))
    if answer.error == "invalid_token":
        session.pop("activation", None)
    return _refused_page(ACTIVATION, _status_of(answer), _line(answer))


def add_partner_pages(blp: Blueprint, limits: RateLimits) -> None:
    @blp.post("/connexion/partenaire/<provider>")
    @limits.sign_in_pages
    def partner_start(provider: str) -> PageResult:
        if provider not in PROVIDERS:
            return _not_found()
        intent = ACTIVATION if request.form.get("intent") == ACTIVATION else SIGN_IN
        hint = None
        if intent == ACTIVATION:
            view = current_activation()
            if view is None:
                return restart_activation()
            # the partner then suggests the address the institution registered
            hint = view.body.get("email")
        answer = web().backend.internal(
            "POST",
            f"/internal/v1/partners/{provider}/authorization",
            language=current_language(),
            json={"login_hint": hint},
        )
        if not _usable(answer):
            return _refused_page(intent, _status_of(answer), _line(answer))
        attempt: dict[str, Any] = {
            "provider": provider,
            "intent": intent,
            **{f: answer.body[f] for f in ("state", "nonce", "code_verifier")},
        }
        if intent == SIGN_IN and request.form.get("terms_version"):
            attempt["terms"] = {
                "terms_version": request.form["terms_version"],
                "privacy_version": request.form.get("privacy_version", ""),
            }
        session[PENDING] = attempt  # an earlier attempt, if any, no longer counts
        return redirect(answer.body["authorization_url"], 303)

    @blp.get(PARTNER_CALLBACK_PATH.replace("{provider}", "<provider>"))
    def partner_return(provider: str) -> PageResult:
        # first of all: whatever follows, this attempt cannot be answered twice
        attempt = session.pop(PENDING, None)
        if provider not in PROVIDERS:
            return _not_found()
        if not isinstance(attempt, dict):
            return _expired(ACTIVATION if "activation" in session else SIGN_IN)
        intent = ACTIVATION if attempt.get("intent") == ACTIVATION else SIGN_IN
        if attempt.get("provider") != provider or not _same(
            attempt.get("state"), request.args.get("state", "")
        ):
            return _expired(intent)
        code = request.args.get("code", "")
        if request.args.get("error") or not code:
            return _cancelled(intent, provider)
        proof = {
            "code": code,
            "code_verifier": str(attempt.get("code_verifier", "")),
            "nonce": str(attempt.get("nonce", "")),
        }
        if intent == SIGN_IN:
            return _signed_in(provider, attempt, proof)
        return _activated_with(provider, proof)
