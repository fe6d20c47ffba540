"""Turning an email plan into its subject, text and HTML, in the candidate's language.

Templates live in ``notifier/templates/<language>/<kind>.txt`` (subject block and text) and
``<kind>.html``; both extend a layout shared by every language (``layout.txt``,
``layout.html``) whose greeting, signature and footer come from ``<language>/phrases.txt``.
Dates are formatted here, not in the templates, so each language only holds its wording."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from notifier.domain import REDACTED, EmailPlan

MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
}  # fmt: skip


def long_date(value: date, language: str) -> str:
    """``21 December 2026``, ``21 décembre 2026`` (``1er`` for the first, as French writes)."""
    day = "1er" if language == "fr" and value.day == 1 else str(value.day)
    return f"{day} {MONTHS[language][value.month - 1]} {value.year}"


def clock_time(value: datetime, language: str) -> str:
    """``09:15 UTC``, ``9 h 15 UTC``."""
    moment = _utc(value)
    if language == "fr":
        return f"{moment.hour} h {moment.minute:02d} UTC"
    return f"{moment.hour:02d}:{moment.minute:02d} UTC"


def long_moment(value: datetime, language: str) -> str:
    """``21 December 2026 at 09:15 UTC``, ``21 décembre 2026 à 9 h 15 UTC``."""
    moment = _utc(value)
    joiner = "à" if language == "fr" else "at"
    return f"{long_date(moment.date(), language)} {joiner} {clock_time(moment, language)}"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Brand:
    platform_name: str
    support_email: str
    public_url: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    #: the text with every code, token and link made from one replaced, for the operator view
    redacted_text: str


class EmailRenderer:
    def __init__(self, brand: Brand) -> None:
        self.brand = brand
        self.env = Environment(
            loader=PackageLoader("notifier", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,  # a misspelt variable fails the test, not the candidate
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # packaged templates never change under a running process
        )
        self.env.filters.update(long_date=_date_filter, moment=_moment_filter, time=_time_filter)

    def render(self, plan: EmailPlan) -> RenderedEmail:
        context = self._context(plan, plan.context)
        text_template = self.env.get_template(f"{plan.language}/{plan.kind}.txt")
        subject_block = text_template.blocks["subject"](text_template.new_context(context))
        # a subject is one line; no-break spaces (French punctuation) are kept
        subject = re.sub(r"[ \t\r\n]+", " ", "".join(subject_block)).strip()
        text = text_template.render(context)
        html = self.env.get_template(f"{plan.language}/{plan.kind}.html").render(
            context | {"subject": subject}
        )
        redacted = text_template.render(self._context(plan, plan.redacted_context()))
        for secret in plan.secrets():  # in case a template shows a secret under another name
            redacted = redacted.replace(secret, REDACTED)
        return RenderedEmail(subject=subject, text=text, html=html, redacted_text=redacted)

    def _context(self, plan: EmailPlan, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "language": plan.language,
            "platform_name": self.brand.platform_name,
            "support_email": self.brand.support_email,
            "public_url": self.brand.public_url,
            **values,
        }


@pass_context
def _date_filter(context: Context, value: date) -> str:
    return long_date(value, context["language"])


@pass_context
def _moment_filter(context: Context, value: datetime) -> str:
    return long_moment(value, context["language"])


@pass_context
def _time_filter(context: Context, value: datetime) -> str:
    return clock_time(value, context["language"])
