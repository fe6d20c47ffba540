"""The sign-in partners (DESIGN section 9) as the pages know them: their names, the address
they send the browser back to, and which of them the operator turned on, as identity says."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from contracts.events.internal import PROVIDERS
from gateway.web.backend import Answer

#: how long the list identity gave is shown as it is
FRESH_SECONDS = 60.0
#: identity could not say: no button until then, rather than a call on every page view
RETRY_SECONDS = 5.0


class TurnedOnPartners:
    """The partners the operator turned on, asked of identity at most once a minute."""

    def __init__(
        self, ask: Callable[[], Answer], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ask = ask
        self._clock = clock
        # one tuple, replaced whole: threads serving pages read it without a lock
        self._known: tuple[float, tuple[str, ...], tuple[str, ...]] = (float("-inf"), (), ())

    def current(self) -> tuple[str, ...]:
        return self._read()[0]

    def origins(self) -> tuple[str, ...]:
        """Where the turned-on partners' sign-in pages are: browsers hold the redirection
        that follows a partner button's form to the page's CSP form-action."""
        return self._read()[1]

    def _read(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        until, partners, origins = self._known
        now = self._clock()
        if now < until:
            return partners, origins
        answer = self._ask()
        listed = answer.body.get("partners") if answer.ok else None
        where = answer.body.get("origins") if answer.ok else None
        if isinstance(listed, list):
            partners = tuple(p for p in PROVIDERS if p in listed)
            origins = tuple(
                sorted(
                    {
                        origin
                        for name, origin in (where if isinstance(where, dict) else {}).items()
                        if name in partners and _is_origin(origin)
                    }
                )
            )
            self._known = (now + FRESH_SECONDS, partners, origins)
        else:
            partners, origins = (), ()
            self._known = (now + RETRY_SECONDS, partners, origins)
        return partners, origins


def _is_origin(value: object) -> bool:
    """A bare http(s) origin, safe to write into a header."""
    return (
        isinstance(value, str)
        and re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d+)?", value) is not None
    )
