"""What dispatch's directory RPC methods answer (SPEC §1, §3): a person
(`get_person`, `list_people`), a project with its desk (`get_project`,
`list_projects`) and who answers for a department (`resolve_responsibility`).
Dates are ISO 8601 days; a bonus is a decimal string.
"""

from __future__ import annotations

from marshmallow import Schema, fields


class PersonBrief(Schema):
    id = fields.String()
    name = fields.String()
    mobile = fields.String()


class PositionOut(Schema):
    unit_id = fields.String()
    unit_name = fields.String()
    position = fields.String()
    areas = fields.List(fields.String())
    title = fields.String(allow_none=True)


class PersonOut(Schema):
    id = fields.String()
    name = fields.String()
    mobile = fields.String()
    roles = fields.List(fields.String())
    unit_id = fields.String()
    unit_name = fields.String(allow_none=True)
    project_ids = fields.List(fields.String())
    positions = fields.List(fields.Nested(PositionOut))
    active = fields.Boolean()
    bonus = fields.Decimal(as_string=True, allow_none=True)


class UnitOut(Schema):
    id = fields.String()
    name = fields.String()
    kind = fields.String()


class CompanyOut(UnitOut):
    chairman = fields.Nested(PersonBrief, allow_none=True)


class SpecialistOut(Schema):
    person_id = fields.String()
    name = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    assigned_on = fields.Date()
    rotation_due_on = fields.Date()


class DeskOut(Schema):
    unit_id = fields.String()
    name = fields.String(allow_none=True)
    first_sale_on = fields.Date()
    last_delivery_on = fields.Date(allow_none=True)
    closes_on = fields.Date(allow_none=True)
    open = fields.Boolean()
    specialists = fields.List(fields.Nested(SpecialistOut))


class ProjectOut(Schema):
    id = fields.String()
    name = fields.String()
    city = fields.String(allow_none=True)
    city_tier = fields.String()
    active = fields.Boolean()
    region_company = fields.Nested(CompanyOut)
    property_company = fields.Nested(CompanyOut)
    project_gm = fields.Nested(PersonBrief, allow_none=True)
    desk = fields.Nested(DeskOut)


class ResponsibilityOut(Schema):
    project_id = fields.String()
    department = fields.String()
    department_name = fields.String()
    major = fields.Boolean()
    company = fields.Nested(UnitOut)
    unit = fields.Nested(UnitOut)
    handler = fields.Nested(PersonOut)
    leaders = fields.List(fields.Nested(PersonOut))


PERSON_OUT, PROJECT_OUT, RESPONSIBILITY_OUT = PersonOut(), ProjectOut(), ResponsibilityOut()
