"""What operators do about sign-in partners (``nexam-admin``): choose the partners an
institution offers, and remove an account's link to a partner account."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.internal import PROVIDERS
from identity import partner_links, sessions, sign_in_methods
from identity.clients import AdminError, find_institution
from identity.domain import Offer
from identity.store import accounts, institutions

#: a directory (tenant) id as Microsoft gives it: a GUID
TENANT = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def parse_offer(allowed: str, microsoft_tenant: str | None) -> Offer:
    names = {name.strip().lower() for name in allowed.split(",") if name.strip()}
    if names == {"none"}:
        names = set()
    unknown = names - set(PROVIDERS)
    if unknown or not allowed.strip():
        raise AdminError(
            f"--allow takes {', '.join(PROVIDERS)} (comma separated) or none, not {allowed!r}."
        )
    tenant = (microsoft_tenant or "").strip().lower() or None
    if tenant is not None:
        if "microsoft" not in names:
            raise AdminError("--microsoft-tenant needs microsoft among --allow.")
        if not TENANT.match(tenant):
            raise AdminError(f"--microsoft-tenant takes a tenant id (a GUID), not {tenant!r}.")
    return Offer(frozenset(names), tenant)


def offer(session: Session, name: str, chosen: Offer) -> Row[Any]:
    institution = find_institution(session, name)
    partner_links.set_offer(session, institution.id, chosen)
    return session.execute(select(institutions).where(institutions.c.id == institution.id)).one()


def unlink(
    session: Session, outbox: Outbox, email: str, provider: str, now: datetime
) -> dict[str, Any]:
    """Remove the link; the account's sessions end, for one may have come through it, and
    the other services hear how it signs in now."""
    account_id = session.scalar(
        select(accounts.c.id).where(accounts.c.email == email.strip().lower())
    )
    if account_id is None:
        raise AdminError(f"No account for {email!r}.")
    if not partner_links.unlink(session, account_id, provider):
        raise AdminError(f"{email!r} has no link to {provider}.")
    sessions.revoke_all(session, account_id, now, "partner_unlinked", outbox=outbox)
    sign_in_methods.announce(session, outbox, account_id, now)
    return {"email": email.strip().lower(), "provider": provider, "unlinked": True}
