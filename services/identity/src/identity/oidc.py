"""OpenID Connect with the sign-in partners (DESIGN section 9): the authorization request
(PKCE S256, ``state``, ``nonce``), the code exchange through requests-oauthlib, and the ID
token checked with PyJWT against the partner's keys. Endpoints and keys come from the
issuer's discovery document and JWKS, fetched and cached; a key the cache does not know is
fetched again, so a partner's key rotation needs no restart."""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from oauthlib.oauth2 import OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session

from identity.domain import (
    PartnerIdentity,
    PartnerRefused,
    PartnerUnavailable,
)
from identity.partner_config import Partner

log = logging.getLogger(__name__)

SCOPES = ("openid", "email", "profile")
#: how long a discovery document is trusted before it is fetched again
DISCOVERY_LIFETIME = 3600.0
#: signing algorithms accepted whatever a discovery document lists: never ``none`` or HMAC
SAFE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
#: clock difference tolerated with the partner, and how old an ID token may be
LEEWAY = timedelta(seconds=60)
ID_TOKEN_AGE = timedelta(minutes=10)
TIMEOUT = (5.0, 10.0)
#: the placeholder of Microsoft's multi-tenant issuer, filled with the token's ``tid``
TENANT_TEMPLATE = "{tenantid}"


class PartnerUnreachable(Exception):
    """The partner's discovery document, keys or token endpoint did not answer: no refusal
    of the person's request, a fault to try again after."""

    def __init__(self, provider: str) -> None:
        super().__init__(provider)
        self.provider = provider


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what its session must keep for the callback."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class _Discovered:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks: jwt.PyJWKClient
    algorithms: tuple[str, ...]
    fetched: float


