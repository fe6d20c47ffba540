"""The OpenID Connect stand-ins behave like Google and Microsoft where the platform relies on it:
discovery, the code flow with PKCE, signed ID tokens with the right claims, cancelling, the
sign-in form, and the tokens a test can ask to come out wrong."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt
import pytest
import requests

from contracts.testing.oidc import TENANT_A, TENANT_B, OidcProvider, Provider

REDIRECT_URI = "http://127.0.0.1:8765/auth/callback"


@dataclass
class Flow:
    """One authorization request of the client under test: its URL, state, nonce and verifier."""

    url: str
    state: str
    nonce: str
    verifier: str


def metadata(oidc: OidcProvider, provider: Provider) -> dict[str, Any]:
    response = requests.get(f"{oidc.issuer(provider)}/.well-known/openid-configuration", timeout=5)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def start(oidc: OidcProvider, provider: Provider, client_id: str | None = None) -> Flow:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": client_id or oidc.client(provider)[0],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email profile",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    endpoint = metadata(oidc, provider)["authorization_endpoint"]
    return Flow(f"{endpoint}?{urlencode(query)}", state, nonce, verifier)


def answer(redirect: str, flow: Flow) -> dict[str, str]:
    assert redirect.startswith(f"{REDIRECT_URI}?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
    assert params["state"] == flow.state
    return params


def redeem(
    oidc: OidcProvider,
    provider: Provider,
    flow: Flow,
    code: str,
    *,
    basic: bool = False,
    client: tuple[str, str] | None = None,
) -> str:
    client_id, secret = client or oidc.client(provider)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": flow.verifier,
    }
    if basic:
        auth: tuple[str, str] | None = (client_id, secret)
    else:
        auth = None
        form.update(client_id=client_id, client_secret=secret)
    token_endpoint = metadata(oidc, provider)["token_endpoint"]
    response = requests.post(token_endpoint, data=form, auth=auth, timeout=10)
    assert response.status_code == 200, response.text
    id_token: str = response.json()["id_token"]
    return id_token


def sign_in(oidc: OidcProvider, provider: Provider, login_hint: str) -> tuple[Flow, str]:
    """The whole flow for one user: the flow and the ID token it ends with."""
    flow = start(oidc, provider)
    params = answer(oidc.follow(flow.url, login_hint=login_hint), flow)
    return flow, redeem(oidc, provider, flow, params["code"])


def claims(
    oidc: OidcProvider, provider: Provider, id_token: str, *, strict: bool = False
) -> dict[str, Any]:
    """The token's claims once its signature is checked against the discovery's JWKS; ``strict``
    also checks its audience, issuer and expiry."""
    keys = jwt.PyJWKClient(metadata(oidc, provider)["jwks_uri"])
    key = keys.get_signing_key_from_jwt(id_token)
    if not strict:
        unchecked = jwt.decode(
            id_token,
            key,
            algorithms=["RS256"],
            options={"verify_aud": False, "verify_iss": False, "verify_exp": False},
        )
        return unchecked
    issuer = oidc.issuer(provider) if provider == "google" else tenant_issuer(oidc, TENANT_A)
    audience = oidc.client(provider)[0]
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=audience, issuer=issuer)


def tenant_issuer(oidc: OidcProvider, tenant: str) -> str:
    return f"{oidc.base_url}/microsoft/{tenant}/v2.0"


def test_discovery_documents(oidc_provider: OidcProvider) -> None:
    google = metadata(oidc_provider, "google")
    assert google["issuer"] == f"{oidc_provider.base_url}/google"
    assert google["code_challenge_methods_supported"] == ["S256"]
    microsoft = metadata(oidc_provider, "microsoft")
    assert microsoft["issuer"] == f"{oidc_provider.base_url}/microsoft/{{tenantid}}/v2.0"
    for document in (google, microsoft):
        assert {"openid", "email", "profile"} <= set(document["scopes_supported"])
        auth_methods = set(document["token_endpoint_auth_methods_supported"])
        assert {"client_secret_post", "client_secret_basic"} <= auth_methods


def test_google_code_flow(oidc_provider: OidcProvider) -> None:
    user = oidc_provider.add_user("google", email="ada@example.org", name="Ada Lovelace")
    flow = start(oidc_provider, "google")
    params = answer(oidc_provider.follow(flow.url, login_hint=user.email), flow)
    id_token = redeem(oidc_provider, "google", flow, params["code"], basic=True)
    got = claims(oidc_provider, "google", id_token)
    assert got["iss"] == oidc_provider.issuer("google")
    assert got["aud"] == oidc_provider.client("google")[0]
    assert (got["sub"], got["nonce"]) == (user.sub, flow.nonce)
    assert (got["email"], got["email_verified"], got["name"]) == (user.email, True, "Ada Lovelace")


def test_google_unverified_email(oidc_provider: OidcProvider) -> None:
    user = oidc_provider.add_user("google", email="unverified@example.org", email_verified=False)
    _, id_token = sign_in(oidc_provider, "google", user.sub)
    assert claims(oidc_provider, "google", id_token)["email_verified"] is False


@pytest.mark.parametrize(("tenant", "xms_edov"), [(TENANT_A, True), (TENANT_B, False)])
def test_microsoft_code_flow_per_tenant(
    oidc_provider: OidcProvider, tenant: str, xms_edov: bool
) -> None:
    email = f"grace-{uuid.uuid4().hex[:6]}@contoso.example"
    user = oidc_provider.add_user("microsoft", email=email, tenant=tenant, xms_edov=xms_edov)
    assert user.tenant == tenant
    flow, id_token = sign_in(oidc_provider, "microsoft", user.email)
    got = claims(oidc_provider, "microsoft", id_token)
    assert got["iss"] == tenant_issuer(oidc_provider, tenant)
    assert got["aud"] == oidc_provider.client("microsoft")[0]
    assert (got["sub"], got["tid"], got["nonce"]) == (user.sub, tenant, flow.nonce)
    assert (got["email"], got["preferred_username"]) == (email, email)
    assert got["xms_edov"] is xms_edov


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_one_browser_signs_in_one_user_then_another(
    oidc_provider: OidcProvider, provider: Provider
) -> None:
    browser = requests.Session()
    for who in ("first", "second"):
        user = oidc_provider.add_user(provider, email=f"{who}-{uuid.uuid4().hex[:6]}@example.org")
        flow = start(oidc_provider, provider)
        params = answer(oidc_provider.follow(flow.url, login_hint=user.sub, session=browser), flow)
        id_token = redeem(oidc_provider, provider, flow, params["code"])
        assert claims(oidc_provider, provider, id_token)["sub"] == user.sub


def test_login_hint_cancel_is_access_denied(oidc_provider: OidcProvider) -> None:
    for provider in ("google", "microsoft"):
        flow = start(oidc_provider, provider)
        params = answer(oidc_provider.follow(flow.url, login_hint="cancel"), flow)
        assert params["error"] == "access_denied"
        assert "code" not in params


def form_of(page: requests.Response) -> str:
    """The sign-in form's action, once the page is checked for its labelled field and buttons."""
    assert page.status_code == 200
    html = page.text
    assert '<label for="account">Account</label>' in html and 'id="account"' in html
    assert ">Sign in</button>" in html and ">Cancel</button>" in html
    action = re.search(r'<form method="post" action="([^"]+)"', html)
    assert action is not None
    return action.group(1).replace("&amp;", "&")


