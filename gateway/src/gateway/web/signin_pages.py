"""Sign-in pages: email and password, then the emailed code; forgotten and reset
passwords; signing out."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from contracts.events.internal import PARTNER_NAMES
from gateway.ratelimit import RateLimits
from gateway.sessions import IssuedTokens
from gateway.web.backend import Answer
from gateway.web.pages import (
    access_token,
    api,
    cooldown_left,
    keep_tokens,
    render,
    show_partner_buttons,
    wait_message,
    web,
)

PageResult = Response | tuple[str, int]

RESET_PATH = "/connexion/reset-password"


def refusal(answer: Answer, field: str | None = None) -> dict[str, Any]:
    """One line of the error summary for what the service answered."""
    texts = {
        "invalid_credentials": gettext("Wrong email address or password."),
        "invalid_code": gettext(
            "The code is wrong or has expired. Check the latest email or ask for a new code."
        ),
        "service_unavailable": gettext(
            "The platform cannot answer right now. Try again in a few moments."
        ),
        "reset_token_invalid": gettext(
            "This link is no longer valid. Ask for a new one from the sign-in page."
        ),
    }
    if answer.error in ("too_many_attempts", "rate_limited", "resend_too_soon"):
        prefix = (
            gettext("A code was just sent.")
            if answer.error == "resend_too_soon"
            else gettext("Too many attempts.")
        )
        return {"field": field, "text": f"{prefix} {wait_message(answer.retry_after or 60)}"}
    text = texts.get(answer.error or "") or answer.message or texts["service_unavailable"]
    return {"field": field, "text": text}


def terms_changed() -> dict[str, Any]:
    return {
        "field": "accept_terms",
        "text": gettext(
            "The Terms of Use or the Privacy Policy have changed. Read and accept them to continue."
        ),
    }


def signed_in(issued: IssuedTokens) -> Response:
    """Whatever proved who it is (an emailed code, a sign-in partner): the tokens kept, the
    pages in the account's language, the dashboard."""
    keep_tokens(issued)
    me = api("identity", "GET", "/api/v1/me", bearer=issued.access_token)
    if me.ok and me.body.get("language"):
        session["lang"] = me.body["language"]
    return redirect(url_for("web.dashboard"))


def resumed_activation(answer: Answer) -> Response | None:
    """A proven account whose activation was left half done: on to its next step."""
    if answer.error == "activation_incomplete" and answer.body.get("activation_token"):
        session["activation"] = answer.body["activation_token"]
        flash(gettext("Your account is not activated yet. Finish the steps below."))
        return redirect(url_for("web.activation_next"))
    return None


def sign_in_page(
    status: int = 200,
    *,
    errors: list[dict[str, Any]] | None = None,
    email: str = "",
    terms: dict[str, Any] | None = None,
    here: str | None = None,
) -> tuple[str, int]:
    """The sign-in page, with a button for each partner the operator turned on."""
    activated = request.args.get("activated") == "1"
    partner = session.get("activated_with") if activated else None
    partners = web().partners.current()
    if partners:
        show_partner_buttons()
    return render(
        "sign_in.html",
        gettext("Sign in"),
        status=status,
        email=email,
        errors=errors or [],
        terms=terms,
        activated=activated,
        activated_with=PARTNER_NAMES.get(str(partner)),
        partners=partners,
        here=here,
    )


