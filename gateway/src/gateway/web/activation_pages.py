"""Activation pages: the invitation code, then one page per step (password, language, terms,
two-factor by email; or a sign-in partner, language, terms), each resumable, with the
progress shown."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from contracts.events.internal import PARTNER_NAMES, PROVIDERS
from gateway.ratelimit import RateLimits
from gateway.web.backend import Answer
from gateway.web.pages import LANGUAGE_NAMES, api, cooldown_left, render, show_partner_buttons
from gateway.web.signin_pages import PageResult, refusal

#: identity's step names and the page of each; a sign-in partner stands in for the password
#: on the first page
STEPS = {
    "partner": "web.activation_password",
    "password": "web.activation_password",
    "language": "web.activation_language",
    "terms": "web.activation_terms",
    "two_factor": "web.activation_two_factor",
}


def _labels(activated_with: object = None) -> dict[str, str]:
    partner = PARTNER_NAMES.get(str(activated_with))
    return {
        "partner": gettext("Sign in with %(partner)s", partner=partner)
        if partner
        else gettext("Sign in with a partner"),
        "password": gettext("Create your password"),
        "language": gettext("Choose your language"),
        "terms": gettext("Accept the terms"),
        "two_factor": gettext("Two-factor authentication"),
    }


def current_activation() -> Answer | None:
    token = session.get("activation")
    if not isinstance(token, str):
        return None
    answer = api("identity", "GET", "/api/v1/activation", bearer=token)
    if answer.status == 401:
        session.pop("activation", None)
    return answer if answer.ok else None


def restart_activation() -> Response:
    flash(gettext("Your activation session has ended. Enter your invitation code again."))
    return redirect(url_for("web.invitation_code"))


def activated(answer: Answer) -> Response:
    """The account is active: the sign-in page says so, and with which partner if one."""
    session.pop("activation", None)
    session.pop("activation_code_sent", None)
    partner = answer.body.get("activated_with")
    if partner in PROVIDERS:
        session["activated_with"] = partner
    else:
        session.pop("activated_with", None)
    # the sign-in page says so (activated=1): a notice too would say it twice
    return redirect(url_for("web.sign_in", activated=1))


def next_step(status: Answer) -> Response:
    # the partner's way ends at the terms: the account is active at once
    if status.body.get("status") == "active":
        return activated(status)
    for step in status.body.get("steps", []):
        if not step["done"]:
            return redirect(url_for(STEPS[step["name"]]))
    return redirect(url_for("web.sign_in"))


def _page(activation: Answer, step: str, template: str, **context: Any) -> PageResult:
    labels = _labels(activation.body.get("activated_with"))
    steps = [{**s, "label": labels[s["name"]]} for s in activation.body.get("steps", [])]
    names = [s["name"] for s in steps]
    if step not in names:  # not a step of this account's way (the partner's has fewer)
        return redirect(url_for("web.activation_next"))
    title = gettext(
        "%(step)s (step %(n)s of %(total)s)",
        step=labels[step],
        n=names.index(step) + 1,
        total=len(names),
    )
    errors = context.pop("errors", [])
    return render(
        template,
        title,
        status=context.pop("code", 400 if errors else 200),
        steps=steps,
        current=step,
        account=activation.body,
        errors=errors,
        **context,
    )


def _first_step(status: Answer) -> str | None:
    steps = status.body.get("steps") or [{}]
    name = steps[0].get("name")
    return name if isinstance(name, str) else None


def _done(status: Answer, name: str) -> bool:
    return any(s.get("name") == name and s.get("done") for s in status.body.get("steps", []))


def first_step_page(
    status: Answer,
    *,
    errors: list[dict[str, Any]] | None = None,
    violations: list[dict[str, str]] | None = None,
    code: int | None = None,
    here: str | None = None,
) -> PageResult:
    """The password page, which offers the institution's sign-in partners instead."""
    errors = errors or []
    partners = [p for p in PROVIDERS if p in (status.body.get("partners") or [])]
    if partners:
        show_partner_buttons()
    return _page(
        status,
        "partner" if _first_step(status) == "partner" else "password",
        "activation_password.html",
        errors=errors,
        code=code or (400 if errors else 200),
        violations=violations or [],
        partners=partners,
        here=here,
    )


def _refused_step(answer: Answer) -> Response | None:
    """A step refused because an earlier one is missing: go back to it."""
    if answer.error == "step_out_of_order":
        return redirect(url_for("web.activation_next"))
    if answer.status == 401:
        return restart_activation()
    return None