def submit(oidc: OidcProvider, http: requests.Session, url: str, form: dict[str, str]) -> str:
    """Posts the form on the page at ``url``; where the provider sends the browser in the end."""
    page = http.get(url, allow_redirects=True, timeout=5)
    response = http.post(
        urljoin(page.url, form_of(page)),
        data=form,
        allow_redirects=False,
        timeout=5,
    )
    if not response.is_redirect:
        return response.text
    return oidc.follow(urljoin(page.url, response.headers["Location"]), session=http)


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_sign_in_form(oidc_provider: OidcProvider, provider: Provider) -> None:
    email = f"form-{uuid.uuid4().hex[:6]}@example.org"
    user = oidc_provider.add_user(provider, email=email, tenant=TENANT_B, xms_edov=True)
    flow = start(oidc_provider, provider)
    http = requests.Session()
    unknown = submit(oidc_provider, http, flow.url, {"account": "nobody", "action": "sign_in"})
    assert 'role="alert"' in unknown and "nobody" in unknown
    params = answer(
        submit(oidc_provider, http, flow.url, {"account": email, "action": "sign_in"}), flow
    )
    assert (
        claims(oidc_provider, provider, redeem(oidc_provider, provider, flow, params["code"]))[
            "sub"
        ]
        == user.sub
    )

    flow = start(oidc_provider, provider)
    redirect = submit(
        oidc_provider, requests.Session(), flow.url, {"account": "", "action": "cancel"}
    )
    assert answer(redirect, flow)["error"] == "access_denied"


