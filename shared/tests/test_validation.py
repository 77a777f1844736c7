import pytest
from marshmallow import Schema, fields

from shared.errors import InvalidInput
from shared.validation import load_input


class Form(Schema):
    room = fields.String(required=True)


def test_fields_are_reported_one_by_one():
    with pytest.raises(InvalidInput) as caught:
        load_input(Form, {"flat": 1})
    assert set(caught.value.fields) == {"room", "flat"}


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(InvalidInput) as caught:
        load_input(Form(), ["room"])
    assert "_body" in caught.value.fields


def test_valid_input_loads():
    assert load_input(Form(), {"room": "1-1201"}) == {"room": "1-1201"}
