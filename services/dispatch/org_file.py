"""The organisation file (SPEC §1): its format, validation and reading.

A YAML document (data/organisation/demo.yaml is the reference example);
`people` may instead name a CSV file beside it (columns id, name, mobile,
roles, unit, bonus; roles separated by `;`), as HR systems export one.
Validation is all-or-nothing: a bad file is refused with every problem named
by its place (`projects[2].city_tier: ...`) and nothing is loaded.
"""
import csv
import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared import organisation as org
from shared import roles
from shared.errors import InvalidInput

REQUIRED = "必填 (required)"
NOT_NULL = "不能为空 (may not be null)"
MOBILE = re.compile(r"1[3-9]\d{9}")
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FILE_PLACE = "(file)"


# -- fields with bilingual messages ---------------------------------------------------

class Text(fields.String):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为文字 (must be text)"}

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Length(min=1, error="不能为空字符串 (may not be empty)"))
        super().__init__(**kwargs)


class Id(Text):
    def __init__(self, **kwargs):
        kwargs["validate"] = validate.Regexp(
            ID, error="编号只能由字母、数字和 - _ . 组成 (an id holds letters, digits, - _ . only): {input!r}")
        super().__init__(**kwargs)


class Mobile(fields.Field):
    default_error_messages = {
        "required": REQUIRED, "null": NOT_NULL,
        "invalid": "须为11位中国大陆手机号 (must be an 11-digit CN mobile number): {input!r}"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("invalid", input=value)
        text = str(value).strip()
        if not MOBILE.fullmatch(text):
            raise self.make_error("invalid", input=value)
        return text


class Day(fields.Date):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为日期 YYYY-MM-DD (must be a date)"}


class Money(fields.Decimal):
    """CNY with at most two decimals (月度综合奖金)."""
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为金额 (must be an amount in CNY)",
                              "special": "须为金额 (must be an amount in CNY)"}

    def __init__(self, **kwargs):
        kwargs["validate"] = _money
        super().__init__(**kwargs)


def _money(value):
    if value < 0:
        raise ValidationError("不能为负数 (may not be negative)")
    if value != value.quantize(Decimal("0.01")) or value >= Decimal("1e10"):
        raise ValidationError("最多两位小数、十位整数 (at most 10 digits and 2 decimals)")


class List(fields.List):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "invalid": "须为列表 (must be a list)"}


class Nested(fields.Nested):
    default_error_messages = {"required": REQUIRED, "null": NOT_NULL,
                              "type": "须为映射 (must be a mapping)"}


def one_of(choices):
    return validate.OneOf(choices, error="须为 {choices} 之一 (must be one of {choices})")


def _no_repeats(values):
    if len(set(values)) != len(values):
        raise ValidationError("有重复项 (repeated value)")


def vacant(field_cls=Id, **kwargs):
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
    staff = List(Id(), load_default=list, validate=_no_repeats)


class GroupUnitSchema(Base):
    id = Id(required=True)
    name = Text(required=True)


class LeaderSchema(Base):
    person = Id(required=True)
    title = vacant(Text)
    supervises = List(Text(validate=one_of(org.SUPERVISION_AREAS)), required=True,
                      validate=[validate.Length(min=1, error="至少一项 (at least one)"), _no_repeats])


class PostSchema(Base):
    """A department: its head (一把手) and its supervising leader (分管领导)."""
    name = vacant(Text)
    head = vacant()
    supervising_leader = vacant()


DepartmentsSchema = Base.from_dict(
    {code: Nested(PostSchema) for code in org.REGION_DEPARTMENTS}, name="DepartmentsSchema")


def _no_post():
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
    def delivery_after_sale(self, data, **kwargs):
        last = data.get("last_delivery_on")
        if last is not None and last < data["first_sale_on"]:
            raise ValidationError("不能早于 first_sale_on (before the first sale)", "last_delivery_on")


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
    name = Text(required=True, validate=validate.Length(min=1, max=40))
    mobile = Mobile(required=True)
    roles = List(Text(validate=one_of(org.ROLES)), required=True,
                 validate=[validate.Length(min=1, error="至少一个角色 (at least one role)"), _no_repeats])
    unit = Id(required=True)
    bonus = vacant(Money)


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
    def references(self, data, **kwargs):
        problems = cross_check(data)
        if problems:
            raise ValidationError(problems)


# -- cross-references -----------------------------------------------------------------

