"""Generate docs/asyncapi.yaml, the AsyncAPI 3.0 document of CCRM's events,
from the same registry as docs/events.md.

`PYTHONPATH=$PWD python -m shared.events.asyncapi > docs/asyncapi.yaml`; a
test fails when the document is stale.

The document describes CCRM as the application that *sends*: one channel per
event type and version, whose address is the routing key (the event type) on
the producer's durable topic exchange `<service>.events` (the channel's AMQP
binding); one `send` operation per channel; each message's payload is the
SPEC §7 envelope with `type`, `version` and `producer` fixed and `data` the
event's own schema, written as JSON Schema (draft 7, AsyncAPI's default
schema format). Fields are never closed (`additionalProperties` is left
open): adding a field is a compatible change, a subscriber ignores what it
does not know.
"""
from __future__ import annotations

import sys
from typing import Any

import yaml
from marshmallow import Schema, fields, validate

from shared.events.envelope import EnvelopeSchema
from shared.events.registry import EventType, all_events

JsonSchema = dict[str, Any]

AMQP_BINDING_VERSION = "0.3.0"

DESCRIPTION = """\
Every event of CCRM, the complaint centre's services (SPEC §7). Generated from
`shared/events/` by `python -m shared.events.asyncapi > docs/asyncapi.yaml`; do
not edit by hand. The same registry gives the human catalogue, docs/events.md.

Each service publishes to its own durable topic exchange `<service>.events`
(intake, dispatch, sla, penalty, media) with routing key = the event type,
as persistent JSON messages whose AMQP `message_id` is the envelope's
`event_id`. To subscribe, declare your own durable queue and bind it to the
exchanges with the routing keys you want (`complaint.*`, `#`, ...): see the
README's "Subscribing from another system" and examples/subscriber.py.

Delivery is at least once: drop duplicates by `event_id`. Within a producer,
events are published in the order they were committed. Adding a field is
compatible (ignore what you do not know); removing or renaming one is a new
`version`, published beside the old one under the same routing key: read the
envelope's `version` before `data`.
"""

# Plain fields: marshmallow class -> JSON Schema. Subclasses come first
# (AwareDateTime is a DateTime, Email a String).
_PLAIN: list[tuple[type[fields.Field], JsonSchema]] = [
    (fields.AwareDateTime, {"type": "string", "format": "date-time"}),
    (fields.DateTime, {"type": "string", "format": "date-time"}),
    (fields.Date, {"type": "string", "format": "date"}),
    (fields.UUID, {"type": "string", "format": "uuid"}),
    (fields.Email, {"type": "string", "format": "email"}),
    (fields.Boolean, {"type": "boolean"}),
    (fields.Integer, {"type": "integer"}),
    (fields.Float, {"type": "number"}),
    (fields.String, {"type": "string"}),
]


def _decimal(field: fields.Decimal) -> JsonSchema:
    if field.as_string:
        return {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
                "description": "exact decimal as a string"}
    return {"type": "number"}


def _constraints(field: fields.Field, schema: JsonSchema) -> None:
    for rule in field.validators:
        if isinstance(rule, validate.Length):
            low, high = ("minLength", "maxLength") if schema.get("type") == "string" \
                else ("minItems", "maxItems")
            if rule.equal is not None:
                schema[low] = schema[high] = rule.equal
            if rule.min is not None:
                schema[low] = rule.min
            if rule.max is not None:
                schema[high] = rule.max
        elif isinstance(rule, validate.Range):
            if rule.min is not None:
                schema["minimum" if rule.min_inclusive else "exclusiveMinimum"] = rule.min
            if rule.max is not None:
                schema["maximum" if rule.max_inclusive else "exclusiveMaximum"] = rule.max
        elif isinstance(rule, validate.OneOf):
            schema["enum"] = list(rule.choices)


