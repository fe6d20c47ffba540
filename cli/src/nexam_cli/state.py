"""What one run of the tool shares between its commands: the consoles and, built when first
needed, the HTTP session and API client."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import click
import requests
from rich.console import Console

from nexam_cli import render
from nexam_cli.auth import ClientCredentials, StaticToken, TokenSource
from nexam_cli.client import ApiClient
from nexam_cli.config import check_url, read_credentials, sends_secrets_in_clear


def user_agent() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"nexam-cli/{version('nexam-cli')}"
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "nexam-cli"


@dataclass
class State:
    url: str
    timeout: float
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    out: Console = field(default_factory=render.console)
    err: Console = field(default_factory=lambda: render.console(stderr=True))
    _session: requests.Session | None = None
    _client: ApiClient | None = None

    def client(self) -> ApiClient:
        if self._client is None:
            base_url = check_url(self.url)
            credentials = read_credentials(self.environ)
            if sends_secrets_in_clear(base_url):
                render.warn(
                    "Warning: NEXAM_URL is plain http to another machine; credentials travel "
                    "unencrypted. Use https://."
                )
            session = requests.Session()
            session.headers["User-Agent"] = user_agent()
            self._session = session
            auth: TokenSource
            if credentials.token:
                auth = StaticToken(credentials.token)
            else:
                assert credentials.client_id and credentials.client_secret
                auth = ClientCredentials(
                    session,
                    base_url,
                    credentials.client_id,
                    credentials.client_secret,
                    timeout=self.timeout,
                )
            self._client = ApiClient(session, base_url, auth, timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
        self._client = None


def current() -> State:
    state = click.get_current_context().find_object(State)
    if state is None:  # pragma: no cover - every command runs under the root group
        raise RuntimeError("the nexam group did not run")
    return state
