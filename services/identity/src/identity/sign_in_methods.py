"""How an account signs in (its password, its sign-in partners), announced to the other
services whenever that changes: every change calls ``announce`` in its own transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from identity.domain import ways_in
from identity.store import accounts, partner_links


def announce(session: Session, outbox: Outbox, account_id: uuid.UUID, now: datetime) -> None:
    """SignInMethodsChanged with the account's ways in as this transaction leaves them."""
    # changes of one account announce in turn, each seeing the ones committed before it;
    # FOR NO KEY UPDATE, so that a link just inserted (FOR KEY SHARE) cannot deadlock it
    account = session.execute(
        select(accounts.c.email, accounts.c.password_hash)
        .where(accounts.c.id == account_id)
        .with_for_update(key_share=True)
    ).one()
    partners = session.scalars(
        select(partner_links.c.provider).where(partner_links.c.account_id == account_id)
    )
    outbox.add(
        session,
        "SignInMethodsChanged",
        {
            "account_id": str(account_id),
            "email": account.email,
            "methods": ways_in(account.password_hash is not None, partners),
            "changed_at": now,
        },
    )
