"""The routing table (SPEC §3, Art. 20) as data: category -> first
responsible department and cooperating departments.

Read from `services/dispatch/routing.yaml` (or the config's ROUTING_FILE)
and validated when the service starts: a bad table is refused with every
problem named by its place, and the service does not start on it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from nameko.extensions import DependencyProvider

from shared import organisation as org
from shared.config import REPO_ROOT
from shared.errors import InvalidInput
from shared.organisation_file.schema import Base, List, Nested
from shared.organisation_file.yaml_file import error_places, read_mapping
from shared.validation import Text, one_of

DEFAULT_FILE = Path(__file__).with_name("routing.yaml")
CATEGORY_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


@dataclass(frozen=True)
class Route:
    category: str
    name: str
    first: str  # first responsible department (第一责任部门)
    cooperating: tuple[str, ...]  # departments that cooperate unconditionally (无条件配合)


@dataclass(frozen=True)
class RoutingTable:
    routes: dict[str, Route]  # category code -> Route
    source: str
    sha256: str
    label: str | None = None

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.routes)

    def route_for(self, category: str) -> Route | None:
        return self.routes.get(category)


class RouteSchema(Base):
    name = Text(required=True)
    first = Text(required=True, validate=one_of(org.DEPARTMENTS))
    cooperating = List(Text(validate=one_of(org.DEPARTMENTS)), load_default=list)

    @validates_schema(skip_on_field_errors=True)
    def departments_differ(self, data: dict[str, Any], **kwargs: Any) -> None:
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
            CATEGORY_CODE,
            error="类型编码须为小写字母、数字和下划线 (lower-case code): {input!r}")),
        values=Nested(RouteSchema), required=True,
        validate=validate.Length(min=1, error="至少一个类型 (at least one category)"))


def refused(fields_by_place: dict[str, list[str]]) -> InvalidInput:
    return InvalidInput(fields_by_place, "派单规则表有误 (routing table refused)")


def read_routing_table(path: str | Path | None = None) -> RoutingTable:
    """Read and validate the table; raise InvalidInput naming every problem."""
    path = Path(path) if path else DEFAULT_FILE
    if not path.is_absolute():
        path = REPO_ROOT / path
    raw, data = read_mapping(path, refused)
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

    def setup(self) -> None:
        self.table = read_routing_table(self.container.config.get("ROUTING_FILE"))

    def get_dependency(self, worker_ctx: Any) -> RoutingTable:
        return self.table
