"""The AsyncAPI 3.0.0 description of the event bus, generated from the contracts.

``python -m contracts.bus.asyncapi > contracts/asyncapi.yaml`` regenerates the committed copy;
the contract tests fail while that copy differs from what this module produces.

Payload schemas come from the marshmallow schemas through apispec, as JSON Schema (the
OpenAPI 3.1 dialect, so ``null`` is a type). Nested schemas are referenced under
``components/schemas``; fields marked sensitive carry ``x-sensitive: true`` (on the wire
they are sealed: see ``contracts.bus.sealing``).
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import EXCLUDE, Schema, fields

from contracts.bus.topology import Topology
from contracts.events.envelope import EnvelopeSchema
from contracts.events.examples import load_example
from contracts.events.schemas import CONTRACTS, Contract, contract_for
from contracts.events.subscriptions import EVERY_PROCESS, SUBSCRIPTIONS

ASYNCAPI_VERSION = "3.0.0"
SERVER = "rabbitmq"
AMQP_BINDING_VERSION = "0.3.0"
CONTENT_TYPE = "application/json"

Subscriptions = Mapping[str, tuple[tuple[str, int], ...]]
_AttributeFunction = Callable[..., dict[str, Any]]


def contract_id(contract: Contract) -> str:
    """The key of a contract's channel and message: ``<Type>.v<version>``."""
    return f"{contract.type}.v{contract.version}"


def build_document(
    contracts: tuple[Contract, ...] = CONTRACTS,
    subscriptions: Subscriptions | None = None,
    *,
    with_examples: bool = True,
) -> dict[str, Any]:
    """The whole AsyncAPI document as plain JSON-compatible data."""
    subs = SUBSCRIPTIONS if subscriptions is None else subscriptions
    schemas = _JsonSchemas()
    messages = {contract_id(c): _message(schemas, c, with_examples) for c in contracts}
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Nexam events",
            "version": "1",
            "description": (
                "Events exchanged by the Nexam services on the topic exchange "
                f"{Topology().events_exchange_name}, routed by <producer>.<EventName>. "
                "Consumers ignore unknown payload fields, so additive changes keep the version. "
                "A field marked x-sensitive travels sealed (AES-256-GCM under the bus sealing "
                "key, as the string sealed:v1:<key id>:<base64url>): its schema "
                "describes the value once the consumer has opened it."
            ),
            "license": {
                "name": "Apache-2.0",
                "url": "https://www.apache.org/licenses/LICENSE-2.0",
            },
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            SERVER: {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The RabbitMQ broker every service publishes to and consumes from.",
            }
        },
        "channels": {contract_id(c): _channel(c) for c in contracts},
        "operations": _operations(contracts, subs),
        "components": {
            "schemas": schemas.components(),
            "messages": messages,
        },
    }
    # A JSON round trip drops shared sub-objects (no YAML anchors) and proves it serialises.
    result: dict[str, Any] = json.loads(json.dumps(document))
    return result


def render(document: Mapping[str, Any] | None = None) -> str:
    """The document as YAML, exactly as committed in ``contracts/asyncapi.yaml``."""
    data = build_document() if document is None else document
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    sys.stdout.buffer.write(render().encode("utf-8"))
    sys.stdout.flush()


class _JsonSchemas:
    """marshmallow -> JSON Schema through apispec (whose converter is untyped: the two calls
    used here are pinned to typed signatures). Nested schemas land in ``components``."""

    def __init__(self) -> None:
        plugin = MarshmallowPlugin()
        self._spec = APISpec(
            title="Nexam events", version="1", openapi_version="3.1.0", plugins=[plugin]
        )
        converter = plugin.converter
        assert converter is not None
        # "url" is not a JSON Schema format; an instance-level mapping leaves apispec's alone.
        converter.field_mapping = {**converter.field_mapping, fields.URL: ("string", "uri")}
        add_attribute_function: Callable[[_AttributeFunction], None] = (
            converter.add_attribute_function
        )
        add_attribute_function(_sensitive_extension)
        self._convert: Callable[[Schema], dict[str, Any]] = converter.schema2jsonschema

    def of(self, schema: Schema) -> dict[str, Any]:
        return self._convert(schema)

    def components(self) -> dict[str, Any]:
        schemas: dict[str, Any] = self._spec.to_dict().get("components", {}).get("schemas", {})
        return schemas


