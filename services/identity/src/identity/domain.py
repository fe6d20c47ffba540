"""Identity's rules with no I/O: the activation steps and their order, and the refusals its
use cases raise. A refusal knows nothing of HTTP or of words: the view that called the use
case answers it (``identity.api.answer``). A refusal about a known account carries that
account's own language (``account_language``), which the answer is given in."""

from __future__ import annotations

from typing import Any

from contracts.runtime.refusals import Refusal

#: the activation steps after the code, in their order (DESIGN section 6)
STEPS = ("password", "language", "terms", "two_factor")


def done_steps(account: Any) -> set[str]:
    done = {
        "password": account.password_hash is not None,
        "language": account.language is not None,
        "terms": account.terms_accepted_at is not None,
        "two_factor": account.two_factor is not None,
    }
    return {step for step, is_done in done.items() if is_done}


def steps_of(account: Any) -> list[dict[str, object]]:
    done = done_steps(account)
    return [{"name": step, "done": step in done} for step in STEPS]


def require_open(account: Any, step: str) -> None:
    """A step is open once every step before it is done; done steps may be done again."""
    done = done_steps(account)
    missing = [s for s in STEPS[: STEPS.index(step)] if s not in done]
    if missing:
        raise StepOutOfOrder(missing=missing, account_language=account.language)


# -- activation --------------------------------------------------------------------------------


class InvitationCodeInvalid(Refusal):
    """Unknown, used, expired, revoked or mistyped: the same refusal for every way."""

    code = "invitation_code_invalid"


class ActivationTokenInvalid(Refusal):
    code = "invalid_token"


class StepOutOfOrder(Refusal):
    """``missing``: the steps to do first."""

    code = "step_out_of_order"


class PasswordPolicy(Refusal):
    """``rules``: every rule of the policy the password breaks, in the policy's order."""

    code = "password_policy"


class TermsNotAccepted(Refusal):
    code = "terms_not_accepted"


class TermsOutdated(Refusal):
    """``terms_version`` and ``privacy_version``: the versions in force."""

    code = "terms_outdated"


class ActivationCodeInvalid(Refusal):
    """The emailed code of the last activation step is wrong or has expired."""

    code = "invalid_code"


# -- sign-in and one-time codes ----------------------------------------------------------------


class InvalidCredentials(Refusal):
    """Wrong password and unknown address alike."""

    code = "invalid_credentials"


class SignInCodeInvalid(Refusal):
    """The emailed code of a sign-in is wrong or has expired, or its challenge is unknown."""

    code = "invalid_code"


class ResendTooSoon(Refusal):
    """``retry_after``: seconds until a new code may be sent."""

    code = "resend_too_soon"


class TooManyAttempts(Refusal):
    """The address's throttle holds: ``retry_after`` seconds until it lets an attempt in."""

    code = "too_many_attempts"


class ActivationIncomplete(Refusal):
    """A right password of an account not active yet: ``steps`` and an ``activation_token``
    to resume its activation with."""

    code = "activation_incomplete"


class ActivationUnavailable(Refusal):
    """A right password of an account not active, with no invitation left open."""

    code = "activation_incomplete"


class InvalidGrant(Refusal):
    """The refresh token opens nothing (any more)."""

    code = "invalid_grant"


class SessionEnded(Refusal):
    """The bearer token's session is no longer live."""

    code = "invalid_token"


# -- passwords ---------------------------------------------------------------------------------


class ResetTokenInvalid(Refusal):
    code = "reset_token_invalid"


class CurrentPasswordIncorrect(Refusal):
    code = "current_password_incorrect"
