"""Which service owns which part of the public API (DESIGN section 6)."""

from __future__ import annotations

ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/v1/oauth", "identity"),
    ("/api/v1/activation", "identity"),
    ("/api/v1/sessions", "identity"),
    ("/api/v1/password", "identity"),
    ("/api/v1/me", "identity"),
    ("/api/v1/invitations", "invitations"),
    ("/api/v1/evaluations", "exams"),
    ("/api/v1/exams", "exams"),
    ("/api/v1/attempts", "exams"),
    ("/api/v1/dashboard", "exams"),
    ("/api/v1/technical-test", "exams"),
    ("/api/v1/device-checks", "devicecheck"),
    ("/api/v1/deliveries", "notifier"),
)


def owner_of(path: str) -> str | None:
    """The service that serves ``path``, matching whole path segments only. A path with a
    "." or ".." segment belongs to no one: resolved further along, it would leave the prefix
    (``/api/v1/invitations/../../metrics``)."""
    if {".", ".."} & set(path.split("/")):
        return None
    for prefix, service in ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return service
    return None
