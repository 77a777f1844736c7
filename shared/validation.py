"""Loading untrusted input with a marshmallow schema: the one place that turns
marshmallow's messages into SPEC §10's field-by-field 400."""
from collections.abc import Mapping

from marshmallow import ValidationError

from shared.errors import InvalidInput, validation_fields


def load_input(schema, data):
    """`data` loaded by `schema` (an instance or a class), or InvalidInput."""
    if isinstance(schema, type):
        schema = schema()
    if not isinstance(data, Mapping):
        raise InvalidInput({"_body": ["须为 JSON 对象 (must be a JSON object)"]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput(validation_fields(exc.messages)) from None
