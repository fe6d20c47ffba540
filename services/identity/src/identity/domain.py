"""Identity's rules with no I/O: the activation steps and their order, and the refusals its
use cases raise. A refusal knows nothing of HTTP or of words: the view that called the use
case answers it (``identity.api.answer``). A refusal about a known account carries that
account's own language (``account_language``), which the answer is given in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from contracts.runtime.refusals import Refusal

#: the activation steps after the code, in their order (DESIGN section 6)
STEPS = ("password", "language", "terms", "two_factor")
#: with a sign-in partner instead (DESIGN section 9): its sign-in stands in for the password
#: and for the emailed codes
PARTNER_STEPS = ("partner", "language", "terms")
#: where each step stands: the password and the partner are two ways through the first
_POSITION = {"password": 0, "partner": 0, "language": 1, "terms": 2, "two_factor": 3}


def steps_for(account: Any) -> tuple[str, ...]:
    return PARTNER_STEPS if account.activated_with else STEPS


def done_steps(account: Any) -> set[str]:
    done = {
        "password": account.password_hash is not None,
        "partner": account.activated_with is not None,
        "language": account.language is not None,
        "terms": account.terms_accepted_at is not None,
        "two_factor": account.two_factor is not None,
    }
    return {step for step, is_done in done.items() if is_done}


def steps_of(account: Any) -> list[dict[str, object]]:
    done = done_steps(account)
    return [{"name": step, "done": step in done} for step in steps_for(account)]


def require_open(account: Any, step: str) -> None:
    """A step is open once every step before it is done; done steps may be done again."""
    done = done_steps(account)
    missing = [s for s in steps_for(account) if _POSITION[s] < _POSITION[step] and s not in done]
    if missing:
        raise StepOutOfOrder(missing=missing, account_language=account.language)


def ways_in(has_password: bool, partners: Iterable[str]) -> list[str]:
    """How an account signs in, as SignInMethodsChanged carries it: its password, if it
    has one, and each partner it is linked to; sorted."""
    return sorted({*partners, *(("password",) if has_password else ())})


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


# -- sign-in partners (DESIGN section 9) -------------------------------------------------------


@dataclass(frozen=True)
class PartnerIdentity:
    """Who a partner's checked ID token says signed in."""

    provider: str
    issuer: str
    subject: str
    email: str | None
    #: Google's ``email_verified``
    email_verified: bool = False
    #: Microsoft's ``tid`` and ``xms_edov`` (the address's domain is the tenant's own)
    tenant: str | None = None
    domain_verified: bool = False


@dataclass(frozen=True)
class Offer:
    """An institution's choice of partners."""

    partners: frozenset[str]
    microsoft_tenant: str | None = None


def offering(offers: Iterable[Offer], found: PartnerIdentity) -> Offer:
    """The offer that lets ``found`` in: one that allows its provider, and for Microsoft
    whose pinned tenant, if any, is the account's. Refused when none does."""
    allowing = [offer for offer in offers if found.provider in offer.partners]
    if not allowing:
        raise PartnerNotOffered(provider=found.provider)
    if found.provider != "microsoft":
        return allowing[0]
    for offer in allowing:
        if offer.microsoft_tenant is None or offer.microsoft_tenant == found.tenant:
            return offer
    raise PartnerWrongTenant(provider=found.provider)


def address_counts(found: PartnerIdentity, offer: Offer) -> bool:
    """Whether the partner vouches for the address: Google's ``email_verified``;
    Microsoft's ``xms_edov``, or the tenant the institution pinned."""
    if not found.email:
        return False
    if found.provider == "google":
        return found.email_verified
    pinned = offer.microsoft_tenant is not None and offer.microsoft_tenant == found.tenant
    return found.domain_verified or pinned


def verified_address(found: PartnerIdentity, offer: Offer) -> str:
    """The address, in lower case, when the partner vouches for it."""
    if not address_counts(found, offer) or found.email is None:
        raise PartnerAddressUnverified(provider=found.provider)
    return found.email.strip().lower()


def check_same_address(found: PartnerIdentity, offer: Offer, account_email: str) -> None:
    """Activation: the partner's verified address must be the invited one, case aside."""
    if verified_address(found, offer) != account_email.strip().lower():
        raise PartnerAddressMismatch(provider=found.provider)


class PartnerUnavailable(Refusal):
    """The operator has not turned this partner on."""

    code = "partner_unavailable"


class PartnerRefused(Refusal):
    """The partner did not confirm who signed in: the code was refused, or the ID token
    failed a check (signature, issuer, audience, times, nonce)."""

    code = "partner_refused"


class PartnerNotOffered(Refusal):
    code = "partner_not_offered"


class PartnerWrongTenant(Refusal):
    """Microsoft, with an account of another tenant than the one the institution pinned."""

    code = "partner_wrong_tenant"


class PartnerAddressUnverified(Refusal):
    code = "partner_address_unverified"


class PartnerAddressMismatch(Refusal):
    code = "partner_address_mismatch"


class PartnerNoAccount(Refusal):
    """No active account for the address: activate first, with the invitation code."""

    code = "partner_no_account"


class PartnerLinkTaken(Refusal):
    """This partner account is already the way in to another Nexam account."""

    code = "partner_link_taken"


class PartnerOtherLink(Refusal):
    """The account is linked to another account of the same partner."""

    code = "partner_other_link"