# Roles that mean a post in the file: whoever has the role must hold the post.
# (A specialist may be between desks; hr, finance and admin hold no post.)
_POSTS_OF_ROLE = {
    roles.CENTRE_GM: "centre.gm", roles.CENTRE_DEPUTY_GM: "centre.deputy_gm",
    roles.CENTRE_STAFF: "centre.staff", roles.VP: "centre.vp",
    roles.HEAD: "某部门或物业公司的 head",
    roles.SUPERVISING_LEADER: "某部门的 supervising_leader 或公司的 leaders",
    roles.CHAIRMAN: "某公司的 chairman", roles.PROJECT_GM: "某项目的 project_gm",
}


class _Problems:
    def __init__(self):
        self.tree = {}

    def add(self, path, message):
        node = self.tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(path[-1], []).append(message)


def cross_check(doc):
    """Every reference resolves, ids are unique, roles match posts.
    Returns marshmallow-style nested messages (empty when all is well)."""
    problems = _Problems()
    people = doc["people"]
    index = {}
    for i, person in enumerate(people):
        if person["id"] in index:
            problems.add(("people", i, "id"),
                         f"人员编号重复，与 people[{index[person['id']]}] 相同 "
                         f"(duplicate person id {person['id']!r})")
        else:
            index[person["id"]] = i
    mobiles = {}
    for i, person in enumerate(people):
        if person["mobile"] in mobiles:
            problems.add(("people", i, "mobile"),
                         f"手机号与 people[{mobiles[person['mobile']]}] 重复 "
                         f"(mobile {person['mobile']} already used)")
        mobiles.setdefault(person["mobile"], i)

    units = {}

    def unit(path, unit_id):
        if unit_id in units:
            problems.add(path, f"单位编号重复，与 {units[unit_id]} 相同 (duplicate unit id {unit_id!r})")
        else:
            units[unit_id] = place(path)

    centre = doc["centre"]
    unit(("centre", "id"), centre["id"])
    for i, group_unit in enumerate(doc["group_units"]):
        unit(("group_units", i, "id"), group_unit["id"])
    for i, company in enumerate(doc["regional_companies"]):
        unit(("regional_companies", i, "id"), company["id"])
        for code in company["departments"]:
            unit(("regional_companies", i, "departments", code),
                 org.department_unit_id(company["id"], code))
    for i, company in enumerate(doc["property_companies"]):
        unit(("property_companies", i, "id"), company["id"])
    project_ids = {}
    for i, project in enumerate(doc["projects"]):
        if project["id"] in project_ids:
            problems.add(("projects", i, "id"),
                         f"项目编号重复，与 projects[{project_ids[project['id']]}] 相同 "
                         f"(duplicate project id {project['id']!r})")
        project_ids.setdefault(project["id"], i)
        unit(("projects", i, "id"), org.desk_unit_id(project["id"]))

    for i, person in enumerate(people):
        if person["unit"] not in units:
            problems.add(("people", i, "unit"), f"未知单位 (unknown unit) {person['unit']!r}")

    held = defaultdict(set)

    def ref(path, person_id, role):
        if person_id is None:
            return
        if person_id not in index:
            problems.add(path, f"未知人员 (unknown person) {person_id!r}")
            return
        held[person_id].add(role)
        person = people[index[person_id]]
        if role not in person["roles"]:
            problems.add(path, f"{person['name']} ({person_id}) 的角色中没有 {role} "
                               f"(person lacks role {role})")

    ref(("centre", "gm"), centre["gm"], roles.CENTRE_GM)
    ref(("centre", "deputy_gm"), centre["deputy_gm"], roles.CENTRE_DEPUTY_GM)
    ref(("centre", "vp"), centre["vp"], roles.VP)
    for k, person_id in enumerate(centre["staff"]):
        ref(("centre", "staff", k), person_id, roles.CENTRE_STAFF)

    def company_posts(section, i, company, posts):
        ref((section, i, "chairman"), company["chairman"], roles.CHAIRMAN)
        seen = set()
        for k, leader in enumerate(company["leaders"]):
            if leader["person"] in seen:
                problems.add((section, i, "leaders", k, "person"),
                             f"同一领导列出两次 (leader {leader['person']!r} listed twice)")
            seen.add(leader["person"])
            ref((section, i, "leaders", k, "person"), leader["person"], roles.SUPERVISING_LEADER)
        for path, post in posts:
            ref(path + ("head",), post["head"], roles.HEAD)
            ref(path + ("supervising_leader",), post["supervising_leader"], roles.SUPERVISING_LEADER)

    for i, company in enumerate(doc["regional_companies"]):
        company_posts("regional_companies", i, company,
                      [(("regional_companies", i, "departments", code), post)
                       for code, post in company["departments"].items()])
    for i, company in enumerate(doc["property_companies"]):
        company_posts("property_companies", i, company,
                      [(("property_companies", i, "property"), company["property"])])

    region_ids = {c["id"] for c in doc["regional_companies"]}
    property_ids = {c["id"] for c in doc["property_companies"]}
    for i, project in enumerate(doc["projects"]):
        if project["region_company"] not in region_ids:
            problems.add(("projects", i, "region_company"),
                         f"未知地区公司 (unknown regional company) {project['region_company']!r}")
        if project["property_company"] not in property_ids:
            problems.add(("projects", i, "property_company"),
                         f"未知物业公司 (unknown property company) {project['property_company']!r}")
        ref(("projects", i, "project_gm"), project["project_gm"], roles.PROJECT_GM)
        on_desk = set()
        for k, assignment in enumerate(project["desk"]["specialists"]):
            path = ("projects", i, "desk", "specialists", k, "person")
            if assignment["person"] in on_desk:
                problems.add(path, f"同一客服专员列出两次 (specialist {assignment['person']!r} listed twice)")
            on_desk.add(assignment["person"])
            ref(path, assignment["person"], roles.SPECIALIST)

    for i, person in enumerate(people):
        if index.get(person["id"]) != i:
            continue
        for role in person["roles"]:
            if role in _POSTS_OF_ROLE and role not in held[person["id"]]:
                problems.add(("people", i, "roles"),
                             f"{person['name']} ({person['id']}) 有 {role} 角色，"
                             f"但没有担任 {_POSTS_OF_ROLE[role]} "
                             f"(has role {role} but holds no such post)")
    return problems.tree


