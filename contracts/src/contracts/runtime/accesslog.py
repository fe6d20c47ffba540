"""Access logs without secrets (DESIGN section 5). The links the platform emails carry a
secret in their query string (``?code=`` of the invitation, ``?token=`` of a password reset,
the ``code`` and ``state`` an identity provider sends back), and a request line, a query
string or a Referer header would write it into the log. Every web process runs gunicorn
with ``--logger-class contracts.runtime.accesslog.AccessLogger``, which writes ``[redacted]``
in place of the value of any such parameter, and of credentials in headers, whatever
access log format is configured."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger

REDACTED = "[redacted]"

#: query parameters whose value is a secret, by name and by ending
SECRET_PARAMETERS = frozenset({"code", "token", "state", "nonce", "password", "secret", "key"})
SECRET_ENDINGS = ("_code", "_token", "_secret", "_password", "_key")

#: atoms (gunicorn's ``{header}i``, ``{header}o``, ``{variable}e``) that are credentials
CREDENTIAL_ATOMS = frozenset(
    {
        "{authorization}i",
        "{proxy-authorization}i",
        "{cookie}i",
        "{set-cookie}o",
        "{http_authorization}e",
        "{http_proxy_authorization}e",
        "{http_cookie}e",
    }
)
#: atoms that hold a bare query string rather than an address
QUERY_ATOMS = frozenset({"q", "{query_string}e"})

_QUERY_IN_TEXT = re.compile(r"\?([^\s#\"]*)")
_SEPARATORS = re.compile(r"([&;])")


def is_secret_parameter(name: str) -> bool:
    name = unquote_plus(name).strip().lower()
    return name in SECRET_PARAMETERS or name.endswith(SECRET_ENDINGS)


def redact_query(query: str) -> str:
    """``query`` (``a=1&code=X``) with the value of each secret parameter replaced; the rest
    is left exactly as it was."""
    parts = _SEPARATORS.split(query)
    for index in range(0, len(parts), 2):
        name, equals, _value = parts[index].partition("=")
        if equals and is_secret_parameter(name):
            parts[index] = f"{name}={REDACTED}"
    return "".join(parts)


def redact_addresses(text: str) -> str:
    """``text`` with the query string of every address in it redacted (a request line
    ``GET /path?code=X HTTP/1.1``, a Referer, a Location)."""
    return _QUERY_IN_TEXT.sub(lambda match: "?" + redact_query(match.group(1)), text)


def redact_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    redacted: dict[str, Any] = {}
    for name, value in atoms.items():
        if not isinstance(value, str):
            redacted[name] = value
        elif name.lower() in CREDENTIAL_ATOMS:
            redacted[name] = REDACTED
        elif name.lower() in QUERY_ATOMS:
            redacted[name] = redact_query(value)
        else:
            redacted[name] = redact_addresses(value)
    return redacted


def _redacted_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(redact_addresses(a) if isinstance(a, str) else a for a in args)


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, its access log atoms redacted, and the addresses its error log
    quotes ("Error handling request /path?code=...") too."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: timedelta) -> dict[str, Any]:
        return redact_atoms(super().atoms(resp, req, environ, request_time))

    def critical(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().critical(msg, *_redacted_args(args), **kwargs)

    def error(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().error(msg, *_redacted_args(args), **kwargs)

    def warning(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().warning(msg, *_redacted_args(args), **kwargs)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().info(msg, *_redacted_args(args), **kwargs)

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().debug(msg, *_redacted_args(args), **kwargs)

    def exception(self, msg: str, *args: Any, **kwargs: Any) -> None:
        super().exception(msg, *_redacted_args(args), **kwargs)
