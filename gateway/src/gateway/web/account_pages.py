"""The signed-in candidate's pages: the dashboard and the profile; the language switcher
and the Terms of Use and Privacy Policy, open to everyone."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from gateway.web.pages import LANGUAGE_NAMES, access_token, api, render, web
from gateway.web.security import local_path
from gateway.web.signin_pages import PageResult, refusal


def _tabs() -> dict[str, str]:
    """The dashboard's tabs, by their ``onglet`` in the address."""
    return {
        "exams": gettext("Upcoming exams"),
        "copies": gettext("Submitted copies"),
        "technical-test": gettext("Technical test"),
        "device": gettext("Validate your device"),
    }


def _sign_in_again() -> Response:
    flash(gettext("Your session has ended. Sign in again."))
    return redirect(url_for("web.sign_in"))


def add_account_pages(blp: Blueprint) -> None:
    @blp.post("/langue")
    def choose_language() -> Response:
        chosen = request.form.get("language", "")
        if chosen in LANGUAGE_NAMES:
            session["lang"] = chosen
            token = access_token()
            if token:
                api("identity", "PATCH", "/api/v1/me", {"language": chosen}, bearer=token)
        # only a path of this site: a switcher's ``next`` must not send anyone elsewhere
        home = url_for("web.home")
        return redirect(local_path(request.form.get("next", home), fallback=home))

    @blp.get("/tableau-de-bord")
    def dashboard() -> PageResult | Response:
        token = access_token()
        if token is None:
            return _sign_in_again()
        me = api("identity", "GET", "/api/v1/me", bearer=token)
        if me.status == 401:
            session.pop("auth", None)
            return _sign_in_again()
        board = api("exams", "GET", "/api/v1/dashboard", bearer=token)
        data: dict[str, Any] = board.body if board.ok else {}
        tabs = _tabs()
        tab = request.args.get("onglet", "exams")
        tab = tab if tab in tabs else "exams"
        dashboard_title = gettext("Dashboard")
        return render(
            "dashboard.html",
            # each tab its own title: the title is what a screen reader says on arrival
            f"{tabs[tab]} – {dashboard_title}",
            me=me.body,
            upcoming=data.get("upcoming_exams") or [],
            copies=data.get("submitted_copies") or [],
            technical_test=data.get("technical_test"),
            device=data.get("device"),
            exams_available=board.ok,
            tabs=tabs,
            tab=tab,
        )

    @blp.route("/profil", methods=["GET", "POST"])
    def profile() -> PageResult | Response:
        token = access_token()
        if token is None:
            return _sign_in_again()
        errors: list[dict[str, Any]] = []
        if request.method == "POST" and request.form.get("form") == "language":
            chosen = request.form.get("language", "")
            answer = api("identity", "PATCH", "/api/v1/me", {"language": chosen}, bearer=token)
            if answer.ok:
                session["lang"] = chosen
                flash(gettext("Your language has been saved."))
                return redirect(url_for("web.profile"))
            errors.append(refusal(answer, "language-en"))
        elif request.method == "POST" and request.form.get("form") == "password":
            answer = api(
                "identity",
                "POST",
                "/api/v1/me/password",
                {
                    "current_password": request.form.get("current_password", ""),
                    "new_password": request.form.get("new_password", ""),
                },
                bearer=token,
            )
            if answer.ok:
                flash(
                    gettext(
                        "Your password has been changed. Your other sessions have been signed out."
                    )
                )
                return redirect(url_for("web.profile"))
            if answer.error == "current_password_incorrect":
                errors.append(
                    {"field": "current_password", "text": gettext("The current password is wrong.")}
                )
            elif answer.error == "password_policy":
                errors.extend(
                    {"field": "new_password", "text": v["message"], "violation": v}
                    for v in answer.body.get("violations", [])
                )
            else:
                errors.append(refusal(answer, "current_password"))
        me = api("identity", "GET", "/api/v1/me", bearer=token)
        if not me.ok:
            session.pop("auth", None)
            return _sign_in_again()
        return render(
            "profile.html",
            gettext("Profile"),
            status=400 if errors else 200,
            me=me.body,
            errors=errors,
        )

    @blp.get("/conditions-utilisation")
    def terms() -> PageResult:
        return render("terms.html", gettext("Terms of Use"), version=web().terms_version)

    @blp.get("/politique-confidentialite")
    def privacy() -> PageResult:
        return render("privacy.html", gettext("Privacy Policy"), version=web().privacy_version)
