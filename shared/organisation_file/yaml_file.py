"""Reading a YAML configuration file whose problems are named by their place
(`projects[2].city_tier: ...`): the organisation file here, and dispatch's
routing table. A key given twice in one mapping is refused (a typo would
otherwise silently replace the first department or person).
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from shared.errors import InvalidInput

FILE_PLACE = "(file)"

Refuse = Callable[[dict[str, list[str]]], InvalidInput]


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"重复的键 (duplicate key) {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                             StrictLoader.construct_mapping)


def read_bytes(path: Path, refuse: Refuse, where: str = FILE_PLACE) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise refuse({where: [f"无法读取文件 (cannot read) {path}: {exc.strerror or exc}"]}) \
            from None


def read_mapping(path: Path, refuse: Refuse) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and the YAML mapping it holds; `refuse(fields)` is
    raised for a file that cannot be read, is not UTF-8 YAML or not a mapping."""
    raw = read_bytes(path, refuse)
    try:
        stream = io.StringIO(raw.decode("utf-8-sig"))
        stream.name = str(path)  # YAML errors then name the file, not "<unicode string>"
        data = yaml.load(stream, Loader=StrictLoader)
    except UnicodeDecodeError:
        raise refuse({FILE_PLACE: [f"{path} 须为 UTF-8 编码 (must be UTF-8)"]}) from None
    except yaml.YAMLError as exc:
        raise refuse({FILE_PLACE: [f"YAML 格式错误 (YAML syntax error): {exc}"]}) from None
    if not isinstance(data, dict):
        raise refuse({FILE_PLACE: ["文件内容须为映射 (the file must hold a YAML mapping)"]})
    return raw, data


def place(path: tuple[Any, ...]) -> str:
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


def error_places(messages: Any, people_csv: str | None = None) -> dict[str, list[str]]:
    """Flatten marshmallow messages into {place: [message, ...]} in file order
    (rows of a people CSV file named by their line)."""
    flat: dict[str, list[str]] = {}

    def walk(path: tuple[Any, ...], value: Any) -> None:
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
