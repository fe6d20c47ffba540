"""What a use case raises when the platform's rules say no. A refusal knows nothing of HTTP
or of languages: the view that called the use case turns it into an answer."""

from __future__ import annotations

from typing import Any


class Refusal(Exception):
    """``code`` is the stable error code callers see; ``details`` are the facts a message or a
    page may show (a deadline, a count)."""

    code = "refused"

    def __init__(self, code: str | None = None, **details: Any) -> None:
        self.code = code or type(self).code
        self.details = details
        super().__init__(self.code)
