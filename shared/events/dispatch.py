"""Events published by the dispatch service."""
from marshmallow import Schema, fields

from shared.events.registry import event


def _about(description):
    return {"description": description}


class DirectoryPerson(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    mobile = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    unit = fields.String(required=True, metadata=_about("organisation unit id"))
    unit_name = fields.String(required=True)
    bonus = fields.Decimal(as_string=True, allow_none=True, required=True,
                           metadata=_about("月度综合奖金, CNY string decimal; null when unknown"))
    active = fields.Boolean(required=True, metadata=_about("false: left the organisation"))
    project_ids = fields.List(fields.String(), required=True,
                              metadata=_about("desks a specialist serves; a project GM's project"))


class DirectoryUnit(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata=_about(
        "centre, group_unit, region_company, property_company, department, desk"))
    name = fields.String(required=True)
    parent = fields.String(allow_none=True, required=True)
    department = fields.String(allow_none=True, required=True,
                               metadata=_about("department code; property for a property company"))
    active = fields.Boolean(required=True)


class DirectoryProject(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    city_tier = fields.String(required=True, metadata=_about("capital, tier3, other"))
    region_company = fields.String(required=True)
    property_company = fields.String(required=True)
    project_gm = fields.String(allow_none=True, required=True)
    desk_first_sale_on = fields.Date(required=True)
    desk_last_delivery_on = fields.Date(allow_none=True, required=True)
    desk_closes_on = fields.Date(allow_none=True, required=True,
                                metadata=_about("six months after the last delivery (Art. 7)"))
    active = fields.Boolean(required=True)


class DirectoryDeskAssignment(Schema):
    project_id = fields.String(required=True)
    person_id = fields.String(required=True)
    assigned_on = fields.Date(required=True)
    rotation_due_on = fields.Date(required=True, metadata=_about("six months on (Art. 43)"))
    active = fields.Boolean(required=True)


@event("directory.loaded", "dispatch",
       "the organisation directory was loaded from its file; carries every person (active or "
       "not), unit, project and desk assignment so other services keep a local copy")
class DirectoryLoaded(Schema):
    version = fields.Integer(required=True, metadata=_about("1, 2, 3 … one per load"))
    loaded_at = fields.AwareDateTime(required=True)
    region = fields.String(required=True)
    label = fields.String(allow_none=True, required=True,
                          metadata=_about("the file's own `version:` label"))
    sha256 = fields.String(required=True, metadata=_about("of the file loaded"))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata=_about("people, people_inactive, joined, left, units, "
                                         "region_companies, property_companies, departments, "
                                         "projects, specialists"))
    vacancies = fields.List(fields.String(), required=True,
                            metadata=_about("posts nobody holds (zh)"))
    people = fields.List(fields.Nested(DirectoryPerson), required=True, metadata=_about(
        "everyone ever loaded; `active` false for those who left"))
    units = fields.List(fields.Nested(DirectoryUnit), required=True)
    projects = fields.List(fields.Nested(DirectoryProject), required=True)
    desk_assignments = fields.List(fields.Nested(DirectoryDeskAssignment), required=True)
