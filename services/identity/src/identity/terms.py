"""The Terms of Use and Privacy Policy in force. Their versions are settings, so that
publishing a new document is a deployment; an account that accepted an older version is
asked again at its next sign-in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

TERMS_VERSION = "2026-09-01"
PRIVACY_VERSION = "2026-09-01"


@dataclass(frozen=True)
class Terms:
    terms_version: str = TERMS_VERSION
    privacy_version: str = PRIVACY_VERSION

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Terms:
        env = os.environ if environ is None else environ
        return cls(
            env.get("TERMS_VERSION", TERMS_VERSION), env.get("PRIVACY_VERSION", PRIVACY_VERSION)
        )

    def accepted_by(self, terms_version: str | None, privacy_version: str | None) -> bool:
        return (terms_version, privacy_version) == (self.terms_version, self.privacy_version)

    def as_dict(self) -> dict[str, str]:
        return {"terms_version": self.terms_version, "privacy_version": self.privacy_version}
