"""The web side: server-rendered pages and a JSON API over a ``MessageStore``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, render_template, request, url_for
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from notifier.devmailbox.message import ParsedMessage, parse_message
from notifier.devmailbox.store import MessageStore, StoredMessage

# The pages themselves: no script at all, styles from our own static file only.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# A message's HTML part: no script, no network (remote images, fonts, forms), inline styles
# allowed so that the email looks as it will in a mail client. ``sandbox`` also applies
# when the URL is opened directly rather than in the page's sandboxed iframe.
HTML_PART_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)
RAW_CSP = "default-src 'none'; sandbox"


def create_app(
    store: MessageStore,
    *,
    smtp_address: str | None = None,
    trusted_hosts: Sequence[str] | None = None,
) -> Flask:
    """The mailbox web app.

    ``smtp_address`` is only shown on the page; ``trusted_hosts`` (Flask's ``TRUSTED_HOSTS``)
    refuses other ``Host`` headers, which stops DNS-rebinding pages from reading the mailbox.
    """
    app = Flask(__name__)
    app.config.update(TRUSTED_HOSTS=list(trusted_hosts) if trusted_hosts else None)

    def load(message_id: str) -> tuple[StoredMessage, ParsedMessage]:
        stored = store.get(message_id)
        if stored is None:
            abort(404, "No message with this id.")
        return stored, parse_message(stored.raw)

    @app.get("/")
    def index() -> str:
        messages = [_summary(stored, parse_message(stored.raw)) for stored in _all(store)]
        return render_template("index.html", messages=messages, smtp_address=smtp_address)

    @app.get("/messages/<message_id>")
    def show(message_id: str) -> str:
        stored, parsed = load(message_id)
        return render_template("message.html", message=_detail(stored, parsed))

    @app.get("/messages/<message_id>/html")
    def html_part(message_id: str) -> Response:
        _, parsed = load(message_id)
        if parsed.html is None:
            abort(404, "This message has no HTML part.")
        response = Response(parsed.html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = HTML_PART_CSP
        return response

    @app.post("/delete-all")
    def delete_all() -> WerkzeugResponse:
        _refuse_cross_site()
        store.clear()
        return redirect(url_for("index"), code=303)

    @app.get("/api/messages")
    def api_list() -> Response:
        return jsonify([_summary(stored, parse_message(stored.raw)) for stored in _all(store)])

    @app.delete("/api/messages")
    def api_clear() -> Response:
        _refuse_cross_site()
        return jsonify({"deleted": store.clear()})

    @app.get("/api/messages/<message_id>")
    def api_show(message_id: str) -> Response:
        return jsonify(_detail(*load(message_id)))

    @app.get("/api/messages/<message_id>/raw")
    def api_raw(message_id: str) -> Response:
        stored, _ = load(message_id)
        response = Response(stored.raw, mimetype="message/rfc822")
        response.headers["Content-Disposition"] = f'attachment; filename="{stored.id}.eml"'
        response.headers["Content-Security-Policy"] = RAW_CSP
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        message = error.description or error.name
        if request.path.startswith("/api/"):
            code = error.name.lower().replace(" ", "_")  # "Not Found" -> "not_found"
            response = jsonify({"error": code, "message": message})
        elif request_ctx.url_adapter is None:  # refused before routing (untrusted Host)
            response = Response(f"{status} {error.name}: {message}\n", mimetype="text/plain")
        else:
            page = render_template("error.html", status=status, title=error.name, message=message)
            response = Response(page, mimetype="text/html")
        response.status_code = status
        if allow := error.get_response().headers.get("Allow"):
            response.headers["Allow"] = allow
        return response

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_template_filter(_local_time, "local_time")
    app.add_template_filter(_file_size, "file_size")
    return app


def _all(store: MessageStore) -> list[StoredMessage]:
    messages = (store.get(message_id) for message_id in store.ids())
    return [message for message in messages if message is not None]  # None: deleted meanwhile


def _summary(stored: StoredMessage, parsed: ParsedMessage) -> dict[str, Any]:
    envelope = stored.envelope
    return {
        "id": stored.id,
        "from": parsed.sender or envelope.mail_from,
        "to": list(parsed.recipients or envelope.rcpt_tos),
        "subject": parsed.subject,
        "date": envelope.received_at.isoformat(),
        "size": len(stored.raw),
        "envelope": {"from": envelope.mail_from, "to": list(envelope.rcpt_tos)},
    }


def _detail(stored: StoredMessage, parsed: ParsedMessage) -> dict[str, Any]:
    return {
        **_summary(stored, parsed),
        "headers": [{"name": name, "value": value} for name, value in parsed.headers],
        "text": parsed.text,
        "html": parsed.html,
    }


def _refuse_cross_site() -> None:
    """Refuse changes asked by another site's page (a form posted to localhost)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        abort(403, "Cross-site requests may not change the mailbox.")
    origin = request.headers.get("Origin")
    if origin is not None and origin != request.host_url.rstrip("/"):
        abort(403, "Cross-site requests may not change the mailbox.")


def _local_time(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _file_size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"
