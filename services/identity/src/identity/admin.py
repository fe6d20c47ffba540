"""``nexam-admin``: operators manage institutions and API clients (DESIGN section 6). It
reads IDENTITY_DATABASE_URL like the service does, in every mode, and prints JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy.orm import Session

from contracts.bus.outbox import Outbox
from contracts.events.clock import utcnow
from contracts.events.internal import PROVIDERS
from contracts.runtime.database import make_engine, make_sessions
from contracts.runtime.migrations import upgrade
from identity import clients, partner_admin, store
from identity.config import Settings


@contextmanager
def _session() -> Iterator[Session]:
    url = Settings.common().database_url
    upgrade("identity", url)  # idempotent: a fresh installation works at once
    engine = make_engine(url)
    try:
        with make_sessions(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def _run(action: Callable[[Session], Any]) -> None:
    try:
        with _session() as session:
            result = action(session)
    except clients.AdminError as problem:
        raise click.ClickException(str(problem)) from None
    if result is not None:
        click.echo(json.dumps(result, indent=2, default=str, ensure_ascii=False))


def _outbox() -> Outbox:
    return Outbox(store.metadata, "identity")


@click.group(help="Manage Nexam institutions and API clients.")
def main() -> None:
    pass


@main.group(help="Institutions.")
def institution() -> None:
    pass


@institution.command("create")
@click.argument("name")
def institution_create(name: str) -> None:
    """Create the institution NAME."""
    _run(lambda s: _institution_json(clients.create_institution(s, name, utcnow())))


@institution.command("list")
def institution_list() -> None:
    """List institutions."""
    _run(lambda s: [_institution_json(r) for r in clients.list_institutions(s)])


@institution.command("delete")
@click.argument("name")
def institution_delete(name: str) -> None:
    """Delete the institution NAME (it must have no API client left)."""
    _run(lambda s: clients.delete_institution(s, name))


@institution.command("sso")
@click.argument("name")
@click.option(
    "--allow",
    "allowed",
    required=True,
    help="the sign-in partners its candidates may use: microsoft,google, one of them, or none",
)
@click.option(
    "--microsoft-tenant",
    default=None,
    help="accept Microsoft accounts of this tenant (directory) id only",
)
def institution_sso(name: str, allowed: str, microsoft_tenant: str | None) -> None:
    """Choose the sign-in partners (Microsoft, Google) the institution NAME offers."""
    _run(
        lambda s: _institution_json(
            partner_admin.offer(s, name, partner_admin.parse_offer(allowed, microsoft_tenant))
        )
    )


@main.group(help="Candidates' accounts.")
def account() -> None:
    pass


@account.command("unlink")
@click.argument("email")
@click.option(
    "--provider",
    required=True,
    type=click.Choice(PROVIDERS),
    help="the sign-in partner whose link to remove",
)
def account_unlink(email: str, provider: str) -> None:
    """Remove the link between the account EMAIL and its PROVIDER account; its sessions end."""
    _run(lambda s: partner_admin.unlink(s, _outbox(), email, provider, utcnow()))


@main.group("api-client", help="API clients: an institution's systems that call the API.")
def api_client() -> None:
    pass


@api_client.command("create")
@click.option("--institution", "institution_name", required=True, help="the institution's name")
@click.option("--name", required=True, help="a name for the client, e.g. its system")
def api_client_create(institution_name: str, name: str) -> None:
    """Create an API client; its secret is printed once and stored hashed."""
    _run(lambda s: _issued_json(clients.create_client(s, institution_name, name, utcnow())))


@api_client.command("list")
@click.option("--institution", "institution_name", default=None)
def api_client_list(institution_name: str | None) -> None:
    """List API clients (never their secrets)."""
    _run(lambda s: [_client_json(r) for r in clients.list_clients(s, institution_name)])


@api_client.command("rotate")
@click.argument("client_id")
def api_client_rotate(client_id: str) -> None:
    """Give CLIENT_ID a new secret; the previous one stops working at once."""
    _run(lambda s: _issued_json(clients.rotate_secret(s, client_id, utcnow())))


@api_client.command("delete")
@click.argument("client_id")
def api_client_delete(client_id: str) -> None:
    """Delete CLIENT_ID; its tokens stop being issued at once."""
    _run(lambda s: clients.delete_client(s, client_id))


def _institution_json(row: Any) -> dict[str, Any]:
    return {
        "institution_id": str(row.id),
        "name": row.name,
        "sso": {
            "allow": sorted(row.partners.split()),
            "microsoft_tenant": row.microsoft_tenant,
        },
    }


def _issued_json(issued: clients.IssuedClient) -> dict[str, str]:
    return {
        "client_id": issued.client_id,
        "client_secret": issued.client_secret,
        "institution_id": str(issued.institution_id),
    }


def _client_json(row: Any) -> dict[str, Any]:
    return {
        "client_id": row.id,
        "name": row.name,
        "institution": row.institution,
        "institution_id": str(row.institution_id),
        "created_at": row.created_at.isoformat(),
        "secret_rotated_at": row.secret_rotated_at.isoformat(),
    }
