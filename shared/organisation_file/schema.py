"""The organisation file's format (SPEC §1): the marshmallow schema of the
YAML document, field by field, on the shared input fields (shared.validation).
Cross-references (people holding the posts they are named for, unique ids)
are checked by `cross_check` once the structure is right.
"""
from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared import organisation as org
from shared.organisation_file.cross_check import cross_check
from shared.validation import NOT_NULL, REQUIRED, Money, Text, one_of

MOBILE = re.compile(r"1[3-9]\d{9}")
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


# -- fields with bilingual messages ---------------------------------------------------

class Id(Text):
    """An id of the file: letters, digits and - _ . (at most 64)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["validate"] = validate.Regexp(
            ID, error="编号只能由字母、数字和 - _ . 组成 "
                      "(an id holds letters, digits, - _ . only): {input!r}")
        super().__init__(64, **kwargs)


class Mobile(fields.Field):
    default_error_messages = {
        "required": REQUIRED, "null": NOT_NULL,
        "invalid": "须为11位中国大陆手机号 (must be an 11-digit CN mobile number): {input!r}"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("invalid", input=value)
        text = str(value).strip()
        if not MOBILE.fullmatch(text):
            raise self.make_error("invalid", input=value)
        return text


class Day(fields.Date):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为日期 YYYY-MM-DD (must be a date)"}


class List(fields.List):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为列表 (must be a list)"}


class Nested(fields.Nested):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "type": "须为映射 (must be a mapping)"}


def no_repeats(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("有重复项 (repeated value)")


def vacant(field_cls: type[fields.Field] = Id, **kwargs: Any) -> fields.Field:
    """A post that may be vacant: absent or null."""
    return field_cls(allow_none=True, load_default=None, **kwargs)


# -- schemas -------------------------------------------------------------------------

class Base(Schema):
    error_messages = {"unknown": "未知字段 (unknown field)",
                      "type": "须为映射 (must be a mapping)"}


class RegionSchema(Base):
    code = Text(required=True, validate=validate.Regexp(
        r"^[A-Z]{2,8}$", error="须为2-8位大写字母 (2-8 capital letters, e.g. GZ)"))
    name = vacant(Text)


class CentreSchema(Base):
    id = Id(load_default=org.UNIT_CENTRE)
    name = Text(load_default="集团售后服务中心")
    gm = vacant()
    deputy_gm = vacant()
    vp = vacant()
    staff = List(Id(), load_default=list, validate=no_repeats)


class GroupUnitSchema(Base):
    id = Id(required=True)
    name = Text(required=True)


class LeaderSchema(Base):
    person = Id(required=True)
    title = vacant(Text)
    supervises = List(Text(validate=one_of(org.SUPERVISION_AREAS)), required=True,
                      validate=[validate.Length(min=1, error="至少一项 (at least one)"),
                                no_repeats])


class PostSchema(Base):
    """A department: its head (一把手) and its supervising leader (分管领导)."""
    name = vacant(Text)
    head = vacant()
    supervising_leader = vacant()


DepartmentsSchema = Base.from_dict(
    {code: Nested(PostSchema) for code in org.REGION_DEPARTMENTS}, name="DepartmentsSchema")


def _no_post() -> dict[str, None]:
    return {"name": None, "head": None, "supervising_leader": None}


class RegionalCompanySchema(Base):
    id = Id(required=True)
    name = Text(required=True)
    chairman = vacant()
    leaders = List(Nested(LeaderSchema), load_default=list)
    departments = Nested(DepartmentsSchema, load_default=dict)


class PropertyCompanySchema(Base):
    id = Id(required=True)
    name = Text(required=True)
    chairman = vacant()
    leaders = List(Nested(LeaderSchema), load_default=list)
    property = Nested(PostSchema, load_default=_no_post)


class AssignmentSchema(Base):
    person = Id(required=True)
    assigned_on = Day(required=True)


class DeskSchema(Base):
    name = vacant(Text)
    first_sale_on = Day(required=True)
    last_delivery_on = vacant(Day)
    specialists = List(Nested(AssignmentSchema), load_default=list)

    @validates_schema
    def delivery_after_sale(self, data: dict[str, Any], **kwargs: Any) -> None:
        last = data.get("last_delivery_on")
        if last is not None and last < data["first_sale_on"]:
            raise ValidationError("不能早于 first_sale_on (before the first sale)",
                                  "last_delivery_on")


class ProjectSchema(Base):
    id = Id(required=True)
    name = Text(required=True)
    city = vacant(Text)
    city_tier = Text(required=True, validate=one_of(org.CITY_TIERS))
    region_company = Id(required=True)
    property_company = Id(required=True)
    project_gm = vacant()
    desk = Nested(DeskSchema, required=True)


class PersonSchema(Base):
    id = Id(required=True)
    name = Text(40, required=True)
    mobile = Mobile(required=True)
    roles = List(Text(validate=one_of(org.ROLES)), required=True,
                 validate=[validate.Length(min=1, error="至少一个角色 (at least one role)"),
                           no_repeats])
    unit = Id(required=True)
    bonus = Money(positive=False, allow_none=True, load_default=None)  # 月度综合奖金


class OrganisationSchema(Base):
    label = vacant(Text, data_key="version")  # the file's own edition label, e.g. "2026-11"
    region = Nested(RegionSchema, required=True)
    centre = Nested(CentreSchema, required=True)
    group_units = List(Nested(GroupUnitSchema), load_default=list)
    regional_companies = List(Nested(RegionalCompanySchema), required=True,
                              validate=validate.Length(min=1, error="至少一个 (at least one)"))
    property_companies = List(Nested(PropertyCompanySchema), required=True,
                              validate=validate.Length(min=1, error="至少一个 (at least one)"))
    projects = List(Nested(ProjectSchema), required=True)
    people = List(Nested(PersonSchema), required=True,
                  validate=validate.Length(min=1, error="至少一人 (at least one person)"))

    @validates_schema
    def references(self, data: dict[str, Any], **kwargs: Any) -> None:
        problems = cross_check(data)
        if problems:
            raise ValidationError(problems)