class Partners:
    """The partners the operator turned on, for identity's use cases."""

    def __init__(
        self,
        partners: dict[str, Partner],
        public_url: str,
        *,
        http: requests.Session | None = None,
    ) -> None:
        self.partners = partners
        self.public_url = public_url
        self.http = http or requests.Session()
        self._discovered: dict[str, _Discovered] = {}
        self._lock = threading.Lock()

    def turned_on(self) -> list[str]:
        return list(self.partners)

    def origins(self) -> dict[str, str]:
        """Where each partner's sign-in page is (its issuer's origin): the pages' forms are
        redirected there, which their Content-Security-Policy must allow."""
        return {
            name: "{0.scheme}://{0.netloc}".format(urlsplit(partner.issuer))
            for name, partner in self.partners.items()
        }

    def authorization(self, provider: str, login_hint: str | None = None) -> Authorization:
        partner = self._partner(provider)
        found = self._discovery(partner)
        client = WebApplicationClient(partner.client_id)
        verifier = client.create_code_verifier(64)
        challenge = client.create_code_challenge(verifier, "S256")
        nonce = secrets.token_urlsafe(32)
        extra = {"login_hint": login_hint} if login_hint else {}
        oauth = OAuth2Session(
            partner.client_id, redirect_uri=partner.redirect_uri(self.public_url), scope=SCOPES
        )
        url, state = oauth.authorization_url(
            found.authorization_endpoint,
            state=secrets.token_urlsafe(32),
            nonce=nonce,
            code_challenge=challenge,
            code_challenge_method="S256",
            **extra,
        )
        return Authorization(url, state, nonce, verifier)

    def identify(
        self, provider: str, *, code: str, code_verifier: str, nonce: str
    ) -> PartnerIdentity:
        """Who signed in, from the ID token the code is exchanged for, once every check on
        it passed; refused otherwise. Its times are read against this machine's clock, as
        the partner wrote them, not the platform's."""
        partner = self._partner(provider)
        found = self._discovery(partner)
        # no scope here: the partner may word the granted scopes its own way
        oauth = OAuth2Session(partner.client_id, redirect_uri=partner.redirect_uri(self.public_url))
        try:
            token = oauth.fetch_token(
                found.token_endpoint,
                code=code,
                client_secret=partner.client_secret,
                include_client_id=True,
                code_verifier=code_verifier,
                timeout=TIMEOUT,
            )
        except (OAuth2Error, Warning) as refused:
            log.info("%s refused the authorization code: %s", provider, refused)
            raise PartnerRefused(provider=provider) from None
        except (requests.RequestException, ValueError) as exc:
            log.warning("%s's token endpoint did not answer: %s", provider, exc)
            raise PartnerUnreachable(provider) from None
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            log.info("%s gave no ID token", provider)
            raise PartnerRefused(provider=provider)
        claims = self._checked_claims(partner, found, id_token, nonce)
        return _identity(partner, claims)

    def _checked_claims(
        self, partner: Partner, found: _Discovered, id_token: str, nonce: str
    ) -> dict[str, Any]:
        try:
            key = found.jwks.get_signing_key_from_jwt(id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key.key,
                algorithms=list(found.algorithms),
                audience=partner.client_id,
                leeway=LEEWAY,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "nonce"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            log.warning("%s's keys did not answer: %s", partner.provider, exc)
            raise PartnerUnreachable(partner.provider) from None
        except jwt.PyJWTError as exc:
            log.info("%s's ID token refused: %s", partner.provider, exc)
            raise PartnerRefused(provider=partner.provider) from None
        problem = _claims_problem(partner, found, claims, nonce)
        if problem:
            log.info("%s's ID token refused: %s", partner.provider, problem)
            raise PartnerRefused(provider=partner.provider)
        return claims

    def _partner(self, provider: str) -> Partner:
        partner = self.partners.get(provider)
        if partner is None:
            raise PartnerUnavailable(provider=provider)
        return partner

    def _discovery(self, partner: Partner) -> _Discovered:
        with self._lock:
            cached = self._discovered.get(partner.provider)
        if cached is not None and time.monotonic() - cached.fetched < DISCOVERY_LIFETIME:
            return cached
        url = partner.issuer + "/.well-known/openid-configuration"
        try:
            answer = self.http.get(url, timeout=TIMEOUT)
            answer.raise_for_status()
            document = answer.json()
            discovered = _Discovered(
                issuer=str(document["issuer"]),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks=jwt.PyJWKClient(str(document["jwks_uri"]), timeout=TIMEOUT[1]),
                algorithms=_algorithms(document),
                fetched=time.monotonic(),
            )
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            if cached is not None:
                return cached  # an old document beats none while the partner recovers
            log.warning("%s's discovery document is not usable: %s", partner.provider, exc)
            raise PartnerUnreachable(partner.provider) from None
        with self._lock:
            self._discovered[partner.provider] = discovered
        return discovered


def _algorithms(document: dict[str, Any]) -> tuple[str, ...]:
    listed = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    chosen = tuple(alg for alg in listed if alg in SAFE_ALGORITHMS)
    if not chosen:
        raise ValueError(f"no safe ID token signing algorithm among {listed}")
    return chosen


def _claims_problem(
    partner: Partner, found: _Discovered, claims: dict[str, Any], nonce: str
) -> str | None:
    """What is wrong with checked-signature claims, beyond what PyJWT checks."""
    expected_issuer = found.issuer
    if TENANT_TEMPLATE in expected_issuer:
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or not tenant:
            return "no tid for a multi-tenant issuer"
        expected_issuer = expected_issuer.replace(TENANT_TEMPLATE, tenant)
    if claims.get("iss") != expected_issuer:
        return f"issuer {claims.get('iss')!r} is not {expected_issuer!r}"
    if not hmac.compare_digest(str(claims.get("nonce")), nonce):
        return "the nonce is not the one this browser was given"
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != partner.client_id:
        return "several audiences and another authorized party"
    issued_at = claims.get("iat")
    if not isinstance(issued_at, (int, float)):
        return "no issue time"
    if time.time() - issued_at > (ID_TOKEN_AGE + LEEWAY).total_seconds():
        return "issued too long ago"
    return None


def _identity(partner: Partner, claims: dict[str, Any]) -> PartnerIdentity:
    email = claims.get("email")
    return PartnerIdentity(
        provider=partner.provider,
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) and email.strip() else None,
        email_verified=claims.get("email_verified") in (True, "true"),
        tenant=str(claims["tid"]) if claims.get("tid") else None,
        domain_verified=claims.get("xms_edov") in (True, "true", 1, "1"),
    )
