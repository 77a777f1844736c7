"""sla reads other services' events through its own consumer schemas: each
field it reads must be one the producer's registered schema publishes, and
what it requires the producer must require too."""
import pytest

from services.sla.incoming import INCOMING
from shared.events.registry import schema_for

# FactsIn reads these when an event has them (complaint.received,
# complaint.resolved_on_spot / complaint.closed); absent elsewhere.
OPTIONAL_EXTRAS = {"resolved_on_spot", "closed_at"}


def fields_by_key(schema):
    return {field.data_key or name: field for name, field in schema.fields.items()}


@pytest.mark.parametrize("event_type", sorted(INCOMING))
def test_sla_reads_only_what_the_producer_publishes(event_type):
    producer = fields_by_key(schema_for(event_type))
    mine = fields_by_key(INCOMING[event_type]())
    unknown = {name for name in mine if name not in producer} - OPTIONAL_EXTRAS
    assert not unknown, f"{event_type}: the producer publishes no {sorted(unknown)}"
    loose = [name for name, field in mine.items()
             if field.required and not producer[name].required]
    assert not loose, f"{event_type}: sla requires {loose}, the producer may leave them out"
