"""The sign-in partners (DESIGN section 9) as the pages know them: their names, the address
they send the browser back to, and which of them the operator turned on, as identity says."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.web.backend import Answer

#: every partner the platform knows, in the order the pages show them
PROVIDERS = ("microsoft", "google")
PARTNER_NAMES = {"microsoft": "Microsoft", "google": "Google"}
#: identity registers this address at the partners (the contract's CALLBACK_PATH)
CALLBACK_PATH = "/connexion/partenaire/{provider}/retour"
#: where the partners' sign-in pages are: browsers hold the redirection that follows a
#: partner button's form to the page's form-action
PARTNER_ORIGINS = ("https://login.microsoftonline.com", "https://accounts.google.com")
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
        self._known: tuple[float, tuple[str, ...]] = (float("-inf"), ())

    def current(self) -> tuple[str, ...]:
        until, partners = self._known
        now = self._clock()
        if now < until:
            return partners
        answer = self._ask()
        listed = answer.body.get("partners") if answer.ok else None
        if isinstance(listed, list):
            partners = tuple(p for p in PROVIDERS if p in listed)
            self._known = (now + FRESH_SECONDS, partners)
        else:
            partners = ()
            self._known = (now + RETRY_SECONDS, partners)
        return partners
