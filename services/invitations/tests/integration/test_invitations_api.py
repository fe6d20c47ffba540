"""The coordinator API through Flask's test client, on SQLite and PostgreSQL, with an
injected clock: what a coordinator sees (status codes, JSON bodies) and what the service
announces (events in its outbox)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from invitations_testkit import START, World

from contracts.events.codec import decode
from contracts.events.envelope import Event
from contracts.events.examples import load_example
from contracts.runtime.migrations import upgrade
from contracts.testing.tokens import TestTokens
from invitations import create_app
from invitations.config import Settings
from invitations.domain import code_digest

THIRTY_DAYS = timedelta(days=30)


# -- the world -------------------------------------------------------------------------------------


def account_activated(
    email: str, invitation_id: Any = None, institution_id: Any = None, at: datetime = START
) -> Event:
    body = load_example("AccountActivated")
    body["id"] = str(uuid.uuid4())
    body["correlation_id"] = body["id"]
    body["data"].update(
        account_id=str(uuid.uuid4()),
        email=email,
        invitation_id=str(invitation_id) if invitation_id else None,
        institution_id=str(institution_id) if institution_id else None,
        activated_at=at.isoformat(),
    )
    if invitation_id is None:
        body["data"]["evaluation"] = None
    return decode(body)


def email_outcome(
    event_type: str, invitation_id: Any, source_event_id: Any, reason: str = ""
) -> Event:
    body = load_example(event_type)
    body["id"] = str(uuid.uuid4())
    body["data"].update(invitation_id=str(invitation_id), source_event_id=str(source_event_id))
    if reason:
        body["data"]["reason"] = reason
    return decode(body)


def iso(moment: datetime) -> str:
    return moment.isoformat()


# -- create ----------------------------------------------------------------------------------------


def test_create_invites_with_a_pending_code_valid_thirty_days(world: World) -> None:
    response = world.invite("  Ada.Lovelace@Example.ORG ", language="fr")

    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["email_status"] == "queued"
    assert body["email"] == "ada.lovelace@example.org"
    assert body["expires_at"] == iso(START + THIRTY_DAYS)
    assert body["evaluation"] == {"ref": "MATH101", "name": "Mathematics 101"}
    assert body["language"] == "fr"
    assert "code" not in body and "code_digest" not in body
    uuid.UUID(body["id"])

    (issued,) = world.events()
    assert issued["type"] == "InvitationIssued"
    data = issued["data"]
    assert data["invitation_id"] == body["id"]
    assert data["institution_id"] == str(world.institution)
    assert data["email"] == "ada.lovelace@example.org"
    assert data["account_exists"] is False
    assert data["resent"] is False
    assert data["language"] == "fr"
    assert data["evaluation"] == {"ref": "MATH101", "name": "Mathematics 101"}
    assert data["expires_at"] == iso(START + THIRTY_DAYS)
    stored = world.row(body["id"])
    assert stored.code_digest == code_digest(world.settings.code_key, data["code"])
    assert stored.last_event_id == uuid.UUID(issued["id"])
    assert data["code"] not in json.dumps(body)

    fetched = world.client.get(f"/api/v1/invitations/{body['id']}", headers=world.auth())
    assert fetched.status_code == 200
    assert fetched.get_json() == body


def test_the_same_person_and_evaluation_again_is_the_standing_invitation(world: World) -> None:
    first = world.invite("ada@example.org")
    again = world.invite("ADA@example.org", first_name="Augusta")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["first_name"] == "Ada"
    assert len(world.events("InvitationIssued")) == 1

    other_evaluation = world.invite("ada@example.org", ref="PHYS201")
    assert other_evaluation.status_code == 201
    assert other_evaluation.get_json()["id"] != first.get_json()["id"]
    other_institution = world.invite("ada@example.org", headers=world.auth(uuid.uuid4()))
    assert other_institution.status_code == 201
    assert len(world.events("InvitationIssued")) == 3


def test_a_revoked_invitation_can_be_replaced_by_a_new_one(world: World) -> None:
    first = world.invite().get_json()
    revoked = world.client.post(f"/api/v1/invitations/{first['id']}/revoke", headers=world.auth())
    assert revoked.status_code == 200

    again = world.invite()

    assert again.status_code == 201
    assert again.get_json()["id"] != first["id"]
    assert again.get_json()["status"] == "pending"


def test_an_api_client_token_may_invite(world: World) -> None:
    response = world.invite(headers=world.auth(roles=["api_client"]))
    assert response.status_code == 201


def test_invalid_fields_are_422_with_field_errors(world: World) -> None:
    response = world.client.post(
        "/api/v1/invitations",
        json={
            "email": "not an address",
            "first_name": "   ",
            "evaluation": {"ref": "MATH101"},
            "language": "de",
            "role": "admin",
        },
        headers=world.auth(),
    )

    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_error"
    assert body["message"]
    errors = body["errors"]["json"]
    assert errors["email"] == ["Not a valid email address."]
    assert errors["first_name"] == ["Required."]
    assert errors["last_name"] == ["Required."]
    assert errors["evaluation"] == {"name": ["Required."]}
    assert "language" in errors
    assert "role" in errors
    assert world.events() == []


INVALID_BODIES: list[dict[str, Any]] = [
    {"first_name": "Ada", "last_name": "L", "evaluation": {"ref": "M", "name": "N"}},
    {
        "email": "a@example.org",
        "first_name": "x" * 101,
        "last_name": "L",
        "evaluation": {"ref": "M", "name": "N"},
    },  # fmt: skip
    {"email": "a@example.org", "first_name": "Ada", "last_name": "L", "evaluation": "M"},
    {
        "email": "a@example.org",
        "first_name": "Ada",
        "last_name": "L",
        "evaluation": {"ref": "M" * 101, "name": "N"},
    },  # fmt: skip
    {
        "email": 12,
        "first_name": "Ada",
        "last_name": "L",
        "evaluation": {"ref": "M", "name": "N"},
    },  # fmt: skip
    {
        "email": "a@example.org",
        "first_name": "Ada",
        "last_name": "L",
        "evaluation": {"ref": "M", "name": "N", "when": "today"},
    },  # fmt: skip
]


def test_each_invalid_body_is_422_and_issues_nothing(world: World) -> None:
    for body in INVALID_BODIES:
        response = world.client.post("/api/v1/invitations", json=body, headers=world.auth())
        assert response.status_code == 422, body
        assert response.get_json()["error"] == "validation_error"
    assert world.events() == []


#: a coordinator rewriting the email the platform sends under its own name
HEADER_INJECTION = "Ada\r\nBcc: evil@example.com"


CONTROL_TEXTS = [HEADER_INJECTION, "Ada\nLovelace", "Ada\tLovelace", "Ada\u2028Bcc: x@example.com"]


def test_a_control_character_in_human_text_is_422_naming_the_field(world: World) -> None:
    for text in CONTROL_TEXTS:
        answers = {
            ("first_name",): world.invite(first_name=text),
            ("last_name",): world.invite(last_name=text),
            ("evaluation", "name"): world.invite(evaluation={"ref": "MATH101", "name": text}),
            ("evaluation", "ref"): world.invite(evaluation={"ref": text, "name": "Maths"}),
        }

        for (name, *inner), answer in answers.items():
            assert answer.status_code == 422, (text, name)
            body = answer.get_json()
            assert body["error"] == "validation_error"
            errors = body["errors"]["json"]
            assert list(errors) == [name]
            messages = errors[name][inner[0]] if inner else errors[name]
            assert messages == ["Control characters such as line breaks or tabs are not allowed."]
    assert world.events() == []


def test_a_body_that_is_not_json_is_refused(world: World) -> None:
    response = world.client.post(
        "/api/v1/invitations", data="email=a@example.org", headers=world.auth()
    )
    assert response.status_code in (400, 415, 422)
    assert response.get_json()["error"]
    assert world.events() == []


# -- who may call ----------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/invitations"),
    ("post", "/api/v1/invitations"),
    ("post", "/api/v1/invitations/bulk"),
    ("get", "/api/v1/invitations/export"),
    ("get", f"/api/v1/invitations/batches/{uuid.uuid4()}"),
    ("get", f"/api/v1/invitations/{uuid.uuid4()}"),
    ("post", f"/api/v1/invitations/{uuid.uuid4()}/resend"),
    ("post", f"/api/v1/invitations/{uuid.uuid4()}/revoke"),
]


def test_every_endpoint_needs_a_valid_coordinator_token(world: World) -> None:
    strangers = TestTokens(world.tokens.issuer, world.tokens.audience)
    cases = [
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic YWRhOnNlY3JldA=="}, 401),
        (world.auth(lifetime=timedelta(minutes=-5)), 401),
        (strangers.header(institution=world.institution), 401),
        (world.auth(roles=["candidate"]), 403),
        (world.auth(roles=[]), 403),
    ]
    for method, path in ENDPOINTS:
        for headers, status in cases:
            response = getattr(world.client, method)(path, headers=headers)
            assert response.status_code == status, (method, path, headers, response.get_json())
            expected = "invalid_token" if status == 401 else "forbidden"
            assert response.get_json()["error"] == expected
            if status == 401:
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert world.events() == []


def test_a_token_without_an_institution_is_403(world: World) -> None:
    created = world.invite().get_json()
    no_institution = world.tokens.header(institution=None)

    assert world.invite(headers=no_institution).status_code == 403
    for method, path in [
        ("get", "/api/v1/invitations"),
        ("get", f"/api/v1/invitations/{created['id']}"),
        ("post", f"/api/v1/invitations/{created['id']}/resend"),
        ("post", f"/api/v1/invitations/{created['id']}/revoke"),
        ("get", "/api/v1/invitations/export"),
    ]:
        response = getattr(world.client, method)(path, headers=no_institution)
        assert response.status_code == 403, path
        assert response.get_json()["error"] == "forbidden"
    assert len(world.events()) == 1
    assert world.row(created["id"]).status == "pending"


def test_another_institution_sees_nothing_and_changes_nothing(world: World) -> None:
    created = world.invite().get_json()
    stored = world.row(created["id"])
    theirs = world.auth(uuid.uuid4())
    path = f"/api/v1/invitations/{created['id']}"

    for method, suffix in [("get", ""), ("post", "/resend"), ("post", "/revoke")]:
        response = getattr(world.client, method)(path + suffix, headers=theirs)
        assert response.status_code == 404, suffix
        assert response.get_json()["error"] == "not_found"
    listing = world.client.get("/api/v1/invitations", headers=theirs)
    assert listing.status_code == 200
    assert listing.get_json() == {"items": [], "next_cursor": None}
    by_email = world.client.get("/api/v1/invitations?email=ada@example.org", headers=theirs)
    assert by_email.get_json()["items"] == []

    assert world.row(created["id"]) == stored
    assert len(world.events()) == 1


def test_an_unknown_invitation_is_404(world: World) -> None:
    path = f"/api/v1/invitations/{uuid.uuid4()}"
    for method, suffix in [("get", ""), ("post", "/resend"), ("post", "/revoke")]:
        response = getattr(world.client, method)(path + suffix, headers=world.auth())
        assert response.status_code == 404
        assert response.get_json()["error"] == "not_found"
    assert world.client.get("/api/v1/invitations/nope", headers=world.auth()).status_code == 404


def test_a_refusal_is_worded_in_the_callers_language(world: World) -> None:
    path = f"/api/v1/invitations/{uuid.uuid4()}"
    english = world.client.get(path, headers=world.auth())
    french = world.client.get(path, headers={**world.auth(), "Accept-Language": "fr-CA,fr;q=0.9"})
    assert english.get_json() == {"error": "not_found", "message": "No such invitation."}
    assert french.get_json() == {"error": "not_found", "message": "Cette invitation n'existe pas."}
    roster = world.client.post(
        "/api/v1/invitations/bulk",
        data=b"email,first_name\nada@example.org,Ada\n",
        content_type="text/csv",
        headers={**world.auth(), "Accept-Language": "fr"},
    ).get_json()
    assert roster["error"] == "roster_header"
    assert roster["message"].startswith("La première ligne doit nommer les colonnes : email,")
    assert roster["missing"] == ["last_name", "evaluation_ref", "evaluation_name"]


# -- resend and revoke -----------------------------------------------------------------------------


def test_resend_kills_the_old_code_and_restarts_the_thirty_days(world: World) -> None:
    created = world.invite().get_json()
    (first,) = world.events()
    old_digest = world.row(created["id"]).code_digest
    world.handle(
        email_outcome("EmailFailed", created["id"], first["id"], reason="550 mailbox full")
    )
    later = world.clock.advance(days=10, seconds=7)

    response = world.client.post(
        f"/api/v1/invitations/{created['id']}/resend", headers=world.auth()
    )

    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == created["id"]
    assert body["status"] == "pending"
    assert body["expires_at"] == iso(later + THIRTY_DAYS)
    assert body["email_status"] == "queued"
    assert body["email_error"] is None
    first_event, resent = world.events()
    assert resent["type"] == "InvitationIssued"
    assert resent["data"]["resent"] is True
    assert resent["data"]["account_exists"] is False
    assert resent["data"]["expires_at"] == iso(later + THIRTY_DAYS)
    assert resent["data"]["code"] != first_event["data"]["code"]
    stored = world.row(created["id"])
    assert stored.code_digest == code_digest(world.settings.code_key, resent["data"]["code"])
    assert stored.code_digest != old_digest
    assert old_digest not in world.digests()
    assert stored.last_event_id == uuid.UUID(resent["id"])


def test_revoke_withdraws_the_invitation_and_announces_it(world: World) -> None:
    created = world.invite().get_json()
    later = world.clock.advance(hours=3)

    response = world.client.post(
        f"/api/v1/invitations/{created['id']}/revoke", headers=world.auth(roles=["api_client"])
    )

    assert response.status_code == 200
    assert response.get_json()["status"] == "revoked"
    assert world.row(created["id"]).code_digest is None
    (revoked,) = world.events("InvitationRevoked")
    assert revoked["data"] == {
        "invitation_id": created["id"],
        "institution_id": str(world.institution),
        "email": "ada@example.org",
        "revoked_at": iso(later),
    }
    fetched = world.client.get(f"/api/v1/invitations/{created['id']}", headers=world.auth())
    assert fetched.get_json()["status"] == "revoked"


def test_a_revoked_invitation_cannot_be_resent_or_revoked_again(world: World) -> None:
    created = world.invite().get_json()
    path = f"/api/v1/invitations/{created['id']}"
    assert world.client.post(path + "/revoke", headers=world.auth()).status_code == 200
    count = len(world.events())

    for action in ("/resend", "/revoke"):
        response = world.client.post(path + action, headers=world.auth())
        assert response.status_code == 409
        body = response.get_json()
        assert body["error"] == "invitation_revoked"
        assert body["message"]
    assert len(world.events()) == count
    assert world.row(created["id"]).status == "revoked"


def test_an_activated_invitation_cannot_be_resent_or_revoked(world: World) -> None:
    created = world.invite().get_json()
    world.handle(account_activated("ada@example.org", created["id"], world.institution))
    count = len(world.events())
    path = f"/api/v1/invitations/{created['id']}"

    for action in ("/resend", "/revoke"):
        response = world.client.post(path + action, headers=world.auth())
        assert response.status_code == 409
        assert response.get_json()["error"] == "invitation_activated"
    assert len(world.events()) == count
    assert world.client.get(path, headers=world.auth()).get_json()["status"] == "activated"


# -- listing ---------------------------------------------------------------------------------------


def _all_pages(world: World, query: str, limit: int) -> tuple[list[str], int]:
    seen: list[str] = []
    pages = 0
    url = f"/api/v1/invitations?limit={limit}{query}"
    while True:
        response = world.client.get(url, headers=world.auth())
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) <= limit
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            return seen, pages
        assert pages < 20
        url = f"/api/v1/invitations?limit={limit}{query}&cursor={body['next_cursor']}"


def test_the_list_pages_newest_first_without_gaps_or_duplicates(world: World) -> None:
    created = []
    for i in range(7):
        world.clock.advance(minutes=1)
        created.append(world.invite(f"p{i}@example.org").get_json()["id"])
    world.invite("someone@example.org", headers=world.auth(uuid.uuid4()))

    seen, pages = _all_pages(world, "", 3)

    assert seen == list(reversed(created))
    assert pages == 3  # 3 + 3 + 1
    first_page = world.client.get("/api/v1/invitations?limit=3", headers=world.auth()).get_json()
    assert [i["id"] for i in first_page["items"]] == seen[:3]
    assert first_page["next_cursor"]


def test_paging_is_exact_when_many_invitations_share_one_moment(world: World) -> None:
    created = {world.invite(f"p{i}@example.org").get_json()["id"] for i in range(7)}

    seen, _pages = _all_pages(world, "", 2)

    assert len(seen) == 7
    assert set(seen) == created


def test_the_list_filters_by_status_evaluation_and_email(world: World) -> None:
    a = world.invite("ada@example.org", ref="MATH101").get_json()["id"]
    world.clock.advance(seconds=1)
    b = world.invite("bob@example.org", ref="MATH101").get_json()["id"]
    world.clock.advance(seconds=1)
    c = world.invite("ada@example.org", ref="PHYS201").get_json()["id"]
    world.clock.advance(seconds=1)
    d = world.invite("carl@example.org", ref="PHYS201").get_json()["id"]
    revoked = world.client.post(f"/api/v1/invitations/{b}/revoke", headers=world.auth())
    assert revoked.status_code == 200

    def ids(query: str) -> list[str]:
        response = world.client.get(f"/api/v1/invitations?{query}", headers=world.auth())
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids("") == [d, c, b, a]
    assert ids("status=revoked") == [b]
    assert ids("status=pending") == [d, c, a]
    assert ids("status=activated") == []
    assert ids("evaluation=MATH101") == [b, a]
    assert ids("evaluation=math101") == []
    assert ids("email=ADA@Example.org") == [c, a]
    assert ids("email=ada@example.org&evaluation=PHYS201") == [c]
    assert ids("status=pending&evaluation=MATH101") == [a]
    cursor_page = world.client.get(
        "/api/v1/invitations?status=pending&limit=2", headers=world.auth()
    ).get_json()
    assert [i["id"] for i in cursor_page["items"]] == [d, c]
    rest = world.client.get(
        f"/api/v1/invitations?status=pending&limit=2&cursor={cursor_page['next_cursor']}",
        headers=world.auth(),
    ).get_json()
    assert [i["id"] for i in rest["items"]] == [a]


BAD_CURSORS = [
    "zzz",
    "not base64 at all!",
    base64.urlsafe_b64encode(b"[1, 2]").decode(),
    base64.urlsafe_b64encode(b'["2026-03-02T09:15:04", "x"]').decode(),
    base64.urlsafe_b64encode(b'["2026-03-02T09:15:04+00:00", "not-a-uuid"]').decode(),
    base64.urlsafe_b64encode(b'["2026-03-02T09:15:04"]').decode(),
    base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    base64.urlsafe_b64encode(b"null").decode(),
]


def test_a_bad_cursor_is_400(world: World) -> None:
    world.invite()
    for cursor in BAD_CURSORS:
        response = world.client.get(
            "/api/v1/invitations", query_string={"cursor": cursor}, headers=world.auth()
        )
        assert response.status_code == 400, cursor
        assert response.get_json()["error"] == "bad_cursor"


def test_bad_list_parameters_are_422(world: World) -> None:
    for query in ("status=lost", "limit=0", "limit=201", "limit=x", "evaluation="):
        response = world.client.get(f"/api/v1/invitations?{query}", headers=world.auth())
        assert response.status_code == 422, query
        assert response.get_json()["error"] == "validation_error"


# -- accounts that already exist -------------------------------------------------------------------


def test_an_address_with_an_active_account_is_enrolled_without_a_code(world: World) -> None:
    world.handle(account_activated("Ada@Example.org"))

    response = world.invite("ada@example.org", ref="PHYS201")

    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "enrolled"
    assert body["expires_at"] is None
    assert body["email_status"] == "queued"
    assert world.row(body["id"]).code_digest is None
    (issued,) = world.events("InvitationIssued")
    assert issued["data"]["account_exists"] is True
    assert issued["data"]["code"] is None
    assert issued["data"]["expires_at"] is None

    resent = world.client.post(f"/api/v1/invitations/{body['id']}/resend", headers=world.auth())
    assert resent.status_code == 200
    assert resent.get_json()["status"] == "enrolled"
    assert resent.get_json()["expires_at"] is None
    notice = world.events("InvitationIssued")[-1]["data"]
    assert (notice["account_exists"], notice["code"], notice["resent"]) == (True, None, True)


def test_activation_marks_its_invitation_and_enrols_the_other_pending_ones(world: World) -> None:
    used = world.invite("ada@example.org", ref="MATH101").get_json()
    other = world.invite("ADA@example.org", ref="PHYS201").get_json()
    elsewhere_institution = uuid.uuid4()
    elsewhere = world.invite("ada@example.org", headers=world.auth(elsewhere_institution))
    elsewhere_id = elsewhere.get_json()["id"]
    revoked = world.invite("ada@example.org", ref="CHEM301").get_json()
    world.client.post(f"/api/v1/invitations/{revoked['id']}/revoke", headers=world.auth())
    bystander = world.invite("bob@example.org").get_json()
    before = len(world.events())
    later = world.clock.advance(days=2)

    world.handle(account_activated("Ada@Example.org", used["id"], world.institution))

    def status(invitation_id: str, institution: uuid.UUID | None = None) -> dict[str, Any]:
        path = f"/api/v1/invitations/{invitation_id}"
        body: dict[str, Any] = world.client.get(path, headers=world.auth(institution)).get_json()
        return body

    assert status(used["id"])["status"] == "activated"
    assert world.row(used["id"]).code_digest is None
    for invitation_id, institution in ((other["id"], None), (elsewhere_id, elsewhere_institution)):
        enrolled = status(invitation_id, institution)
        assert enrolled["status"] == "enrolled"
        assert enrolled["expires_at"] is None
        assert enrolled["email_status"] == "queued"
        assert enrolled["updated_at"] == iso(later)
        assert world.row(invitation_id).code_digest is None
    assert status(revoked["id"])["status"] == "revoked"
    assert status(bystander["id"])["status"] == "pending"

    notices = world.events()[before:]
    assert {n["data"]["invitation_id"] for n in notices} == {other["id"], elsewhere_id}
    for notice in notices:
        assert notice["type"] == "InvitationIssued"
        assert notice["data"]["account_exists"] is True
        assert notice["data"]["code"] is None
        assert notice["data"]["email"] == "ada@example.org"
        assert world.row(notice["data"]["invitation_id"]).last_event_id == uuid.UUID(notice["id"])

    # the same event handled again changes nothing and announces nothing
    world.handle(account_activated("ada@example.org", used["id"], world.institution))
    assert len(world.events()) == before + 2


# -- email outcomes --------------------------------------------------------------------------------


def test_email_delivered_and_failed_set_the_email_status(world: World) -> None:
    ada = world.invite("ada@example.org").get_json()
    grace = world.invite("grace@example.org").get_json()
    ada_event, grace_event = world.events()

    world.handle(email_outcome("EmailDelivered", ada["id"], ada_event["id"]))
    world.handle(
        email_outcome(
            "EmailFailed", grace["id"], grace_event["id"], reason="550 5.1.1 User unknown"
        )
    )

    got = world.client.get(f"/api/v1/invitations/{ada['id']}", headers=world.auth()).get_json()
    assert (got["email_status"], got["email_error"]) == ("sent", None)
    got = world.client.get(f"/api/v1/invitations/{grace['id']}", headers=world.auth()).get_json()
    assert (got["email_status"], got["email_error"]) == ("failed", "550 5.1.1 User unknown")
    assert got["status"] == "pending"


def test_an_outcome_for_an_older_email_is_ignored(world: World) -> None:
    created = world.invite().get_json()
    (first,) = world.events()
    path = f"/api/v1/invitations/{created['id']}"
    assert world.client.post(path + "/resend", headers=world.auth()).status_code == 200
    _first, second = world.events()

    world.handle(email_outcome("EmailFailed", created["id"], first["id"], reason="late bounce"))
    got = world.client.get(path, headers=world.auth()).get_json()
    assert (got["email_status"], got["email_error"]) == ("queued", None)

    world.handle(email_outcome("EmailDelivered", created["id"], second["id"]))
    got = world.client.get(path, headers=world.auth()).get_json()
    assert (got["email_status"], got["email_error"]) == ("sent", None)

    world.handle(email_outcome("EmailFailed", created["id"], first["id"], reason="late bounce"))
    assert world.client.get(path, headers=world.auth()).get_json()["email_status"] == "sent"


def test_an_outcome_without_an_invitation_is_ignored(world: World) -> None:
    created = world.invite().get_json()
    body = load_example("EmailDelivered")
    body["data"]["invitation_id"] = None
    body["data"]["source_event_id"] = world.events()[0]["id"]
    world.handle(decode(body))
    assert world.row(created["id"]).email_status == "queued"


def test_the_app_starts_from_settings_read_from_the_environment(tmp_path: Path) -> None:
    """With no code key file named, one is made under var/."""
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    upgrade("invitations", url)
    plain = Settings.from_env(
        {
            "NEXAM_ENV": "test",
            "NEXAM_VAR_DIR": str(tmp_path / "var"),
            "INVITATIONS_DATABASE_URL": url,
            "BUS_URL": f"filesystem://{tmp_path / 'bus'}",
        },
    )
    app = create_app(plain)
    try:
        assert app.test_client().get("/readyz").status_code == 200
        assert app.test_client().get("/api/v1/invitations").status_code == 401
        key = (tmp_path / "var" / "keys" / "invitation-code.key").read_bytes()
        assert len(key) >= 32
    finally:
        app.extensions["nexam.runtime"].engine.dispose()
