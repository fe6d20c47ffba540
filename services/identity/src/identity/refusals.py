"""The refusals several use cases share, as API errors in the person's language."""

from __future__ import annotations

from contracts.runtime.errors import ApiError
from identity.messages import say, wait_words


def too_many_attempts(retry_after: int, language: str) -> ApiError:
    error = ApiError(
        429,
        "too_many_attempts",
        say("too_many_attempts", language, wait=wait_words(retry_after, language)),
        retry_after=retry_after,
    )
    error.headers["Retry-After"] = str(retry_after)
    return error


def resend_too_soon(retry_after: int, language: str) -> ApiError:
    error = ApiError(
        429,
        "resend_too_soon",
        say("resend_too_soon", language, seconds=retry_after),
        retry_after=retry_after,
    )
    error.headers["Retry-After"] = str(retry_after)
    return error


def invalid_code(language: str) -> ApiError:
    return ApiError(400, "invalid_code", say("invalid_code", language))


def password_policy(violations: list[dict[str, str]], language: str) -> ApiError:
    return ApiError(422, "password_policy", say("password_policy", language), violations=violations)
