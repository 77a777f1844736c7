"""Every event type, its producer, version and `data` schema (SPEC §7).

Producers declare their schemas with `@event(...)` in `shared/events/<producer>.py`;
the catalogue document (docs/events.md) is generated from this registry.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from marshmallow import Schema

from shared.errors import CCRMError

# `EventType.type` shadows the builtin inside the class body.
SchemaClass = type[Schema]
S = TypeVar("S", bound=SchemaClass)


@dataclass(frozen=True)
class EventType:
    type: str
    version: int
    producer: str
    when: str
    schema: SchemaClass

    @property
    def key(self) -> tuple[str, int]:
        return (self.type, self.version)


_REGISTRY: dict[tuple[str, int], EventType] = {}


class UnknownEvent(CCRMError):
    code = "unknown_event"


def event(type: str, producer: str, when: str, version: int = 1) -> Callable[[S], S]:
    """Class decorator that registers a marshmallow schema as an event's data."""
    def register(schema_cls: S) -> S:
        key = (type, version)
        if key in _REGISTRY:
            raise ValueError(f"event {type} v{version} registered twice")
        _REGISTRY[key] = EventType(type, version, producer, when, schema_cls)
        return schema_cls
    return register


def _load_all() -> None:
    # Importing the producer modules fills the registry.
    from shared.events import catalogue_modules  # noqa: F401


_instances: dict[tuple[str, int], Schema] = {}


def schema_for(event_type: str, version: int = 1) -> Schema:
    """The event's schema instance. Instances are cached: marshmallow builds a
    schema's fields on construction, which costs more than the dump itself."""
    key = (event_type, version)
    schema = _instances.get(key)
    if schema is None:
        _load_all()
        try:
            schema = _instances[key] = _REGISTRY[key].schema()
        except KeyError:
            raise UnknownEvent(f"no schema for event {event_type} v{version}") from None
    return schema


def all_events() -> list[EventType]:
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda e: (e.producer, e.type, e.version))