def add_sign_in_pages(blp: Blueprint, limits: RateLimits) -> None:
    @blp.get("/")
    def home() -> Response:
        return redirect(url_for("web.dashboard" if "auth" in session else "web.sign_in"))

    @blp.route("/connexion", methods=["GET", "POST"])
    @limits.sign_in_pages
    def sign_in() -> PageResult:
        email = request.form.get("email", "").strip()
        errors: list[dict[str, Any]] = []
        terms: dict[str, Any] | None = None
        status = 200
        if request.method == "POST":
            password = request.form.get("password", "")
            if not email:
                errors.append({"field": "email", "text": gettext("Enter your email address.")})
            if not password:
                errors.append({"field": "password", "text": gettext("Enter your password.")})
            if not errors:
                body: dict[str, str] = {"email": email, "password": password}
                if request.form.get("accept_terms") and request.form.get("terms_version"):
                    body["terms_version"] = request.form["terms_version"]
                    body["privacy_version"] = request.form.get("privacy_version", "")
                answer = api("identity", "POST", "/api/v1/sessions", body)
                # from the answer, not the text: the text is translated
                status = 429 if answer.status == 429 else 400
                if answer.ok:
                    session["challenge"] = {
                        "id": answer.body["challenge_id"],
                        "email": email,
                        "sent_at": time.time(),
                    }
                    return redirect(url_for("web.sign_in_code"))
                resumed = resumed_activation(answer)
                if resumed is not None:
                    return resumed
                if answer.error == "terms_outdated":
                    terms = answer.body
                    errors.append(terms_changed())
                else:
                    errors.append(refusal(answer, "email"))
            else:
                status = 400
        return sign_in_page(status, errors=errors, email=email, terms=terms)

    @blp.route("/connexion/code", methods=["GET", "POST"])
    @limits.sign_in_pages
    def sign_in_code() -> PageResult:
        challenge = session.get("challenge")
        if not isinstance(challenge, dict):
            return redirect(url_for("web.sign_in"))
        errors: list[dict[str, Any]] = []
        if request.method == "POST":
            code = "".join(request.form.get("code", "").split())
            if not code:
                errors.append({"field": "code", "text": gettext("Enter the code from the email.")})
            else:
                issued = web().backend.open_session(str(challenge["id"]), code)
                if not isinstance(issued, Answer):
                    session.pop("challenge", None)
                    return signed_in(issued)
                errors.append(refusal(issued, "code"))
        return render(
            "sign_in_code.html",
            gettext("Enter the code sent by email"),
            status=400 if errors else 200,
            email=challenge.get("email", ""),
            errors=errors,
            cooldown=cooldown_left(challenge.get("sent_at")),
        )

    @blp.post("/connexion/code/renvoyer")
    def resend_sign_in_code() -> PageResult:
        challenge = session.get("challenge")
        if not isinstance(challenge, dict):
            return redirect(url_for("web.sign_in"))
        answer = api(
            "identity",
            "POST",
            "/api/v1/sessions/two-factor/resend",
            {"challenge_id": challenge["id"]},
        )
        if answer.ok:
            session["challenge"] = {
                **challenge,
                "id": answer.body["challenge_id"],
                "sent_at": time.time(),
            }
            flash(gettext("A new code is on its way. The previous one no longer works."))
            return redirect(url_for("web.sign_in_code"))
        return render(
            "sign_in_code.html",
            gettext("Enter the code sent by email"),
            status=answer.status if answer.status >= 400 else 400,
            email=challenge.get("email", ""),
            errors=[refusal(answer)],
            cooldown=answer.retry_after or 30,
        )

    @blp.route("/connexion/mot-de-passe-oublie", methods=["GET", "POST"])
    @limits.forgot_password_pages
    def forgot_password() -> PageResult:
        errors: list[dict[str, Any]] = []
        email = request.form.get("email", "").strip()
        if request.method == "POST":
            if not email or "@" not in email:
                errors.append({"field": "email", "text": gettext("Enter your full email address.")})
            else:
                answer = api("identity", "POST", "/api/v1/password/forgot", {"email": email})
                if answer.ok:
                    return render("forgot_sent.html", gettext("Check your email"), email=email)
                errors.append(refusal(answer, "email"))
        return render(
            "forgot.html",
            gettext("Forgot password"),
            status=400 if errors else 200,
            email=email,
            errors=errors,
        )

    @blp.route(RESET_PATH, methods=["GET", "POST"])
    @limits.forgot_password_pages
    def reset_password() -> PageResult:
        token = request.values.get("token", "")
        errors: list[dict[str, Any]] = []
        violations: list[dict[str, str]] = []
        if request.method == "POST":
            password = request.form.get("password", "")
            answer = api(
                "identity", "POST", "/api/v1/password/reset", {"token": token, "password": password}
            )
            if answer.ok:
                session.pop("auth", None)
                flash(gettext("Your password has been changed. Sign in with the new one."))
                return redirect(url_for("web.sign_in"))
            if answer.error == "password_policy":
                violations = list(answer.body.get("violations", []))
                errors = [{"field": "password", "text": v["message"]} for v in violations]
            else:
                errors.append(refusal(answer))
        return render(
            "reset.html",
            gettext("Choose a new password"),
            status=400 if errors else 200,
            token=token,
            errors=errors,
            violations=violations,
            # after a refusal the token is in the form, not the address: switching the
            # language must come back with it
            here=url_for("web.reset_password", token=token) if token else None,
        )

    @blp.post("/deconnexion")
    def sign_out() -> Response:
        # refreshed first if it has expired, or the session would stay open at identity
        token = access_token()
        if token is not None:
            api("identity", "DELETE", "/api/v1/sessions", bearer=token)
        language = session.get("lang")
        session.clear()
        if language:
            session["lang"] = language
        flash(gettext("You are signed out."))
        return redirect(url_for("web.sign_in"))
