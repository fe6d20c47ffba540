"""A real OpenID Connect provider for tests, in place of Google and Microsoft: the node program
``tests/oidc/provider.mjs`` (oidc-provider) in its own process, and a hand on it from Python.

Google's stand-in has the issuer ``BASE/google``; Microsoft's is shaped like its multi-tenant
endpoint: discovery at ``BASE/microsoft/common/v2.0``, an issuer template with ``{tenantid}``,
and ID tokens issued by the user's tenant (``TENANT_A`` or ``TENANT_B``). An authorization
request with ``login_hint`` set to a user's sub or email signs that user in at once; ``cancel``
denies; without a hint the provider shows a one-field form (``account``, and a button
``action`` of ``sign_in`` or ``cancel``)."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests

Provider = Literal["google", "microsoft"]
Tamper = Literal["audience", "key", "nonce", "issuer", "expired"]

TENANT_A = "7f3c1a52-1d6e-4b8a-9c2f-0a1b2c3d4e5f"
TENANT_B = "c9d8e7f6-a5b4-4c3d-8e2f-1a0b9c8d7e6f"

PROGRAM = Path("tests/oidc/provider.mjs")
REMEDY = "run `make install` (npm ci in tests/oidc)"


@dataclass(frozen=True)
class OidcUser:
    provider: str
    sub: str
    email: str
    tenant: str | None = None


def unavailable(root: Path) -> str | None:
    """Why the provider cannot start from this checkout, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (root / "tests/oidc/node_modules/oidc-provider").is_dir():
        return "tests/oidc/node_modules is missing"
    return None


class OidcProvider:
    """The running provider; ``stop()`` (or the end of a ``with``) ends it."""

    def __init__(self, root: Path, *, timeout: float = 20.0) -> None:
        self._log: IO[bytes] = tempfile.TemporaryFile()
        self._process = subprocess.Popen(
            ["node", str(root / PROGRAM)],
            cwd=root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        try:
            ready = self._ready_line(timeout)
        except BaseException:
            self.stop()
            raise
        self.base_url: str = ready["url"]
        self._clients: dict[str, tuple[str, str]] = {
            name: (client["client_id"], client["client_secret"])
            for name, client in ready["clients"].items()
        }
        if ready["tenants"] != [TENANT_A, TENANT_B]:
            self.stop()
            raise RuntimeError(f"the provider's tenants are {ready['tenants']}, not this kit's")

    def _ready_line(self, timeout: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()
        stdout = self._process.stdout
        threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            line = b""
        if not line:
            self._log.seek(0)
            log = self._log.read().decode(errors="replace")
            raise RuntimeError(f"the OIDC provider did not start within {timeout} s:\n{log}")
        ready: dict[str, Any] = json.loads(line)
        return ready

    def stop(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()  # the provider exits when its stdin closes
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._log.close()

    def __enter__(self) -> OidcProvider:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def issuer(self, provider: Provider) -> str:
        """What a platform is configured with: Google's issuer, or Microsoft's common endpoint
        (whose discovery document names the ``{tenantid}`` template)."""
        if provider == "google":
            return f"{self.base_url}/google"
        return f"{self.base_url}/microsoft/common/v2.0"

    def client(self, provider: Provider) -> tuple[str, str]:
        """The (client_id, client_secret) the platform under test uses."""
        return self._clients[provider]

    def env(self, provider_names: tuple[Provider, ...] = ("google", "microsoft")) -> dict[str, str]:
        """The environment a platform needs to sign in with these providers."""
        variables = {}
        for name in provider_names:
            client_id, secret = self.client(name)
            prefix = f"OIDC_{name.upper()}"
            variables[f"{prefix}_ISSUER"] = self.issuer(name)
            variables[f"{prefix}_CLIENT_ID"] = client_id
            variables[f"{prefix}_CLIENT_SECRET"] = secret
        return variables

    def _admin(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = requests.request(method, f"{self.base_url}/admin/{path}", json=body, timeout=10)
        if response.status_code != 200:
            raise ValueError(f"{method} /admin/{path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    def add_user(
        self,
        provider: Provider,
        *,
        email: str,
        email_verified: bool = True,
        tenant: str | None = None,
        xms_edov: bool | None = None,
        sub: str | None = None,
        name: str | None = None,
    ) -> OidcUser:
        """Creates (or, with the sub of an existing one, replaces) a user; a Microsoft user is in
        ``tenant`` (``TENANT_A`` by default) and has ``xms_edov`` only when it is given."""
        fields: dict[str, Any] = {"provider": provider, "email": email, "sub": sub, "name": name}
        if provider == "google":
            fields["email_verified"] = email_verified
        else:
            fields.update(tenant=tenant, xms_edov=xms_edov)
        user = self._admin("POST", "users", {k: v for k, v in fields.items() if v is not None})
        return OidcUser(provider, user["sub"], user["email"], user.get("tenant"))

    def change_email(self, provider: Provider, sub: str, email: str) -> None:
        """The user's address changes; the next ID token carries the new one."""
        self._admin("PATCH", f"users/{provider}/{sub}", {"email": email})

    def tamper(self, provider: Provider, sub: str, what: Tamper) -> None:
        """The next ID token issued for the user comes out wrong in one way: ``audience`` (for
        another client), ``key`` (signed by a key not in the JWKS, same kid), ``nonce``,
        ``issuer`` (for Microsoft: another tenant's than ``tid``) or ``expired``."""
        self._admin("POST", f"users/{provider}/{sub}/tamper", {"what": what})

    def register_client(self, provider: Provider) -> tuple[str, str]:
        """Another client of the provider: (client_id, client_secret)."""
        client = self._admin("POST", "clients", {"provider": provider})
        return client["client_id"], client["client_secret"]

    def follow(
        self,
        authorization_url: str,
        *,
        login_hint: str | None = None,
        session: requests.Session | None = None,
    ) -> str:
        """Follows the provider's redirects from an authorization URL until one points outside
        the provider, and returns that URL (the client's redirect_uri with ``code`` and
        ``state``, or ``error``) without requesting it."""
        url = (
            with_param(authorization_url, "login_hint", login_hint)
            if login_hint
            else authorization_url
        )
        http = session or requests.Session()
        for _ in range(10):
            if not url.startswith(f"{self.base_url}/"):
                return url
            response = http.get(url, allow_redirects=False, timeout=10)
            if not response.is_redirect:
                raise AssertionError(
                    f"the provider answered {response.status_code}, not a redirect, at {url}:\n"
                    f"{response.text[:2000]}"
                )
            url = urljoin(url, response.headers["Location"])
        raise AssertionError(f"too many redirects, the last to {url}")


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != name]
    return urlunsplit(parts._replace(query=urlencode([*query, (name, value)])))
