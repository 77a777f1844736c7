"""The routing table (SPEC §3, Art. 20) as data: category -> first
responsible department and cooperating departments.

Read from `services/dispatch/routing.yaml` (or the config's ROUTING_FILE)
and validated when the service starts: a bad table is refused with every
problem named by its place, and the service does not start on it.
"""
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from marshmallow import ValidationError, fields, validate, validates_schema
from nameko.extensions import DependencyProvider

from shared import organisation as org
from services.dispatch.org_file import (FILE_PLACE, Base, List, Nested, Text, _StrictLoader,
                                        error_places, one_of)
from shared.config import REPO_ROOT
from shared.errors import InvalidInput

DEFAULT_FILE = Path(__file__).with_name("routing.yaml")
CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Route:
    category: str
    name: str
    first: str  # first responsible department (第一责任部门)
    cooperating: tuple  # departments that cooperate unconditionally (无条件配合)


@dataclass(frozen=True)
class RoutingTable:
    routes: dict  # category code -> Route
    source: str
    sha256: str
    label: str | None = None

    @property
    def categories(self):
        return tuple(self.routes)

    def route_for(self, category):
        return self.routes.get(category)


class RouteSchema(Base):
    name = Text(required=True)
    first = Text(required=True, validate=one_of(org.DEPARTMENTS))
    cooperating = List(Text(validate=one_of(org.DEPARTMENTS)), load_default=list)

    @validates_schema(skip_on_field_errors=True)
    def departments_differ(self, data, **kwargs):
        cooperating = data["cooperating"]
        if len(set(cooperating)) != len(cooperating):
            raise ValidationError({"cooperating": ["有重复项 (repeated department)"]})
        if data["first"] in cooperating:
            raise ValidationError({"cooperating": [
                "第一责任部门不能同时是配合部门 (the first department cannot also cooperate)"]})


class TableSchema(Base):
    version = fields.String(allow_none=True, load_default=None)
    categories = fields.Dict(
        keys=fields.String(validate=validate.Regexp(
            CATEGORY_CODE, error="类型编码须为小写字母、数字和下划线 (lower-case code): {input!r}")),
        values=Nested(RouteSchema), required=True,
        validate=validate.Length(min=1, error="至少一个类型 (at least one category)"))


def refused(fields_by_place):
    return InvalidInput(fields_by_place, "派单规则表有误 (routing table refused)")


def read_routing_table(path=None):
    """Read and validate the table; raise InvalidInput naming every problem."""
    path = Path(path) if path else DEFAULT_FILE
    if not path.is_absolute():
        path = REPO_ROOT / path
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise refused({FILE_PLACE: [f"无法读取文件 (cannot read) {path}: {exc.strerror or exc}"]}) from None
    try:
        stream = io.StringIO(raw.decode("utf-8-sig"))
        stream.name = str(path)
        data = yaml.load(stream, Loader=_StrictLoader)
    except UnicodeDecodeError:
        raise refused({FILE_PLACE: [f"{path} 须为 UTF-8 编码 (must be UTF-8)"]}) from None
    except yaml.YAMLError as exc:
        raise refused({FILE_PLACE: [f"YAML 格式错误 (YAML syntax error): {exc}"]}) from None
    if not isinstance(data, dict):
        raise refused({FILE_PLACE: ["文件内容须为映射 (the file must hold a YAML mapping)"]})
    try:
        doc = TableSchema().load(data)
    except ValidationError as err:
        raise refused(error_places(err.messages)) from None
    routes = {code: Route(code, spec["name"], spec["first"], tuple(spec["cooperating"]))
              for code, spec in doc["categories"].items()}
    return RoutingTable(routes, str(path), hashlib.sha256(raw).hexdigest(), doc["version"])


class RoutingTableProvider(DependencyProvider):
    """Loads the table once when the service starts; a bad table stops the
    start with its problems listed (never a service routing on a broken table)."""

    def setup(self):
        self.table = read_routing_table(self.container.config.get("ROUTING_FILE"))

    def get_dependency(self, worker_ctx):
        return self.table
