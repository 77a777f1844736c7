"""docs/asyncapi.yaml: current with the registry, a valid AsyncAPI 3.0 document
(the asyncapi3 model from PyPI, plus the structure subscribers rely on), and
its payload schemas say what the marshmallow schemas say."""
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml
from marshmallow import Schema, fields, validate

from shared.config import REPO_ROOT
from shared.events.asyncapi import document, field_schema, key, object_schema, render
from shared.events.envelope import build_envelope
from shared.events.registry import all_events

DOCUMENT = REPO_ROOT / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(Path(DOCUMENT).read_text(encoding="utf-8"))


def payload_validator(doc, message_key):
    """A validator of one message's payload, its `$ref`s resolved in the document."""
    payload = doc["components"]["messages"][message_key]["payload"]
    return jsonschema.Draft7Validator({**payload, "components": doc["components"]})


def test_asyncapi_document_matches_the_schemas():
    text = Path(DOCUMENT).read_text(encoding="utf-8")
    assert text == render(), (
        "docs/asyncapi.yaml is stale: run "
        "`PYTHONPATH=$PWD python -m shared.events.asyncapi > docs/asyncapi.yaml`")


def test_the_document_is_valid_asyncapi_3(doc):
    with warnings.catch_warnings():        # the package's pydantic field-name warnings
        warnings.simplefilter("ignore")
        from asyncapi3.models import AsyncAPI3
        model = AsyncAPI3.model_validate(doc)
    assert model.asyncapi == "3.0.0"
    assert len(model.channels) == len(model.operations) == len(all_events())


def test_every_event_has_its_exchange_routing_key_operation_and_payload(doc):
    assert doc["asyncapi"] == "3.0.0" and doc["defaultContentType"] == "application/json"
    assert doc["servers"]["broker"]["protocol"] == "amqp"
    for ev in all_events():
        k = key(ev)
        channel = doc["channels"][k]
        assert channel["address"] == ev.type
        amqp = channel["bindings"]["amqp"]
        assert amqp["is"] == "routingKey"
        assert amqp["exchange"] == {"name": f"{ev.producer}.events", "type": "topic",
                                    "durable": True, "autoDelete": False}
        operation = doc["operations"][k]
        assert operation["action"] == "send"
        assert operation["channel"] == {"$ref": f"#/channels/{k}"}
        assert channel["messages"][k] == {"$ref": f"#/components/messages/{k}"}
        message = doc["components"]["messages"][k]
        assert message["name"] == ev.type and message["summary"] == ev.when
        data = doc["components"]["schemas"][f"{k}_data"]
        assert set(data["properties"]) == set(ev.schema().fields)
        jsonschema.Draft7Validator.check_schema(message["payload"])
        jsonschema.Draft7Validator.check_schema(data)


def test_a_real_envelope_validates_and_a_wrong_one_does_not(doc):
    data = {"media_id": "m-1", "record_type": "order", "record_id": "C-1/1",
            "record_sha256": "ab" * 32, "bound_by": None}
    envelope = build_envelope("media.signature_bound", data, producer="media", region="GZ",
                              occurred_at=datetime(2025, 11, 27, 2, 0, tzinfo=UTC)).payload
    check = payload_validator(doc, "media_signature_bound_v1")
    check.validate(envelope)
    assert not check.is_valid({**envelope, "type": "media.stored"})
    assert not check.is_valid({**envelope, "data": {**data, "record_id": 7}})
    assert not check.is_valid({**envelope, "data": {"media_id": "m-1"}})
    del envelope["event_id"]
    assert not check.is_valid(envelope)


class _Inner(Schema):
    n = fields.Integer(required=True)


class _Sample(Schema):
    amount = fields.Decimal(as_string=True, required=True, metadata={"description": "CNY"})
    score = fields.Integer(allow_none=True, validate=validate.Range(1, 5))
    items = fields.List(fields.Nested(_Inner), required=True)
    one = fields.Nested(_Inner, allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    when = fields.AwareDateTime(required=True)
    kind = fields.String(validate=validate.OneOf(["a", "b"]))


def test_marshmallow_fields_map_to_json_schema():
    schema = object_schema(_Sample())
    assert schema["required"] == ["amount", "items", "when"]
    props = schema["properties"]
    assert props["amount"]["type"] == "string" and props["amount"]["description"] == "CNY"
    assert props["score"] == {"type": ["integer", "null"], "minimum": 1, "maximum": 5}
    assert props["items"] == {"type": "array", "items": {
        "type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}}
    assert props["one"]["type"] == ["object", "null"]
    assert props["counts"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["kind"] == {"type": "string", "enum": ["a", "b"]}
    assert field_schema(fields.Field()) == {}
    check = jsonschema.Draft7Validator(schema)
    good = _Sample().dump({"amount": Decimal("12.50"), "items": [{"n": 1}], "one": None,
                           "when": datetime(2025, 1, 1, tzinfo=UTC)})
    check.validate(good)
    assert not check.is_valid({**good, "amount": "12,50"})


def test_ids_are_unique_and_safe():
    ids = [key(ev) for ev in all_events()]
    assert len(ids) == len(set(ids))
    assert all(i.replace("_", "").isalnum() for i in ids)
    assert document()["channels"].keys() == set(ids)
