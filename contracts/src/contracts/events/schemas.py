"""Version-1 payload schemas of every event named in DESIGN section 2.

One marshmallow schema per (type, version). A field that carries a code or a token is
marked ``sensitive`` in its metadata: it is redacted wherever an event is logged or shown.
A field of human text (a name, a title) is a ``HumanText``: it refuses control characters, so
a consumer dead-letters an event that would put a line break into an email header.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from contracts.events.humantext import HumanText

LANGUAGES = ("en", "fr")
#: the ways into an account: its password, and each sign-in partner it is linked to
SIGN_IN_METHODS = ("google", "microsoft", "password")

SENSITIVE = {"sensitive": True}


def _email() -> fields.Email:
    return fields.Email(required=True, validate=validate.Length(max=320))


def _language() -> fields.String:
    return fields.String(required=True, validate=validate.OneOf(LANGUAGES))


def _moment() -> fields.AwareDateTime:
    return fields.AwareDateTime(required=True, format="iso")


class EvaluationSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # an added field inside a nested object keeps the version

    ref = HumanText(required=True, validate=validate.Length(min=1, max=100))
    name = HumanText(required=True, validate=validate.Length(min=1, max=200))


class BrowserSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    name = HumanText(required=True)
    version = HumanText(required=True)


class InvitationIssuedV1(Schema):
    """A coordinator invited someone; `code` and `expires_at` are null when the address
    already has an account (the email then says to sign in)."""

    invitation_id = fields.UUID(required=True)
    institution_id = fields.UUID(required=True)
    email = _email()
    first_name = HumanText(required=True, validate=validate.Length(min=1, max=100))
    last_name = HumanText(required=True, validate=validate.Length(min=1, max=100))
    language = _language()
    evaluation = fields.Nested(EvaluationSchema, required=True)
    account_exists = fields.Boolean(required=True)
    code = fields.String(
        required=True,
        allow_none=True,
        metadata=SENSITIVE,
        # 16 Crockford base32 symbols in groups of four (DESIGN section 5)
        validate=validate.Regexp(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}\Z"),
    )
    expires_at = fields.AwareDateTime(required=True, allow_none=True, format="iso")
    resent = fields.Boolean(load_default=False)


class CodeExpiredV1(Schema):
    invitation_id = fields.UUID(required=True)
    institution_id = fields.UUID(required=True)
    email = _email()
    expired_at = _moment()


class InvitationRevokedV1(Schema):
    invitation_id = fields.UUID(required=True)
    institution_id = fields.UUID(required=True)
    email = _email()
    revoked_at = _moment()


class AccountActivatedV1(Schema):
    account_id = fields.UUID(required=True)
    email = _email()
    first_name = HumanText(required=True)
    last_name = HumanText(required=True)
    language = _language()
    invitation_id = fields.UUID(required=True, allow_none=True)
    institution_id = fields.UUID(required=True, allow_none=True)
    evaluation = fields.Nested(EvaluationSchema, required=True, allow_none=True)
    activated_at = _moment()


class TwoFactorCodeRequestedV1(Schema):
    account_id = fields.UUID(required=True)
    email = _email()
    first_name = HumanText(required=True)
    language = _language()
    purpose = fields.String(required=True, validate=validate.OneOf(("activation", "sign_in")))
    code = fields.String(required=True, metadata=SENSITIVE, validate=validate.Regexp(r"^\d{6}\Z"))
    expires_at = _moment()


class PasswordResetRequestedV1(Schema):
    account_id = fields.UUID(required=True)
    email = _email()
    first_name = HumanText(required=True)
    language = _language()
    reset_url = fields.Url(required=True, require_tld=False, metadata=SENSITIVE)
    expires_at = _moment()


class PasswordResetAskedV1(Schema):
    # what was typed in the form, an address or not: the worker finds out whether an
    # account has it, so the request itself does the same work for every address
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))


class PasswordChangedV1(Schema):
    account_id = fields.UUID(required=True)
    email = _email()
    first_name = HumanText(required=True)
    language = _language()
    reason = fields.String(required=True, validate=validate.OneOf(("change", "reset")))
    changed_at = _moment()


def _sorted_once_each(methods: list[str]) -> None:
    if methods != sorted(set(methods)):
        raise ValidationError("Sorted, each method once.")


class SignInMethodsChangedV1(Schema):
    """How an account signs in changed: sent when its activation completes, when a password
    is set where there was none (a reset), and when a link to a sign-in partner is made or
    removed. `methods` is every way in after the change, sorted, and may be empty. Events of
    one account may arrive in any order: the one with the latest `changed_at` holds."""

    account_id = fields.UUID(required=True)
    email = _email()
    methods = fields.List(
        fields.String(validate=validate.OneOf(SIGN_IN_METHODS)),
        required=True,
        validate=[validate.Length(max=len(SIGN_IN_METHODS)), _sorted_once_each],
        metadata={"uniqueItems": True},
    )
    changed_at = _moment()


class SessionsEndedV1(Schema):
    """Sign-in sessions of one account ended before their 12 hours: `reason` is one of
    `signed_out`, `password_change`, `password_reset`, `refresh_token_reused` (or a reason
    added later: consumers must not refuse one they do not know). The gateway refuses the
    access tokens of these sessions, whose `sid` claim is the session id, from then on."""

    account_id = fields.UUID(required=True)
    session_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=40))
    ended_at = _moment()


class EmailDeliveredV1(Schema):
    message_id = fields.String(required=True)
    source_event_id = fields.UUID(required=True)
    source_event_type = fields.String(required=True)
    recipient = _email()
    invitation_id = fields.UUID(required=True, allow_none=True)
    delivered_at = _moment()


class EmailFailedV1(Schema):
    message_id = fields.String(required=True)
    source_event_id = fields.UUID(required=True)
    source_event_type = fields.String(required=True)
    recipient = _email()
    invitation_id = fields.UUID(required=True, allow_none=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    permanent = fields.Boolean(required=True)
    failed_at = _moment()


class ExamStartedV1(Schema):
    attempt_id = fields.UUID(required=True)
    exam_id = fields.UUID(required=True)
    account_id = fields.UUID(required=True)
    institution_id = fields.UUID(required=True)
    evaluation_ref = HumanText(required=True)
    started_at = _moment()
    ends_at = _moment()


class CopySubmittedV1(Schema):
    copy_id = fields.UUID(required=True)
    attempt_id = fields.UUID(required=True)
    exam_id = fields.UUID(required=True)
    exam_title = HumanText(required=True)
    institution_id = fields.UUID(required=True)
    account_id = fields.UUID(required=True)
    email = _email()
    first_name = HumanText(required=True)
    language = _language()
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}\Z"))
    submitted_at = _moment()


class DeviceValidatedV1(Schema):
    check_id = fields.UUID(required=True)
    account_id = fields.UUID(required=True)
    browser = fields.Nested(BrowserSchema, required=True)
    validated_at = _moment()
    valid_until = _moment()


@dataclass(frozen=True)
class Contract:
    type: str
    version: int
    producer: str
    schema: builtins.type[Schema]
    summary: str

    @property
    def routing_key(self) -> str:
        return f"{self.producer}.{self.type}"


CONTRACTS: tuple[Contract, ...] = (
    Contract("InvitationIssued", 1, "invitations", InvitationIssuedV1,
             "A candidate was invited to an evaluation (new code, resend, or existing account)."),
    Contract("CodeExpired", 1, "invitations", CodeExpiredV1,
             "An invitation code reached its expiry without being used."),
    Contract("InvitationRevoked", 1, "invitations", InvitationRevokedV1,
             "A coordinator revoked an invitation."),
    Contract("AccountActivated", 1, "identity", AccountActivatedV1,
             "A candidate completed every activation step."),
    Contract("TwoFactorCodeRequested", 1, "identity", TwoFactorCodeRequestedV1,
             "A one-time code must be emailed for activation or sign-in."),
    Contract("PasswordResetRequested", 1, "identity", PasswordResetRequestedV1,
             "A password reset link must be emailed."),
    Contract("PasswordResetAsked", 1, "identity", PasswordResetAskedV1,
             "Someone asked for a reset link for an address; identity's own worker sends it "
             "if an active account has that address."),
    Contract("PasswordChanged", 1, "identity", PasswordChangedV1,
             "A password was changed or reset; the owner gets a notice."),
    Contract("SessionsEnded", 1, "identity", SessionsEndedV1,
             "Sign-in sessions ended (sign-out, password change or reset, a replayed refresh "
             "token): every gateway process refuses their access tokens."),
    Contract("SignInMethodsChanged", 1, "identity", SignInMethodsChangedV1,
             "How an account signs in (password, Microsoft, Google) changed; invitations shows "
             "it to the institutions that invited the candidate."),
    Contract("EmailDelivered", 1, "notifier", EmailDeliveredV1,
             "The mail relay accepted an email."),
    Contract("EmailFailed", 1, "notifier", EmailFailedV1,
             "An email could not be delivered."),
    Contract("ExamStarted", 1, "exams", ExamStartedV1,
             "A candidate started an exam attempt."),
    Contract("CopySubmitted", 1, "exams", CopySubmittedV1,
             "A candidate submitted a copy; the receipt is emailed."),
    Contract("DeviceValidated", 1, "devicecheck", DeviceValidatedV1,
             "A candidate's device passed every check."),
)  # fmt: skip

_BY_KEY = {(c.type, c.version): c for c in CONTRACTS}


def contract_for(event_type: str, version: int) -> Contract:
    try:
        return _BY_KEY[(event_type, version)]
    except KeyError:
        raise LookupError(f"no contract for {event_type} v{version}") from None


def sensitive_fields(schema: Schema) -> set[str]:
    """Dotted names of the fields marked sensitive, nested schemas included."""
    found: set[str] = set()
    for name, field in schema.fields.items():
        if field.metadata.get("sensitive"):
            found.add(name)
        if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
            found |= {f"{name}.{inner}" for inner in sensitive_fields(field.schema)}
    return found
