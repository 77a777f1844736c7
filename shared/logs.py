"""JSON log lines: one object per line (config.yaml LOGGING; docs/observability.md).

Fields: ts (ISO 8601, UTC, the record's wall-clock creation time), level,
logger, service, message, correlation_id (null outside a worker or in a timer
worker), complaint_id when known, exc (the traceback) when any, and whatever
the call passed in `extra=` (e.g. `event`, `blocked_seconds`). A traceback
stays inside its JSON string, so a line is always one record: scripts/
run_local.py's prefixing and any line-based shipper keep working.
"""
import json
import logging
from datetime import UTC, datetime
from typing import Any

from shared import worker_context

# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}

_process: dict[str, str | None] = {"service": None}


def set_process_service(name: str) -> None:
    """The service named on lines logged outside a worker (set at container set-up)."""
    if _process["service"] is None:
        _process["service"] = name


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = worker_context.current()
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "service": getattr(record, "service", None) or (
                context.service if context is not None else _process["service"]),
            "message": record.getMessage(),
            "correlation_id": context.correlation_id if context is not None else None,
        }
        complaint = getattr(record, "complaint_id", None) or (
            context.complaint_id if context is not None else None)
        if complaint:
            entry["complaint_id"] = str(complaint)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        return json.dumps(entry, ensure_ascii=False, default=str)
