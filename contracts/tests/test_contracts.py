"""Keep the event contracts, the golden examples and the committed AsyncAPI document in step."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from marshmallow import Schema, fields
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from contracts.bus.asyncapi import build_document, contract_id, render
from contracts.events.codec import REDACTED, ContractViolation, decode, encode, redact
from contracts.events.envelope import EnvelopeSchema
from contracts.events.examples import all_examples, load_example
from contracts.events.humantext import HumanText
from contracts.events.schemas import CONTRACTS, Contract, contract_for, sensitive_fields
from contracts.events.subscriptions import EVERY_PROCESS, SUBSCRIPTIONS

ASYNCAPI_FILE = Path(__file__).resolve().parents[1] / "asyncapi.yaml"
REGENERATE = "python -m contracts.bus.asyncapi > contracts/asyncapi.yaml"
DOCUMENT_URI = "urn:nexam:asyncapi"

#: Every field that carries a code or a secret link. Adding one here is a deliberate act.
EXPECTED_SENSITIVE: dict[str, set[str]] = {
    "InvitationIssued": {"code"},
    "TwoFactorCodeRequested": {"code"},
    "PasswordResetRequested": {"reset_url"},
}

#: Every field of human text (names, titles, references): it refuses control characters, so
#: that no consumer mails a line break into a header. Adding one here is a deliberate act.
EXPECTED_HUMAN_TEXT: dict[str, set[str]] = {
    "InvitationIssued": {"first_name", "last_name", "evaluation.ref", "evaluation.name"},
    "AccountActivated": {"first_name", "last_name", "evaluation.ref", "evaluation.name"},
    "TwoFactorCodeRequested": {"first_name"},
    "PasswordResetRequested": {"first_name"},
    "PasswordChanged": {"first_name"},
    "CopySubmitted": {"first_name", "exam_title"},
    "ExamStarted": {"evaluation_ref"},
    "DeviceValidated": {"browser.name", "browser.version"},
}

#: values refused beyond a wrong type, and whether the JSON Schema can tell (it has no order)
REFUSED_VALUES: dict[str, list[tuple[str, str, Any, bool]]] = {
    "SignInMethodsChanged": [
        ("unsorted", "methods", ["password", "google"], False),
        ("repeated", "methods", ["password", "password"], True),
        ("unknown", "methods", ["apple"], True),
    ],
}

#: what a coordinator typed to add a Bcc, and the other ways text can break a line
CONTROL_TEXTS = {
    "crlf": "Ada\r\nBcc: evil@example.com",
    "lf": "Ada\nBcc: evil@example.com",
    "final-lf": "Ada\n",
    "tab": "Ada\tLovelace",
    "nul": "Ada\x00",
    "nel": "Ada\x85Bcc: evil@example.com",
    "line-separator": "Ada\u2028Bcc: evil@example.com",
    "paragraph-separator": "Ada\u2029Bcc: evil@example.com",
}

Body = dict[str, Any]


def _ids(contract: Contract) -> str:
    return contract_id(contract)


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed_text() -> str:
    if not ASYNCAPI_FILE.is_file():
        pytest.fail(f"{ASYNCAPI_FILE} is missing; run `{REGENERATE}`")
    return ASYNCAPI_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def committed(committed_text: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(committed_text)
    return document


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (also one inside a nullable ``anyOf``) to its schema."""
    if "anyOf" in node:
        refs = [branch for branch in node["anyOf"] if "$ref" in branch]
        assert len(refs) == 1, f"ambiguous anyOf {node}"
        node = refs[0]
    ref = node.get("$ref")
    if ref is None:
        return node
    assert isinstance(ref, str) and ref.startswith("#/"), ref
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    assert isinstance(target, dict)
    return target


def _payload(document: dict[str, Any], contract: Contract) -> dict[str, Any]:
    payload: dict[str, Any] = document["components"]["messages"][contract_id(contract)]["payload"]
    return payload


def _data_schema(document: dict[str, Any], contract: Contract) -> dict[str, Any]:
    return _resolve(document, _payload(document, contract)["properties"]["data"])


