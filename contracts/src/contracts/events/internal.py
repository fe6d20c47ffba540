"""The internal HTTP contracts between identity and the gateway: what identity answers to
the gateway's sign-in (the emailed code, a refresh) and to its check of an API client's
credentials. Identity dumps them, the gateway loads them: one definition of each answer.
Also the sign-in partners both know by name, and the address they send the browser back to."""

from __future__ import annotations

from datetime import UTC

from marshmallow import EXCLUDE, Schema, fields, validate

_SOME_TEXT = validate.Length(min=1)

#: the sign-in partners (DESIGN section 9), in the order the pages show them
PROVIDERS = ("microsoft", "google")
#: their names, as people know them
PARTNER_NAMES = {"microsoft": "Microsoft", "google": "Google"}
#: where a partner sends the browser back, under ``PUBLIC_URL``: identity registers it with
#: the partner and the gateway serves it
PARTNER_CALLBACK_PATH = "/connexion/partenaire/{provider}/retour"


class SignedInSchema(Schema):
    """Who signed in (a session opened or refreshed), for the gateway's access token."""

    class Meta:
        unknown = EXCLUDE  # a field identity adds later is no bad answer

    session_id = fields.String(required=True, validate=_SOME_TEXT)
    account_id = fields.String(required=True, validate=_SOME_TEXT)
    refresh_token = fields.String(required=True, validate=_SOME_TEXT)
    #: the session's absolute end; a moment without an offset is taken as UTC
    session_expires_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    roles = fields.List(fields.String(), required=True)
    amr = fields.List(fields.String(), required=True)
    #: the account's language (else the caller's), for the pages the gateway serves
    language = fields.String()


class ApiClientSchema(Schema):
    """An API client whose credentials identity accepted."""

    class Meta:
        unknown = EXCLUDE

    client_id = fields.String(required=True, validate=_SOME_TEXT)
    institution_id = fields.String(required=True, validate=_SOME_TEXT)
    name = fields.String()
