"""The public OpenAPI document: the ``/api/v1`` paths of every service, merged."""

from __future__ import annotations

import logging
from typing import Any

import requests

from gateway.proxy import ServiceProxy
from gateway.routing import owner_of

log = logging.getLogger(__name__)


def merged_openapi(proxy: ServiceProxy, public_url: str) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Nexam public API", "version": "1"},
        "servers": [{"url": public_url}],
        "paths": {},
        "components": {},
    }
    for service, base in proxy.service_urls.items():
        try:
            document = proxy.http.get(f"{base}/openapi.json", timeout=proxy.timeout).json()
        except (requests.RequestException, ValueError):
            log.warning("no OpenAPI document from %s", service)
            continue
        for path, item in document.get("paths", {}).items():
            if owner_of(path) == service:  # a service documents only what it owns publicly
                merged["paths"][path] = item
        # every section (schemas, responses, parameters...), or $refs would dangle
        for section, entries in document.get("components", {}).items():
            merged["components"].setdefault(section, {}).update(entries)
    return merged
