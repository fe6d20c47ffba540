"""What identity's views share: the ``Context`` they are given, the transaction around a use
case, and the answer to each refusal (status, code, Retry-After, the words in the person's
language). The blueprints are ``activation_api``, ``accounts_api`` and ``internal_api``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from contracts.bus.outbox import Outbox
from contracts.events.clock import Clock
from contracts.events.internal import PARTNER_NAMES
from contracts.runtime.errors import ApiError
from contracts.runtime.languages import request_language
from contracts.runtime.refusals import Refusal
from contracts.runtime.service import current_context
from contracts.runtime.transaction import in_transaction
from contracts.runtime.translations import N_, Catalog
from identity.challenges import OneTimeCodes
from identity.domain import (
    ActivationCodeInvalid,
    ActivationIncomplete,
    ActivationTokenInvalid,
    ActivationUnavailable,
    CurrentPasswordIncorrect,
    InvalidCredentials,
    InvalidGrant,
    InvitationCodeInvalid,
    PartnerAddressMismatch,
    PartnerAddressUnverified,
    PartnerLinkTaken,
    PartnerNoAccount,
    PartnerNotOffered,
    PartnerOtherLink,
    PartnerRefused,
    PartnerUnavailable,
    PartnerWrongTenant,
    PasswordPolicy,
    ResendTooSoon,
    ResetTokenInvalid,
    SessionEnded,
    SignInCodeInvalid,
    StepOutOfOrder,
    TermsNotAccepted,
    TermsOutdated,
    TooManyAttempts,
)
from identity.oidc import Partners
from identity.passwords import Passwords
from identity.terms import Terms

T = TypeVar("T")
catalog = Catalog("identity")


@dataclass(frozen=True)
class Context:
    """What identity's views are given, built once by ``create_app``."""

    sessions: sessionmaker[Session]
    code_key: bytes
    clock: Clock
    outbox: Outbox
    codes: OneTimeCodes
    passwords: Passwords
    terms: Terms
    public_url: str
    #: a refresh token presented again this soon after its rotation is the same browser
    refresh_reuse_leeway: timedelta
    #: the sign-in partners the operator turned on (DESIGN section 9)
    partners: Partners


def context() -> Context:
    return current_context(Context)


def now() -> datetime:
    return context().clock()


_INVALID_CODE = N_(
    "The code is wrong or has expired. Check the latest email or ask for a new code."
)

#: each refusal's status and words
ANSWERS: dict[type[Refusal], tuple[int, str]] = {
    InvitationCodeInvalid: (404, N_("Invitation code does not exist or has expired")),
    ActivationTokenInvalid: (
        401,
        N_("Your activation session has ended. Enter your invitation code again."),
    ),
    StepOutOfOrder: (409, N_("Finish the earlier activation steps first.")),
    PasswordPolicy: (422, N_("The password does not follow the rules.")),
    TermsNotAccepted: (
        422,
        N_("Accept the Terms of Use and the Privacy Policy to continue."),
    ),
    TermsOutdated: (
        409,
        N_(
            "The Terms of Use or the Privacy Policy have changed. Read and accept the "
            "current versions."
        ),
    ),
    ActivationCodeInvalid: (400, _INVALID_CODE),
    SignInCodeInvalid: (401, _INVALID_CODE),
    InvalidCredentials: (401, N_("Wrong email address or password.")),
    ResendTooSoon: (
        429,
        N_("A code was just sent. You can ask for a new one in {seconds} seconds."),
    ),
    TooManyAttempts: (429, N_("Too many failed attempts. Try again in {wait}.")),
    ActivationIncomplete: (
        409,
        N_("Your account is not activated yet. Finish the activation steps."),
    ),
    ActivationUnavailable: (
        409,
        N_(
            "Your invitation is no longer valid. Ask your evaluation coordinator for a new "
            "invitation."
        ),
    ),
    InvalidGrant: (401, N_("Your session has ended. Sign in again.")),
    SessionEnded: (401, N_("Your session has ended. Sign in again.")),
    ResetTokenInvalid: (
        400,
        N_("This link is no longer valid. Ask for a new one from the sign-in page."),
    ),
    CurrentPasswordIncorrect: (400, N_("The current password is wrong.")),
    PartnerUnavailable: (404, N_("Sign-in with {partner} is not available on this platform.")),
    PartnerRefused: (
        401,
        N_("{partner} did not confirm who you are. Start again from the sign-in page."),
    ),
    PartnerNotOffered: (
        403,
        N_("Your institution does not offer sign-in with {partner}. Use your password."),
    ),
    PartnerWrongTenant: (
        403,
        N_(
            "Your institution accepts only its own {partner} accounts. Sign in with the "
            "account your institution gave you."
        ),
    ),
    PartnerAddressUnverified: (
        403,
        N_(
            "{partner} does not confirm that this email address is yours. Use your "
            "password, or an account whose address {partner} has verified."
        ),
    ),
    PartnerAddressMismatch: (
        403,
        N_(
            "The address used with {partner} does not match the address associated with "
            "your Nexam account. Use the address your institution registered."
        ),
    ),
    PartnerNoAccount: (
        404,
        N_(
            "There is no active Nexam account for this address yet. Activate your account "
            "first with the invitation code from your email."
        ),
    ),
    PartnerLinkTaken: (
        409,
        N_("This {partner} account is already used by another Nexam account."),
    ),
    PartnerOtherLink: (
        409,
        N_("Your Nexam account is linked to another {partner} account. Sign in with that one."),
    ),
}

