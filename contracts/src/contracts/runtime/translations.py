"""A service's user-facing messages in gettext catalogs (English and French), and moments
written the way each language writes them (Babel).

A message's id is its English text, with ``{name}`` placeholders. The catalogs are the
``translations/<language>/LC_MESSAGES/messages.po`` files of the service's package, read at
first use: there is no compiled file to forget to build."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from importlib.resources import files
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.pofile import read_po

from contracts.events.schemas import LANGUAGES

#: the language the message ids are written in
SOURCE_LANGUAGE = "en"
#: how Babel writes each language: English as written in Europe (21 December 2026, 09:15)
LOCALES = {"en": "en_GB", "fr": "fr_FR"}


def babel_locale(language: str) -> str:
    return LOCALES.get(language, language)


def N_(message: str) -> str:
    """Marks a text for translation where it is defined (a table of refusals); it is
    translated where it is said."""
    return message


class Catalog:
    def __init__(self, package: str, domain: str = "messages") -> None:
        self.package = package
        self.domain = domain

    @cached_property
    def _translations(self) -> dict[str, dict[str, str]]:
        folder = files(self.package).joinpath("translations")
        found: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            if language == SOURCE_LANGUAGE:
                continue
            po = folder.joinpath(language, "LC_MESSAGES", f"{self.domain}.po")
            with po.open("rb") as stream:
                catalog = read_po(stream, locale=language)
            found[language] = {
                str(message.id): str(message.string)
                for message in catalog
                if message.id and message.string and not message.fuzzy
            }
        return found

    def say(self, message: str, language: str, **values: object) -> str:
        """``message`` in ``language`` (English when it has no translation), placeholders
        filled."""
        text = self._translations.get(language, {}).get(message, message)
        return text.format(**values) if values else text

    def moment(
        self, value: datetime, language: str, *, zone: str = "UTC", form: str = "long"
    ) -> str:
        """``value`` as a reader of ``language`` in time zone ``zone`` writes it."""
        return format_datetime(value, form, tzinfo=ZoneInfo(zone), locale=babel_locale(language))

    def gettext(self, language: str) -> Callable[[str], str]:
        """A plain gettext for ``language``: for Jinja's i18n extension in templates."""
        table = self._translations.get(language, {})
        return lambda message: table.get(message, message)
