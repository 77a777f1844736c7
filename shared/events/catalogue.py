"""Generate docs/events.md, the event catalogue, from the registered schemas.

`python -m shared.events.catalogue > docs/events.md`; a test fails when a
schema changed and the document was not regenerated.
"""
import sys

from marshmallow import Schema, fields

from shared.events.envelope import EnvelopeSchema
from shared.events.registry import all_events

HEADER = """# CCRM event catalogue

Generated from the marshmallow schemas in `shared/events/` by
`python -m shared.events.catalogue > docs/events.md`. Do not edit by hand.

Each service publishes to its own durable topic exchange `<service>.events`
with routing key = event type. Every message is a JSON envelope (SPEC §7):

{envelope}

Delivery is at least once: drop duplicates by `event_id`. A change that
removes or renames a field is a new `version`, published beside the old one.
"""


def field_type(field: fields.Field) -> str:
    if isinstance(field, fields.Nested):
        inner = field.schema
        names = ", ".join(inner.fields)
        return f"{'list of ' if field.many else ''}object ({names})"
    if isinstance(field, fields.List):
        return f"list of {field_type(field.inner)}"
    return {
        fields.String: "string", fields.Integer: "integer", fields.Boolean: "boolean",
        fields.Decimal: "decimal string", fields.AwareDateTime: "datetime (ISO 8601, offset)",
        fields.DateTime: "datetime (ISO 8601)", fields.Date: "date", fields.UUID: "uuid",
        fields.Dict: "object", fields.Float: "number", fields.Email: "string",
    }.get(type(field), type(field).__name__)


def field_rows(schema: Schema) -> list[str]:
    rows = []
    for name, field in schema.fields.items():
        required = "yes" if field.required else ""
        nullable = "yes" if field.allow_none else ""
        about = (field.metadata or {}).get("description", "")
        rows.append(f"| `{name}` | {field_type(field)} | {required} | {nullable} | {about} |")
    return rows


def render() -> str:
    envelope = "\n".join(["| field | type | required | null | about |", "|---|---|---|---|---|",
                          *field_rows(EnvelopeSchema())])
    out = [HEADER.format(envelope=envelope), "## Index", "",
           "| type | version | producer | when |", "|---|---|---|---|"]
    events = all_events()
    for ev in events:
        out.append(f"| [`{ev.type}`](#{ev.type.replace('.', '')}-v{ev.version}) | {ev.version} "
                   f"| {ev.producer} | {ev.when} |")
    for ev in events:
        out += ["", f"## `{ev.type}` v{ev.version}", "",
                f"Producer: `{ev.producer}` (exchange `{ev.producer}.events`). {ev.when}.", "",
                "| field | type | required | null | about |", "|---|---|---|---|---|",
                *field_rows(ev.schema())]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