def test_change_email_shows_in_the_next_token(oidc_provider: OidcProvider) -> None:
    user = oidc_provider.add_user("google", email="before@example.org")
    oidc_provider.change_email("google", user.sub, "after@example.org")
    _, id_token = sign_in(oidc_provider, "google", user.sub)
    assert claims(oidc_provider, "google", id_token)["email"] == "after@example.org"


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_another_client_gets_its_own_audience(
    oidc_provider: OidcProvider, provider: Provider
) -> None:
    other = oidc_provider.register_client(provider)
    assert other[0] != oidc_provider.client(provider)[0]
    user = oidc_provider.add_user(provider, email=f"other@{provider}.example")
    flow = start(oidc_provider, provider, other[0])
    params = answer(oidc_provider.follow(flow.url, login_hint=user.sub), flow)
    id_token = redeem(oidc_provider, provider, flow, params["code"], client=other)
    assert claims(oidc_provider, provider, id_token)["aud"] == other[0]


@pytest.mark.parametrize("provider", ["google", "microsoft"])
def test_pkce_is_required(oidc_provider: OidcProvider, provider: Provider) -> None:
    user = oidc_provider.add_user(provider, email=f"pkce@{provider}.example")
    flow = start(oidc_provider, provider)
    without_pkce = re.sub(r"&code_challenge(_method)?=[^&]*", "", flow.url)
    params = answer(oidc_provider.follow(without_pkce, login_hint=user.sub), flow)
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]


@pytest.mark.parametrize("provider", ["google", "microsoft"])
@pytest.mark.parametrize("what", ["audience", "key", "nonce", "issuer", "expired"])
def test_tamper_alters_the_next_token_only(
    oidc_provider: OidcProvider, provider: Provider, what: Any
) -> None:
    user = oidc_provider.add_user(provider, email=f"{what}@{provider}.example", tenant=TENANT_A)
    oidc_provider.tamper(provider, user.sub, what)
    flow, tampered = sign_in(oidc_provider, provider, user.sub)
    expected_iss = (
        oidc_provider.issuer("google")
        if provider == "google"
        else tenant_issuer(oidc_provider, TENANT_A)
    )
    if what == "key":
        with pytest.raises(jwt.InvalidSignatureError):
            claims(oidc_provider, provider, tampered)
    else:
        got = claims(oidc_provider, provider, tampered)
        assert got["sub"] == user.sub
        changed = {
            "audience": got["aud"] != oidc_provider.client(provider)[0],
            "nonce": got["nonce"] != flow.nonce,
            "issuer": got["iss"] != expected_iss,
            "expired": got["exp"] < time.time(),
        }
        assert changed[what], got
        if provider == "microsoft" and what == "issuer":
            assert got["iss"] == tenant_issuer(oidc_provider, TENANT_B)

    flow, honest = sign_in(oidc_provider, provider, user.sub)
    assert claims(oidc_provider, provider, honest, strict=True)["nonce"] == flow.nonce