def add_activation_pages(blp: Blueprint, limits: RateLimits) -> None:
    @blp.route("/connexion/code-invitation", methods=["GET", "POST"])
    @limits.code_entry_pages
    def invitation_code() -> PageResult:
        code = request.values.get("code", "").strip()
        errors: list[dict[str, Any]] = []
        invalid = False
        if request.method == "POST":
            if not code:
                errors.append(
                    {"field": "code", "text": gettext("Enter the invitation code from the email.")}
                )
            else:
                answer = api("identity", "POST", "/api/v1/activation", {"code": code})
                if answer.ok:
                    session["activation"] = answer.body["activation_token"]
                    return next_step(answer)
                invalid = answer.error == "invitation_code_invalid"
                text = (
                    gettext("Invitation code does not exist or has expired")
                    if invalid
                    else refusal(answer)["text"]
                )
                errors.append({"field": "code", "text": text})
        return render(
            "invitation_code.html",
            gettext("Activate your account"),
            status=404 if invalid else (400 if errors else 200),
            code=code,
            errors=errors,
            invalid=invalid,
        )

    @blp.get("/activation")
    def activation_next() -> Response:
        status = current_activation()
        return next_step(status) if status else restart_activation()

    @blp.route("/activation/mot-de-passe", methods=["GET", "POST"])
    def activation_password() -> PageResult:
        status = current_activation()
        if status is None:
            return restart_activation()
        first = _first_step(status)
        if first != "password" and (first != "partner" or _done(status, "partner")):
            return redirect(url_for("web.activation_next"))
        violations: list[dict[str, str]] = []
        if request.method == "POST":
            answer = api(
                "identity",
                "POST",
                "/api/v1/activation/password",
                {"password": request.form.get("password", "")},
                bearer=session["activation"],
            )
            if answer.ok:
                return next_step(answer)
            back = _refused_step(answer)
            if back:
                return back
            violations = list(answer.body.get("violations", []))
            errors = [{"field": "password", "text": v["message"]} for v in violations] or [
                refusal(answer, "password")
            ]
            return first_step_page(status, errors=errors, violations=violations)
        return first_step_page(status)

    @blp.route("/activation/langue", methods=["GET", "POST"])
    def activation_language() -> PageResult:
        status = current_activation()
        if status is None:
            return restart_activation()
        if request.method == "POST":
            chosen = request.form.get("language", "")
            if chosen not in LANGUAGE_NAMES:
                errors = [{"field": "language-en", "text": gettext("Choose a language.")}]
                return _page(status, "language", "activation_language.html", errors=errors)
            answer = api(
                "identity",
                "POST",
                "/api/v1/activation/language",
                {"language": chosen},
                bearer=session["activation"],
            )
            if answer.ok:
                session["lang"] = chosen
                return next_step(answer)
            back = _refused_step(answer)
            if back:
                return back
            errors = [refusal(answer, "language-en")]
            return _page(status, "language", "activation_language.html", errors=errors)
        return _page(status, "language", "activation_language.html")

    @blp.route("/activation/conditions", methods=["GET", "POST"])
    def activation_terms() -> PageResult:
        status = current_activation()
        if status is None:
            return restart_activation()
        if request.method == "POST":
            if not request.form.get("accept"):
                errors = [
                    {
                        "field": "accept",
                        "text": gettext(
                            "Accept the Terms of Use and the Privacy Policy to continue."
                        ),
                    }
                ]
                return _page(status, "terms", "activation_terms.html", errors=errors)
            answer = api(
                "identity",
                "POST",
                "/api/v1/activation/terms",
                {
                    "terms_version": status.body.get("terms_version", ""),
                    "privacy_version": status.body.get("privacy_version", ""),
                    "accepted": True,
                },
                bearer=session["activation"],
            )
            if answer.ok:
                return next_step(answer)
            back = _refused_step(answer)
            if back:
                return back
            return _page(
                status, "terms", "activation_terms.html", errors=[refusal(answer, "accept")]
            )
        return _page(status, "terms", "activation_terms.html")

    @blp.get("/activation/double-authentification")
    def activation_two_factor() -> PageResult:
        status = current_activation()
        if status is None:
            return restart_activation()
        return _page(
            status,
            "two_factor",
            "activation_two_factor.html",
            sent=bool(session.get("activation_code_sent")),
            cooldown=cooldown_left(session.get("activation_code_sent")),
        )

    @blp.post("/activation/double-authentification/envoyer")
    def activation_send_code() -> PageResult:
        status = current_activation()
        if status is None:
            return restart_activation()
        answer = api(
            "identity",
            "POST",
            "/api/v1/activation/two-factor",
            {"method": "email"},
            bearer=session["activation"],
        )
        if answer.ok:
            # when, not just whether: the page counts down to the next possible resend
            session["activation_code_sent"] = time.time()
            flash(gettext("A code has been sent to %(email)s.", email=status.body.get("email")))
            return redirect(url_for("web.activation_two_factor"))
        back = _refused_step(answer)
        if back:
            return back
        return _page(
            status,
            "two_factor",
            "activation_two_factor.html",
            errors=[refusal(answer)],
            code=429 if answer.status == 429 else 400,
            sent=bool(session.get("activation_code_sent")),
            cooldown=answer.retry_after or 0,
        )

    @blp.post("/activation/double-authentification")
    @limits.code_entry_pages
    def activation_confirm() -> PageResult:
        status = current_activation()
        if status is None:
            return restart_activation()
        code = "".join(request.form.get("code", "").split())
        if not code:
            errors = [{"field": "code", "text": gettext("Enter the code from the email.")}]
        else:
            answer = api(
                "identity",
                "POST",
                "/api/v1/activation/two-factor/confirm",
                {"code": code},
                bearer=session["activation"],
            )
            if answer.ok:
                return activated(answer)
            back = _refused_step(answer)
            if back:
                return back
            errors = [refusal(answer, "code")]
        return _page(
            status,
            "two_factor",
            "activation_two_factor.html",
            errors=errors,
            sent=True,
            cooldown=cooldown_left(session.get("activation_code_sent")),
        )