def _sensitive_extension(
    converter: OpenAPIConverter, field: fields.Field[Any], **kwargs: Any
) -> dict[str, Any]:
    return {"x-sensitive": True} if field.metadata.get("sensitive") else {}


def _payload_schema(schemas: _JsonSchemas, schema: type[Schema]) -> dict[str, Any]:
    # Built as consumers load it (unknown=EXCLUDE): unknown top-level fields are allowed.
    result = schemas.of(schema(unknown=EXCLUDE))
    if schema.__doc__:  # a docstring of its own, not one inherited from Schema
        return {"description": inspect.cleandoc(schema.__doc__), **result}
    return result


def _envelope_schema(schemas: _JsonSchemas, contract: Contract) -> dict[str, Any]:
    envelope = schemas.of(EnvelopeSchema())
    props = envelope["properties"]
    props["type"] = {**props["type"], "const": contract.type}
    props["version"] = {**props["version"], "const": contract.version}
    props["producer"] = {**props["producer"], "const": contract.producer}
    props["data"] = _payload_schema(schemas, contract.schema)
    return envelope


def _message(schemas: _JsonSchemas, contract: Contract, with_examples: bool) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": contract.type,
        "title": f"{contract.type} v{contract.version}",
        "summary": contract.summary,
        "contentType": CONTENT_TYPE,
        "correlationId": {"location": "$message.payload#/correlation_id"},
        "tags": [{"name": contract.producer}],
        "bindings": {"amqp": {"contentEncoding": "utf-8", "bindingVersion": AMQP_BINDING_VERSION}},
        "payload": _envelope_schema(schemas, contract),
    }
    if with_examples:
        message["examples"] = [
            {
                "name": contract_id(contract),
                "payload": load_example(contract.type, contract.version),
            }
        ]
    return message


def _channel(contract: Contract) -> dict[str, Any]:
    exchange = Topology().events_exchange
    key = contract_id(contract)
    return {
        "address": contract.routing_key,
        "title": key,
        "summary": contract.summary,
        "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "bindings": {
            "amqp": {
                "is": "routingKey",
                "exchange": {
                    "name": exchange.name,
                    "type": exchange.type,
                    "durable": bool(exchange.durable),
                    "autoDelete": bool(exchange.auto_delete),
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }


def _operations(contracts: tuple[Contract, ...], subs: Subscriptions) -> dict[str, Any]:
    consumers: dict[str, list[str]] = {contract_id(c): [] for c in contracts}
    for service, subscribed in subs.items():
        for event_type, version in subscribed:
            key = contract_id(contract_for(event_type, version))
            if key not in consumers:
                raise ValueError(f"{service} consumes {key}, which has no channel")
            consumers[key].append(service)
    operations: dict[str, Any] = {}
    every_process: dict[str, list[str]] = {contract_id(c): [] for c in contracts}
    for service, subscribed in EVERY_PROCESS.items():
        for event_type, version in subscribed:
            every_process[contract_id(contract_for(event_type, version))].append(service)
    for contract in contracts:
        key = contract_id(contract)
        operations[f"{contract.producer}.send.{key}"] = _operation(
            contract, "send", contract.producer
        )
        for service in consumers[key]:
            operations[f"{service}.receive.{key}"] = _operation(contract, "receive", service)
        for service in every_process[key]:
            operations[f"{service}.receive.{key}"] = _operation(
                contract, "receive", service, every_process=True
            )
    return operations


def _operation(
    contract: Contract,
    action: Literal["send", "receive"],
    service: str,
    *,
    every_process: bool = False,
) -> dict[str, Any]:
    key = contract_id(contract)
    verb = "publishes" if action == "send" else "consumes"
    who = f"Every {service} process" if every_process else service
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{key}"},
        "summary": f"{who} {verb} {contract.type} v{contract.version}.",
        "tags": [{"name": service}],
        "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
    }
    if action == "send":
        amqp: dict[str, Any] = {"deliveryMode": 2}
    else:
        amqp = {"ack": True}
        operation["x-queue"] = Topology().queue(service).name
    if every_process:
        operation["description"] = (
            "Each process binds a queue of its own, exclusive to its connection and deleted "
            "with it, named <service>.<process>."
        )
        operation["x-queue"] = f"{Topology().queue_name(service)}.<process>"
    operation["bindings"] = {"amqp": {**amqp, "bindingVersion": AMQP_BINDING_VERSION}}
    return operation


if __name__ == "__main__":
    main()
