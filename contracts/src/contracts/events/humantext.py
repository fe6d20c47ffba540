"""Human text: one line a person typed, a name or a title, as the API and the event contracts
accept it (DESIGN section 5).

Such text ends up in email headers, spreadsheets and pages, where a line break can start a
new header (``Ada\\r\\nBcc: ...``) and a control character can hide or rewrite what follows.
So it refuses every control character (Unicode category Cc: C0, DEL, C1 with NEL U+0085, and
so TAB too), the line and paragraph separators U+2028 and U+2029, and lone surrogates (not
text; no UTF-8 form). Format characters such as the zero-width joiner stay: some scripts need
them to write names."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields

#: what human text may not hold, as a character class; the AsyncAPI and OpenAPI documents
#: carry it as a JSON Schema ``pattern`` (which cannot express surrogates)
_REFUSED = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029"
_REFUSED_OR_SURROGATE = re.compile(f"[{_REFUSED}\\ud800-\\udfff]")
_SPACES = re.compile(" {2,}")
# (?!\n): in Python, as in jsonschema's validators, $ also matches before a final line feed
PATTERN = f"^[^{_REFUSED}]*$(?!\\n)"

CONTROL_MESSAGE = "Control characters such as line breaks or tabs are not allowed."


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a character human text refuses."""
    return _REFUSED_OR_SURROGATE.search(text) is not None


def one_line(text: str) -> str:
    """``text`` with each refused character made a space, and runs of spaces one: for a value
    that must stay on one line whatever slipped past validation (an email header)."""
    return _SPACES.sub(" ", _REFUSED_OR_SURROGATE.sub(" ", text)).strip(" ")


class HumanText(fields.String):
    """A string field for human text: refuses control characters, line and paragraph
    separators and lone surrogates, with the field named in the error like any other."""

    default_error_messages = {"control": CONTROL_MESSAGE}

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if has_control_characters(text):
            raise self.make_error("control")
        return text