def field_schema(field: fields.Field) -> JsonSchema:
    """One marshmallow field as JSON Schema (nullability, description and
    validators included)."""
    schema: JsonSchema
    if isinstance(field, fields.Nested):
        inner = field.schema
        schema = object_schema(inner)
        if field.many:
            schema = {"type": "array", "items": schema}
    elif isinstance(field, fields.List):
        schema = {"type": "array", "items": field_schema(field.inner)}
    elif isinstance(field, fields.Dict):
        schema = {"type": "object"}
        if field.value_field is not None:
            schema["additionalProperties"] = field_schema(field.value_field)
    elif isinstance(field, fields.Decimal):
        schema = _decimal(field)
    else:
        plain = next((dict(s) for cls, s in _PLAIN if isinstance(field, cls)), None)
        schema = plain if plain is not None else {}   # fields.Field / Raw: any JSON value
    _constraints(field, schema)
    about = (field.metadata or {}).get("description")
    if about:
        schema["description"] = about
    if field.allow_none and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    return schema


def object_schema(schema: Schema) -> JsonSchema:
    """A marshmallow schema as a JSON Schema object, in field order."""
    properties = {}
    required = []
    for name, field in schema.fields.items():
        if field.load_only:
            continue
        key = field.data_key or name
        properties[key] = field_schema(field)
        if field.required:
            required.append(key)
    out: JsonSchema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


def key(ev: EventType) -> str:
    """The id of an event's channel, operation and message: `complaint_received_v1`."""
    return f"{ev.type.replace('.', '_')}_v{ev.version}"


def _payload(ev: EventType) -> JsonSchema:
    return {"allOf": [
        {"$ref": "#/components/schemas/Envelope"},
        {"type": "object", "properties": {
            "type": {"const": ev.type}, "version": {"const": ev.version},
            "producer": {"const": ev.producer},
            "data": {"$ref": f"#/components/schemas/{key(ev)}_data"}}},
    ]}


def _exchange(producer: str) -> JsonSchema:
    # No vhost: it is the deployment's (the server's description says so).
    return {"name": f"{producer}.events", "type": "topic", "durable": True,
            "autoDelete": False}


def document(events: list[EventType] | None = None) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document as a dict."""
    events = all_events() if events is None else events
    keys = [key(ev) for ev in events]
    if len(keys) != len(set(keys)):
        raise ValueError("two event types map to the same AsyncAPI id")
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": {
        **object_schema(EnvelopeSchema()),
        "description": "SPEC §7 envelope; `data` is the event type's own schema"}}
    for ev in events:
        k = key(ev)
        messages[k] = {
            "name": ev.type, "title": f"{ev.type} v{ev.version}",
            "summary": ev.when, "contentType": "application/json",
            "correlationId": {"description": "the request or job that caused it",
                              "location": "$message.payload#/correlation_id"},
            "tags": [{"name": ev.producer}],
            "payload": _payload(ev),
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": ev.type,
                                  "bindingVersion": AMQP_BINDING_VERSION}},
        }
        schemas[f"{k}_data"] = object_schema(ev.schema())
        channels[k] = {
            "address": ev.type,
            "title": f"{ev.producer}.events / {ev.type}",
            "description": f"Exchange `{ev.producer}.events` (topic, durable), routing key "
                           f"`{ev.type}`. {ev.when}.",
            "messages": {k: {"$ref": f"#/components/messages/{k}"}},
            "bindings": {"amqp": {"is": "routingKey", "exchange": _exchange(ev.producer),
                                  "bindingVersion": AMQP_BINDING_VERSION}},
        }
        operations[k] = {
            "action": "send", "title": f"{ev.producer} publishes {ev.type} v{ev.version}",
            "channel": {"$ref": f"#/channels/{k}"},
            "messages": [{"$ref": f"#/channels/{k}/messages/{k}"}],
            "bindings": {"amqp": {"deliveryMode": 2, "mandatory": False,
                                  "bindingVersion": AMQP_BINDING_VERSION}},
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "CCRM events", "version": "1.0.0", "description": DESCRIPTION,
                 "tags": [{"name": producer} for producer in
                          sorted({ev.producer for ev in events})]},
        "defaultContentType": "application/json",
        "servers": {"broker": {
            "host": "localhost:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
            "description": "The deployment's RabbitMQ (its AMQP_URI); the exchanges live in "
                           "the deployment's virtual host (`/` under `make run`, `ccrm` under "
                           "docker-compose). Ask the operators for the address and an account "
                           "that may declare and bind its own queues."}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so the document reads like the text."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render() -> str:
    return yaml.dump(document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