def _validator(document: dict[str, Any], contract: Contract) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, DRAFT202012.create_resource(document)
    )
    pointer = f"{DOCUMENT_URI}#/components/messages/{contract_id(contract)}/payload"
    return Draft202012Validator(
        {"$ref": pointer},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _nested_schema(field: fields.Field[Any]) -> Schema | None:
    if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        return field.schema
    return None


def _required(schema: Schema) -> set[str]:
    return {f.data_key or name for name, f in schema.fields.items() if f.required}


def _required_paths(schema: Schema, prefix: str = "") -> Iterator[str]:
    for name, field in schema.fields.items():
        if field.required:
            yield prefix + name
        inner = _nested_schema(field)
        if inner is not None:
            yield from _required_paths(inner, f"{prefix}{name}.")


def _marked_sensitive(
    document: dict[str, Any], schema: dict[str, Any], prefix: str = ""
) -> set[str]:
    found: set[str] = set()
    for name, prop in schema.get("properties", {}).items():
        if prop.get("x-sensitive") is True:
            found.add(prefix + name)
        target = _resolve(document, prop)
        if target is not prop or target.get("type") == "object":
            found |= _marked_sensitive(document, target, f"{prefix}{name}.")
    return found


def _get(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def _delete(body: Body, dotted: str) -> None:
    *parents, last = dotted.split(".")
    target = body["data"]
    for part in parents:
        target = target[part]
    del target[last]


# --- examples --------------------------------------------------------------------------------


def test_every_contract_has_exactly_one_example_and_every_example_a_contract() -> None:
    examples = all_examples()
    contracts = {(c.type, c.version) for c in CONTRACTS}
    assert sorted(contracts - set(examples)) == [], "contracts without an example file"
    assert sorted(set(examples) - contracts) == [], "example files without a contract"
    for (event_type, version), body in examples.items():
        assert (body.get("type"), body.get("version")) == (event_type, version), (
            f"{event_type}.v{version}.json holds a {body.get('type')} v{body.get('version')}"
        )


def test_load_example_gives_a_fresh_copy_and_refuses_unknown_events() -> None:
    first = load_example("InvitationIssued")
    first["data"]["email"] = "someone.else@example.org"
    assert load_example("InvitationIssued")["data"]["email"] == "ada.lovelace@example.org"
    with pytest.raises(LookupError):
        load_example("InvitationIssued", version=99)


@pytest.mark.parametrize("contract", CONTRACTS, ids=_ids)
def test_example_decodes_and_round_trips_to_the_same_envelope(contract: Contract) -> None:
    example = load_example(contract.type, contract.version)
    event = decode(copy.deepcopy(example))
    assert event.routing_key == contract.routing_key
    assert encode(event) == example


@pytest.mark.parametrize("contract", CONTRACTS, ids=_ids)
def test_example_validates_against_the_committed_payload_schema(
    contract: Contract, committed: dict[str, Any]
) -> None:
    example = load_example(contract.type, contract.version)
    errors = [e.message for e in _validator(committed, contract).iter_errors(example)]
    assert errors == []


# --- the AsyncAPI document -------------------------------------------------------------------


def test_committed_asyncapi_document_is_up_to_date(committed_text: str) -> None:
    assert committed_text == render(), (
        f"contracts/asyncapi.yaml is stale: run `{REGENERATE}` and commit the result"
    )


def test_channels_and_messages_match_the_contracts(committed: dict[str, Any]) -> None:
    expected = {contract_id(c): c.routing_key for c in CONTRACTS}
    channels = {key: channel["address"] for key, channel in committed["channels"].items()}
    assert channels == expected
    assert set(committed["components"]["messages"]) == set(expected)


def test_operations_match_producers_and_subscriptions(committed: dict[str, Any]) -> None:
    expected = {(c.producer, "send", contract_id(c)) for c in CONTRACTS}
    by_key = {(c.type, c.version): c for c in CONTRACTS}
    for service, subscribed in (*SUBSCRIPTIONS.items(), *EVERY_PROCESS.items()):
        expected |= {(service, "receive", contract_id(by_key[key])) for key in subscribed}
    found = set()
    for name, operation in committed["operations"].items():
        service, action, channel = name.split(".", 2)
        assert operation["action"] == action
        assert operation["channel"] == {"$ref": f"#/channels/{channel}"}
        found.add((service, action, channel))
    assert found == expected


def test_every_reference_in_the_document_resolves(committed: dict[str, Any]) -> None:
    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    for ref in walk(committed):
        _resolve(committed, ref)


@pytest.mark.parametrize("contract", CONTRACTS, ids=_ids)
def test_required_fields_match_the_marshmallow_schema(
    contract: Contract, committed: dict[str, Any]
) -> None:
    schema = contract.schema()
    data = _data_schema(committed, contract)
    assert set(data.get("required", [])) == _required(schema)
    for name, field in schema.fields.items():
        inner = _nested_schema(field)
        if inner is not None:
            nested = _resolve(committed, data["properties"][field.data_key or name])
            assert set(nested.get("required", [])) == _required(inner), name
    envelope = _payload(committed, contract)
    assert set(envelope["required"]) == _required(EnvelopeSchema())


@pytest.mark.parametrize("contract", CONTRACTS, ids=_ids)
def test_sensitive_fields_are_marked_in_the_document(
    contract: Contract, committed: dict[str, Any]
) -> None:
    declared = sensitive_fields(contract.schema())
    assert declared == EXPECTED_SENSITIVE.get(contract.type, set())
    assert _marked_sensitive(committed, _data_schema(committed, contract)) == declared


def _human_text_fields(schema: Schema, prefix: str = "") -> set[str]:
    found: set[str] = set()
    for name, field in schema.fields.items():
        if isinstance(field, HumanText):
            found.add(prefix + name)
        inner = _nested_schema(field)
        if inner is not None:
            found |= _human_text_fields(inner, f"{prefix}{name}.")
    return found


@pytest.mark.parametrize("contract", CONTRACTS, ids=_ids)
def test_names_and_titles_are_human_text(contract: Contract) -> None:
    assert _human_text_fields(contract.schema()) == EXPECTED_HUMAN_TEXT.get(contract.type, set())


@pytest.mark.parametrize("contract", CONTRACTS, ids=_ids)
def test_redact_leaves_no_sensitive_value(contract: Contract) -> None:
    example = load_example(contract.type, contract.version)
    original = copy.deepcopy(example)
    paths = sensitive_fields(contract.schema()) | EXPECTED_SENSITIVE.get(contract.type, set())
    secrets = {path: _get(example["data"], path) for path in paths}
    assert all(v is not None for v in secrets.values()), "the example must exercise redaction"

    redacted = redact(example)

    assert example == original, "redact() must not change its argument"
    text = json.dumps(redacted, ensure_ascii=False)
    for path, value in secrets.items():
        assert _get(redacted["data"], path) == REDACTED
        assert str(value) not in text, f"{path} leaks through redact()"
    for name, value in example["data"].items():
        if name not in secrets and not any(p.startswith(f"{name}.") for p in secrets):
            assert redacted["data"][name] == value
    assert {k: v for k, v in redacted.items() if k != "data"} == {
        k: v for k, v in example.items() if k != "data"
    }


# --- rejected messages -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    name: str
    apply: Callable[[Body], Any]
    #: False where the JSON Schema cannot tell (a format that jsonschema does not check)
    schema_rejects: bool = True


def _set(key: str, value: Any) -> Callable[[Body], Body]:
    def apply(body: Body) -> Body:
        body[key] = value
        return body

    return apply


def _without(key: str) -> Callable[[Body], Body]:
    def apply(body: Body) -> Body:
        del body[key]
        return body

    return apply


def _other_producer(body: Body) -> Body:
    producers = sorted({c.producer for c in CONTRACTS} - {body["producer"]})
    body["producer"] = producers[0]
    return body


def _without_data(path: str) -> Callable[[Body], Body]:
    def apply(body: Body) -> Body:
        _delete(body, path)
        return body

    return apply


def _wrong_type(name: str) -> Callable[[Body], Body]:
    def apply(body: Body) -> Body:
        body["data"][name] = 12345
        return body

    return apply


def _with_data(path: str, value: Any) -> Callable[[Body], Body]:
    def apply(body: Body) -> Body:
        *parents, last = path.split(".")
        target = body["data"]
        for part in parents:
            target = target[part]
        target[last] = value
        return body

    return apply


ENVELOPE_MUTATIONS = (
    Mutation("unknown-event-type", _set("type", "InvitationExploded")),
    Mutation("wrong-producer", _other_producer),
    Mutation("version-2", _set("version", 2)),
    Mutation("version-as-string", _set("version", "1")),
    Mutation("empty-correlation-id", _set("correlation_id", "")),
    Mutation("bad-id", _set("id", "not-a-uuid")),
    Mutation("naive-occurred-at", _set("occurred_at", "2026-03-02T09:15:04"), False),
    Mutation("unknown-envelope-field", _set("priority", "high")),
    Mutation("data-not-an-object", _set("data", ["not", "an", "object"])),
    *(Mutation(f"missing-{key}", _without(key)) for key in EnvelopeSchema().fields),
)


def _data_mutations(contract: Contract) -> Iterator[Mutation]:
    schema = contract.schema()
    for path in _required_paths(schema):
        yield Mutation(f"missing-data.{path}", _without_data(path))
    for name in schema.fields:
        yield Mutation(f"wrong-type-data.{name}", _wrong_type(name))
    for path in sorted(EXPECTED_HUMAN_TEXT.get(contract.type, set())):
        for kind, text in CONTROL_TEXTS.items():
            yield Mutation(f"{kind}-in-data.{path}", _with_data(path, text))
    for kind, path, value, schema_rejects in REFUSED_VALUES.get(contract.type, []):
        yield Mutation(f"{kind}-data.{path}", _with_data(path, value), schema_rejects)


CASES = [
    pytest.param(contract, mutation, id=f"{contract_id(contract)}-{mutation.name}")
    for contract in CONTRACTS
    for mutation in (*ENVELOPE_MUTATIONS, *_data_mutations(contract))
]


@pytest.mark.parametrize(("contract", "mutation"), CASES)
def test_a_mutated_example_is_rejected(
    contract: Contract, mutation: Mutation, committed: dict[str, Any]
) -> None:
    body = mutation.apply(load_example(contract.type, contract.version))
    with pytest.raises(ContractViolation):
        decode(body)
    if mutation.schema_rejects:
        assert not _validator(committed, contract).is_valid(body), (
            "decode() rejects this message but the AsyncAPI payload schema accepts it"
        )


def test_an_account_with_no_way_in_left_is_a_valid_sign_in_methods_change(
    committed: dict[str, Any],
) -> None:
    body = load_example("SignInMethodsChanged")
    body["data"]["methods"] = []
    assert decode(body).data["methods"] == []
    assert _validator(committed, contract_for("SignInMethodsChanged", 1)).is_valid(body)


def test_a_body_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(ContractViolation):
        decode([load_example("InvitationIssued")])


@pytest.mark.parametrize("contract", CONTRACTS, ids=_ids)
def test_schema_and_decode_agree_on_unknown_payload_fields(
    contract: Contract, committed: dict[str, Any]
) -> None:
    """Consumers ignore unknown payload fields (additive changes keep the version)."""
    validator = _validator(committed, contract)
    body = load_example(contract.type, contract.version)
    body["data"]["added_in_a_later_release"] = "ignored"
    assert validator.is_valid(body)
    assert decode(body).data.keys() == contract.schema().fields.keys()
    for name, field in contract.schema().fields.items():
        if _nested_schema(field) is None or not isinstance(body["data"].get(name), dict):
            continue
        nested = copy.deepcopy(body)
        nested["data"][name]["added_in_a_later_release"] = "ignored"
        try:
            decode(nested)
            decoded = True
        except ContractViolation:
            decoded = False
        assert validator.is_valid(nested) == decoded, f"data.{name}: schema and decode disagree"


def test_the_generator_is_deterministic() -> None:
    assert build_document() == build_document()