UNREACHABLE = N_("{partner} cannot be reached right now. Try again in a few moments.")


#: the words of each password rule, shown for each rule a new password breaks
RULE_WORDS = {
    "min_length": N_("At least 8 characters."),
    "max_length": N_("At most 128 characters."),
    "uppercase": N_("At least one uppercase letter."),
    "lowercase": N_("At least one lowercase letter."),
    "digit": N_("At least one digit."),
    "common": N_("This password is too common. Choose another one."),
    "contains_email": N_("The password must not contain your email address."),
}


def described(rules: Sequence[str], language: str) -> list[dict[str, str]]:
    """Each broken rule with its words in ``language``."""
    return [{"rule": rule, "message": catalog.say(RULE_WORDS[rule], language)} for rule in rules]


#: the bearer-token refusals, with the realm they name
REALMS = {ActivationTokenInvalid: "nexam-activation", SessionEnded: "nexam"}


def answer(refusal: Refusal, language: str | None = None) -> ApiError:
    """``refusal`` as identity answers it, in ``language``, else in the account's language
    when the refusal concerns a known account, else in the browser's."""
    language = language or request_language(refusal.details.get("account_language"))
    status, text = ANSWERS[type(refusal)]
    extra = {k: v for k, v in refusal.details.items() if k != "account_language"}
    values: dict[str, Any] = {}
    if isinstance(refusal, PasswordPolicy):
        extra = {"violations": described(extra.pop("rules"), language)}
    retry_after = extra.get("retry_after")
    if retry_after is not None:
        values = {"seconds": retry_after, "wait": wait_words(retry_after, language)}
    provider = extra.get("provider")
    if provider is not None:
        values["partner"] = PARTNER_NAMES.get(provider, provider)
    error = ApiError(status, refusal.code, catalog.say(text, language, **values), **extra)
    if retry_after is not None:
        error.headers["Retry-After"] = str(retry_after)
    realm = REALMS.get(type(refusal))
    if realm is not None:
        error.headers["WWW-Authenticate"] = f'Bearer realm="{realm}"'
    return error


def wait_words(seconds: int, language: str) -> str:
    """ "45 seconds", "3 minutes": how long to wait, in words people read at a glance."""
    if seconds < 60:
        if seconds == 1:
            return catalog.say("1 second", language)
        return catalog.say("{seconds} seconds", language, seconds=seconds)
    minutes = -(-seconds // 60)
    if minutes == 1:
        return catalog.say("1 minute", language)
    return catalog.say("{minutes} minutes", language, minutes=minutes)


def run(work: Callable[[Session], T], *, language: str | None = None) -> T:
    """``work`` (one use case) in one transaction; its refusal rolls back and is answered."""
    return in_transaction(
        context().sessions, work, answer=lambda refusal: answer(refusal, language)
    )


def settle(outcome: T | Refusal, *, language: str | None = None) -> T:
    """What a use case returned once its transaction is committed: a refusal it returned
    (rather than raised, so as to keep what it wrote) is answered now."""
    if isinstance(outcome, Refusal):
        raise answer(outcome, language)
    return outcome


@contextmanager
def answering(language: str | None = None) -> Iterator[None]:
    """Refusals raised outside a transaction (a password check) answered as well."""
    try:
        yield
    except Refusal as refusal:
        raise answer(refusal, language) from None
