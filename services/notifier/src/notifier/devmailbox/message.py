"""Reading a raw message: decoded headers (RFC 2047) and the text and HTML parts.

Mail is untrusted input: nothing here raises on a malformed message, it shows what it can.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message


@dataclass(frozen=True)
class ParsedMessage:
    subject: str
    sender: str
    recipients: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    text: str | None
    html: str | None


def parse_message(raw: bytes) -> ParsedMessage:
    message = message_from_bytes(raw, policy=policy.default)
    headers = tuple((name, _decode(name, value)) for name, value in message.raw_items())
    return ParsedMessage(
        subject=_first(headers, "Subject"),
        sender=_first(headers, "From"),
        recipients=_addresses(message, headers, "To"),
        headers=headers,
        text=_body(message, "plain"),
        html=_body(message, "html"),
    )


def _decode(name: str, value: str) -> str:
    try:
        return str(policy.default.header_fetch_parse(name, value))
    except Exception:  # the policy's parser gave up: fall back to plain RFC 2047 decoding
        pass
    try:
        return str(make_header(decode_header(" ".join(value.split()))))
    except Exception:
        return value


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name.lower()), "")


def _addresses(
    message: EmailMessage, headers: tuple[tuple[str, str], ...], name: str
) -> tuple[str, ...]:
    try:
        header = message[name]
        addresses = tuple(str(address) for address in getattr(header, "addresses", ()))
    except Exception:
        addresses = ()
    if addresses:
        return addresses
    value = _first(headers, name)
    return (value,) if value else ()


def _body(message: EmailMessage, subtype: str) -> str | None:
    try:
        part = message.get_body(preferencelist=(subtype,))
    except Exception:
        return None
    if part is None:
        return None
    return _text_of(part).replace("\r\n", "\n")


def _text_of(part: Message) -> str:
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
        except (LookupError, UnicodeError, ValueError, KeyError):
            content = None  # unknown charset or broken encoding: decode by hand below
        if isinstance(content, str):
            return content
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")