# -- reading and error places -----------------------------------------------------------

@dataclass(frozen=True)
class OrganisationFile:
    document: dict
    source: str
    sha256: str


def place(path):
    """('projects', 2, 'city_tier') -> 'projects[2].city_tier'."""
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        elif key == "_schema":
            continue
        else:
            text += f".{key}" if text else str(key)
    return text or FILE_PLACE


def error_places(messages, people_csv=None):
    """Flatten marshmallow messages into {place: [message, ...]} in file order."""
    flat = {}

    def walk(path, value):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(path + (key,), inner)
        else:
            where = place(path)
            if people_csv:
                where = re.sub(r"^people\[(\d+)\]",
                               lambda m: f"{people_csv} 第{int(m.group(1)) + 2}行", where)
            items = value if isinstance(value, list) else [value]
            flat.setdefault(where, []).extend(str(item) for item in items)

    walk((), messages)
    return flat


def invalid(fields_by_place):
    return InvalidInput(fields_by_place,
                        "组织架构文件有误，未加载任何内容 (organisation file refused; nothing loaded)")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (a typo would
    otherwise silently replace the first department or person)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"重复的键 (duplicate key) {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                              _StrictLoader.construct_mapping)


def read_organisation(path):
    """Read and validate an organisation file; raise InvalidInput (nothing loaded)."""
    path = Path(path)
    raw = _read(path, path)
    try:
        stream = io.StringIO(raw.decode("utf-8-sig"))
        stream.name = str(path)  # YAML errors then name the file, not "<unicode string>"
        data = yaml.load(stream, Loader=_StrictLoader)
    except UnicodeDecodeError:
        raise invalid({FILE_PLACE: [f"{path} 须为 UTF-8 编码 (must be UTF-8)"]}) from None
    except yaml.YAMLError as exc:
        raise invalid({FILE_PLACE: [f"YAML 格式错误 (YAML syntax error): {exc}"]}) from None
    if not isinstance(data, dict):
        raise invalid({FILE_PLACE: ["文件内容须为映射 (the file must hold a YAML mapping)"]})
    digest = hashlib.sha256(raw)
    people_csv = None
    if isinstance(data.get("people"), str):
        people_csv = data["people"]
        csv_raw = _read(path.parent / people_csv, "people")
        digest.update(csv_raw)
        data["people"] = _people_rows(csv_raw, people_csv)
    try:
        document = OrganisationSchema().load(data)
    except ValidationError as err:
        raise invalid(error_places(err.messages, people_csv)) from None
    return OrganisationFile(document, str(path), digest.hexdigest())


def _read(path, where):
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise invalid({str(where) if where == "people" else FILE_PLACE: [
            f"无法读取文件 (cannot read) {path}: {exc.strerror or exc}"]}) from None


def _people_rows(raw, name):
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid({"people": [f"{name} 须为 UTF-8 编码 (must be UTF-8)"]}) from None
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        record = {(key or "").strip(): (value or "").strip() for key, value in row.items()
                  if key is not None}
        if "roles" in record:
            record["roles"] = [r for r in re.split(r"[;|,\s]+", record["roles"]) if r]
        if record.get("bonus") == "":
            record["bonus"] = None
        rows.append(record)
    return rows
