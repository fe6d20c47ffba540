"""Where the pages send someone back to (``next``): only a path of this site. Browsers read
``/\\host`` as ``//host`` and drop tabs and newlines from addresses, so anything but a plain
local path falls back to the home page (the dashboard once signed in)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_gateway_pages import gateway

from gateway.web.security import local_path

ELSEWHERE = [
    "/\\evil.example",
    "//evil.example",
    "/%5Cevil.example",
    "/%5cevil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "https://evil.example",
    "HTTPS://evil.example/appareil",
    "javascript:alert(1)",
    "/\t/evil.example",
    "/\n/evil.example",
    "\t//evil.example",
    " /appareil",
    "/app\\areil",
    "/%09/evil.example",
    "appareil",
    "",
]


@pytest.mark.parametrize("target", ELSEWHERE)
def test_anything_but_a_local_path_falls_back_home(target: str) -> None:
    assert local_path(target, fallback="/") == "/"


@pytest.mark.parametrize(
    "target",
    ["/appareil", "/tableau-de-bord?onglet=device", "/connexion/reset-password?token=a%2Fb//c"],
)
def test_a_local_path_is_kept(target: str) -> None:
    assert local_path(target, fallback="/") == target


def _switch_language(tmp_path: Path, target: str) -> str:
    client = gateway(tmp_path).test_client()
    page = client.get("/connexion")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = client.post(
        "/langue", data={"language": "fr", "next": target, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "/%2F/evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
    ],
)
def test_the_language_switcher_never_sends_anyone_elsewhere(tmp_path: Path, target: str) -> None:
    assert _switch_language(tmp_path, target) == "/"


def test_the_language_switcher_comes_back_to_the_page(tmp_path: Path) -> None:
    assert _switch_language(tmp_path, "/appareil") == "/appareil"
