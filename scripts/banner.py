"""What `make run` prints once the suite is up: the demo tokens, as a table
that lines up in a terminal (Chinese names take two columns each).
Standard library only.
"""
import json
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any


def read_tokens(path: str | Path) -> Any:
    """The demo tokens file's entries, or [] when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


def display_width(text: str) -> int:
    """Columns a terminal gives `text`: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def token_table(tokens: Iterable[Mapping[str, Any]]) -> str:
    """A short table: name, roles, token."""
    rows = [("name", "roles", "token")]
    for entry in tokens:
        roles = entry.get("roles") or []
        rows.append((str(entry.get("name", "")),
                     ",".join(roles) if isinstance(roles, list) else str(roles),
                     str(entry.get("token", ""))))
    widths = [max(display_width(row[i]) for row in rows) for i in range(2)]
    return "\n".join(f"  {pad(row[0], widths[0])}  {pad(row[1], widths[1])}  {row[2]}"
                     for row in rows)
