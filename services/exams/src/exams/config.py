"""Settings of the exams service, read once from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from contracts.runtime.settings import OwnSettings, ServiceSettings

SERVICE = "exams"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings(OwnSettings):
    name = SERVICE

    service: ServiceSettings
    #: largest subject PDF accepted; the gateway refuses bodies over 16 MiB before this one
    document_max_bytes: int
    #: largest answer saved, in UTF-8 bytes
    answer_max_bytes: int
    #: how long after an attempt's end saves are still accepted (network, clock skew)
    grace: timedelta
    technical_test_minutes: int
    #: proctoring events kept per attempt, so one client cannot fill the database
    events_per_attempt: int

    @classmethod
    def read(cls, service: ServiceSettings, env: Mapping[str, str]) -> Settings:
        return cls(
            service=service,
            document_max_bytes=int(env.get("EXAMS_DOCUMENT_MAX_BYTES", 16 * MIB)),
            answer_max_bytes=int(env.get("EXAMS_ANSWER_MAX_BYTES", MIB)),
            grace=timedelta(seconds=int(env.get("EXAMS_GRACE_SECONDS", 30))),
            technical_test_minutes=int(env.get("EXAMS_TECHNICAL_TEST_MINUTES", 15)),
            events_per_attempt=int(env.get("EXAMS_EVENTS_PER_ATTEMPT", 2000)),
        )

    @property
    def max_request_bytes(self) -> int:
        """What Flask reads of any body: the largest PDF, or the largest answer once JSON has
        escaped it (up to 6 bytes per byte, as \\u0000)."""
        return max(self.document_max_bytes, 6 * self.answer_max_bytes) + 64 * 1024
