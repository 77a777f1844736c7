"""What the dispatch RPC methods take and give (marshmallow 4), and the
views that turn directory records into those shapes."""
from marshmallow import Schema, fields, validate

from shared import organisation as org
from shared.validation import load_input


# Input is loaded by the shared helper (field-by-field InvalidInput).
load = load_input


# -- input ------------------------------------------------------------------------------

class PeopleQuery(Schema):
    role = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(
        org.ROLES, error="须为 {choices} 之一 (must be one of {choices})"))
    project_id = fields.String(allow_none=True, load_default=None)
    include_inactive = fields.Boolean(load_default=False)


class ResponsibilityQuery(Schema):
    project_id = fields.String(required=True, validate=validate.Length(min=1))
    department = fields.String(required=True, validate=validate.OneOf(
        org.DEPARTMENTS, error="须为 {choices} 之一 (must be one of {choices})"))
    major = fields.Boolean(load_default=False)


class IdArgument(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1, max=100))


# -- output -----------------------------------------------------------------------------

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


# -- views ------------------------------------------------------------------------------

def _unit_name(directory, unit_id):
    unit = directory.unit(unit_id)
    return unit.name if unit else None


def person_view(directory, person):
    return {
        "id": person.id, "name": person.name, "mobile": person.mobile,
        "roles": list(person.roles), "unit_id": person.unit_id,
        "unit_name": _unit_name(directory, person.unit_id),
        "project_ids": directory.project_ids_of(person.id),
        "positions": [{"unit_id": p.unit_id, "unit_name": _unit_name(directory, p.unit_id),
                       "position": p.position, "areas": list(p.areas), "title": p.title}
                      for p in directory.positions_of(person.id)],
        "active": person.active, "bonus": person.bonus,
    }


def _company(directory, company_id):
    unit = directory.unit(company_id)
    chairman = directory.holder(company_id, org.POS_CHAIRMAN)
    return {"id": company_id, "name": unit.name if unit else None,
            "kind": unit.kind if unit else None, "chairman": chairman}


def project_view(directory, project, today):
    desk_unit = directory.unit(project.desk_unit_id)
    specialists = []
    for assignment in directory.desk_assignments(project.id):
        person = directory.person(assignment.person_id)
        specialists.append({"person_id": assignment.person_id,
                            "name": person.name if person else None,
                            "mobile": person.mobile if person else None,
                            "assigned_on": assignment.assigned_on,
                            "rotation_due_on": assignment.rotation_due_on})
    return {
        "id": project.id, "name": project.name, "city": project.city,
        "city_tier": project.city_tier, "active": project.active,
        "region_company": _company(directory, project.region_company_id),
        "property_company": _company(directory, project.property_company_id),
        "project_gm": directory.person(project.project_gm_id) if project.project_gm_id else None,
        "desk": {"unit_id": project.desk_unit_id, "name": desk_unit.name if desk_unit else None,
                 "first_sale_on": project.first_sale_on,
                 "last_delivery_on": project.last_delivery_on,
                 "closes_on": project.desk_closes_on, "open": project.desk_open_on(today),
                 "specialists": specialists},
    }


def responsibility_view(directory, responsibility):
    return {
        "project_id": responsibility.project_id, "department": responsibility.department,
        "department_name": org.DEPARTMENT_NAMES_ZH[responsibility.department],
        "major": responsibility.major, "company": responsibility.company,
        "unit": responsibility.unit,
        "handler": person_view(directory, responsibility.handler),
        "leaders": [person_view(directory, leader) for leader in responsibility.leaders],
    }


def directory_loaded_data(directory, result, loaded_at):
    """`data` of the `directory.loaded` event (shared.events.dispatch)."""
    version = directory.version
    return {
        "version": result.version, "loaded_at": loaded_at, "region": directory.region_code,
        "label": version.label if version else None,
        "sha256": version.sha256 if version else "", "counts": result.counts,
        "vacancies": list(result.vacancies),
        "people": [{"id": p.id, "name": p.name, "mobile": p.mobile, "roles": list(p.roles),
                    "unit": p.unit_id, "unit_name": _unit_name(directory, p.unit_id) or p.unit_id,
                    "bonus": p.bonus, "active": p.active,
                    "project_ids": directory.project_ids_of(p.id)} for p in directory.people],
        "units": [{"id": u.id, "kind": u.kind, "name": u.name, "parent": u.parent_id,
                   "department": u.department, "active": u.active} for u in directory.units],
        "projects": [{"id": p.id, "name": p.name, "city_tier": p.city_tier,
                      "region_company": p.region_company_id,
                      "property_company": p.property_company_id, "project_gm": p.project_gm_id,
                      "desk_first_sale_on": p.first_sale_on,
                      "desk_last_delivery_on": p.last_delivery_on,
                      "desk_closes_on": p.desk_closes_on, "active": p.active}
                     for p in directory.projects],
        "desk_assignments": [{"project_id": a.project_id, "person_id": a.person_id,
                              "assigned_on": a.assigned_on, "rotation_due_on": a.rotation_due_on,
                              "active": a.active} for a in directory.assignments],
    }
