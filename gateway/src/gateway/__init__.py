"""Nexam gateway: the only public entry point."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from contracts.bus.connection import BusAddress
from contracts.bus.topology import Topology
from contracts.runtime.app import create_base_app
from contracts.runtime.observability import ReadinessCheck
from gateway.config import GatewaySettings
from gateway.ended_sessions import TOKEN_LEEWAY, EndedSessions, install_ended_sessions_check
from gateway.identity import IdentityClient
from gateway.keys import SigningKey, load_signing_key
from gateway.oauth import oauth_blueprint
from gateway.proxy import ServiceProxy
from gateway.ratelimit import install_rate_limits, limited_forwarding_blueprint
from gateway.session_events import SessionEvents
from gateway.sessions import CandidateTokens, sessions_blueprint
from gateway.tokens import TokenMinter
from gateway.views import install_cli, public_blueprint
from gateway.web import install_web, too_many_requests_page


def create_app(settings: GatewaySettings | None = None) -> Flask:
    settings = settings or GatewaySettings.from_env()
    key = load_signing_key(
        settings.signing_key_path,
        generate=settings.generate_signing_key,
        previous=settings.previous_public_keys,
    )
    proxy = ServiceProxy(
        settings.service_urls,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        trusted_proxies=settings.trusted_proxies,
    )
    app, _api = create_base_app(
        "gateway",
        title="Nexam gateway",
        checks=[ReadinessCheck("signing_key", lambda: _has_key(key))],
    )
    minter = TokenMinter(key, settings.token_issuer, settings.token_audience)
    identity = IdentityClient(settings.service_urls["identity"], minter, proxy)
    limits = install_rate_limits(app, settings, proxy, page_refusal=too_many_requests_page)
    # an ended session's tokens are refused until the last of them has expired
    ended = EndedSessions(timedelta(seconds=settings.access_token_seconds) + TOKEN_LEEWAY)
    install_ended_sessions_check(app, ended)
    session_events = SessionEvents(
        BusAddress(settings.bus_url, settings.var_dir),
        Topology.for_namespace(settings.bus_namespace),
        ended,
        lambda: identity.ended_sessions(ended.keep_for),
    )
    app.extensions["nexam.gateway"] = {
        "settings": settings,
        "key": key,
        "minter": minter,
        "proxy": proxy,
        "identity": identity,
        "limits": limits,
        "ended_sessions": ended,
        "session_events": session_events,
    }
    app.register_blueprint(oauth_blueprint(settings, minter, identity))
    # explicit routes, whatever the order: Werkzeug prefers them to public's catch-all
    tokens = CandidateTokens(minter, settings.access_token_seconds)
    app.register_blueprint(sessions_blueprint(tokens, identity, limits))
    app.register_blueprint(limited_forwarding_blueprint(proxy, limits))
    install_web(app, settings, proxy, identity, tokens, limits)
    app.register_blueprint(public_blueprint(settings, key, proxy))
    install_cli(app, settings, minter, timedelta(seconds=settings.access_token_seconds))
    session_events.start()
    return app


def _has_key(key: SigningKey) -> None:
    if not key.kid:
        raise RuntimeError("no signing key")
