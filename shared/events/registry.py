"""Every event type, its producer, version and `data` schema (SPEC §7).

Producers declare their schemas with `@event(...)` in `shared/events/<producer>.py`;
the catalogue document (docs/events.md) is generated from this registry.
"""
from dataclasses import dataclass

from shared.errors import CCRMError


@dataclass(frozen=True)
class EventType:
    type: str
    version: int
    producer: str
    when: str
    schema: type

    @property
    def key(self):
        return (self.type, self.version)


_REGISTRY = {}


class UnknownEvent(CCRMError):
    code = "unknown_event"


def event(type, producer, when, version=1):
    """Class decorator that registers a marshmallow schema as an event's data."""
    def register(schema_cls):
        key = (type, version)
        if key in _REGISTRY:
            raise ValueError(f"event {type} v{version} registered twice")
        _REGISTRY[key] = EventType(type, version, producer, when, schema_cls)
        return schema_cls
    return register


def _load_all():
    # Importing the producer modules fills the registry.
    from shared.events import catalogue_modules  # noqa: F401


_instances = {}


def schema_for(event_type, version=1):
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


def all_events():
    _load_all()
    return sorted(_REGISTRY.values(), key=lambda e: (e.producer, e.type, e.version))
