"""One paging convention for every list (SPEC §10): a list takes `limit` and
`offset` and answers `{"items", "total", "limit", "offset"}`.

`Paging` is the form every list's filters extend. `page` and `page_size`
(what `/api/complaints` and `/api/notifications` took before) stay as
deprecated aliases, so scripts written against them keep working: `page=N,
page_size=S` is `offset=(N-1)*S, limit=S`, and their answer also carries
`page` and `page_size`. Giving both spellings at once is refused.

A list whose service answers everything at once is paged by the caller with
`page_of_all`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, post_load, validates_schema

from shared.validation import Form, messages

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
PAGING_KEYS = ("limit", "offset", "page", "page_size")
NOT_WHOLE = "须为整数 (must be a whole number)"


def _whole(description: str) -> fields.Integer:
    return fields.Integer(load_default=None, allow_none=True, strict=False,
                          error_messages=messages(invalid=NOT_WHOLE),
                          metadata={"description": description})


class Paging(Form):
    """`limit` (1..MAX_LIMIT, default DEFAULT_LIMIT) and `offset` (0..);
    `page` / `page_size`: deprecated aliases. A subclass may set its own
    DEFAULT_LIMIT and MAX_LIMIT (a route keeps the bounds it had)."""

    DEFAULT_LIMIT: ClassVar[int] = DEFAULT_LIMIT
    MAX_LIMIT: ClassVar[int] = MAX_LIMIT

    limit = _whole("每页条数 (rows per page)")
    offset = _whole("跳过的条数 (rows to skip), default 0")
    page = _whole("deprecated: use offset = (page - 1) * limit")
    page_size = _whole("deprecated: use limit")

    @validates_schema(skip_on_field_errors=True)
    def _paging_bounds(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        top = self.MAX_LIMIT
        for name in ("limit", "page_size"):
            value = data.get(name)
            if value is not None and not 1 <= value <= top:
                errors[name] = [f"须为 1 到 {top} (1 to {top})"]
        if data.get("offset") is not None and not 0 <= data["offset"] <= MAX_OFFSET:
            errors["offset"] = [f"须为 0 到 {MAX_OFFSET} (0 to {MAX_OFFSET})"]
        if data.get("page") is not None and not 1 <= data["page"] <= MAX_OFFSET:
            errors["page"] = ["页码须为正整数 (page >= 1)"]
        for alias, name in (("page", "offset"), ("page_size", "limit")):
            if data.get(alias) is not None and data.get(name) is not None:
                errors.setdefault(alias, []).append(
                    f"{alias} 已弃用，请只用 limit 和 offset (deprecated: give {name} only)")
        if errors:
            raise ValidationError(errors)

    @post_load
    def _paging_resolved(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data.setdefault("page", None)
        data.setdefault("page_size", None)
        limit = data.get("limit") or data["page_size"] or self.DEFAULT_LIMIT
        offset = data.get("offset")
        if offset is None:
            offset = ((data["page"] or 1) - 1) * limit
        data["limit"], data["offset"] = limit, offset
        return data


def by_page(query: Mapping[str, Any]) -> bool:
    """Whether the request was paged with the deprecated aliases."""
    return query.get("page") is not None or query.get("page_size") is not None


def page_answer(items: Sequence[Any], total: int, query: Mapping[str, Any]) -> dict[str, Any]:
    """A list's answer; with `page` and `page_size` too for a request that used them."""
    answer = {"items": list(items), "total": total, "limit": query["limit"],
              "offset": query["offset"]}
    if by_page(query):
        answer.update(page=query["offset"] // query["limit"] + 1, page_size=query["limit"])
    return answer


def page_of_all(items: Sequence[Any], query: Mapping[str, Any]) -> dict[str, Any]:
    """A page cut from a whole list (a service that answers everything at once)."""
    start = query["offset"]
    return page_answer(items[start:start + query["limit"]], len(items), query)


def without_paging(args: Mapping[str, Any]) -> dict[str, Any]:
    """A query string without its paging keys (for a service that takes none)."""
    return {key: value for key, value in args.items() if key not in PAGING_KEYS}


def page_view(item: type[Schema] | Schema, name: str) -> type[Schema]:
    """The answer schema of a list of `item` (for the OpenAPI document)."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item)),
        "total": fields.Integer(metadata={"description": "rows matching, all pages"}),
        "limit": fields.Integer(),
        "offset": fields.Integer(),
        "page": fields.Integer(metadata={"description": "deprecated: only when asked by page"}),
        "page_size": fields.Integer(metadata={
            "description": "deprecated: only when asked by page"}),
    }, name=name)
