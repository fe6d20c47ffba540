"""Turning an email plan into its subject, text and HTML, in the candidate's language.

One set of templates, ``notifier/templates/<kind>.txt`` (subject block and text) and
``<kind>.html``, both extending a layout (``layout.txt``, ``layout.html``); their words are
English msgids translated by the notifier's gettext catalog (``notifier/translations``) through
Jinja's i18n extension. Moments are written by Babel, the way each language writes them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date, format_time
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from contracts.events.schemas import LANGUAGES
from contracts.runtime.translations import Catalog, babel_locale
from notifier.domain import REDACTED, EmailPlan

CATALOG = Catalog("notifier")


def long_date(value: date, language: str) -> str:
    """``21 December 2026``, ``21 décembre 2026``."""
    return format_date(value, "long", locale=babel_locale(language))


def clock_time(value: datetime, language: str) -> str:
    """``09:15 UTC``, ``09:15 UTC``."""
    return f"{format_time(value, 'short', tzinfo=UTC, locale=babel_locale(language))} UTC"


def long_moment(value: datetime, language: str) -> str:
    """``21 December 2026 at 09:15 UTC``, ``21 décembre 2026 à 09:15 UTC``."""
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return CATALOG.say(
        "{date} at {time}",
        language,
        date=long_date(moment.date(), language),
        time=clock_time(moment, language),
    )


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
        #: one environment per language: its gettext and its way of writing moments
        self.envs = {language: _environment(language) for language in LANGUAGES}

    def render(self, plan: EmailPlan) -> RenderedEmail:
        env = self.envs[plan.language]
        context = self._context(plan, plan.context)
        text_template = env.get_template(f"{plan.kind}.txt")
        subject_block = text_template.blocks["subject"](text_template.new_context(context))
        # a subject is one line; no-break spaces (French punctuation) are kept
        subject = re.sub(r"[ \t\r\n]+", " ", "".join(subject_block)).strip()
        text = text_template.render(context)
        html = env.get_template(f"{plan.kind}.html").render(context | {"subject": subject})
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


def _environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("notifier", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,  # a misspelt variable fails the test, not the candidate
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # packaged templates never change under a running process
        extensions=["jinja2.ext.i18n"],
    )
    gettext = CATALOG.gettext(language)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, _ngettext(gettext), newstyle=False
    )
    env.filters.update(
        long_date=lambda value: long_date(value, language),
        moment=lambda value: long_moment(value, language),
        time=lambda value: clock_time(value, language),
    )
    return env


def _ngettext(gettext: Callable[[str], str]) -> Callable[[str, str, int], str]:
    return lambda singular, plural, n: gettext(singular if n == 1 else plural)
