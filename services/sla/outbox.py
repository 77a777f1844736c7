"""The shared outbox, plus writing many events in one statement: the firing
loop announces hundreds of deadlines per transaction."""
import shared.outbox
from shared import worker_context
from shared.events.envelope import build_envelope


class BatchOutbox(shared.outbox.Outbox):

    def add_many(self, conn, events):
        """`events`: [(type, data, occurred_at, complaint_id)], each validated
        against its schema like `add`; one INSERT for all."""
        if not events:
            return []
        correlation_id = worker_context.correlation_id()     # as `add` does
        envelopes = [build_envelope(event_type, data, producer=self.producer,
                                    region=self.region, occurred_at=occurred_at,
                                    complaint_id=complaint_id, correlation_id=correlation_id,
                                    zone=self.zone)
                     for event_type, data, occurred_at, complaint_id in events]
        # In commit order: the relay publishes by id. The NOTIFY that wakes
        # the relays on commit rides in the INSERT (pg_notify in its FROM, as
        # `add` does): one statement, not two.
        conn.execute(
            f"""INSERT INTO {self.schema}.outbox (event_id, exchange, routing_key, body)
                SELECT a, b, c, d
                  FROM pg_notify(%(channel)s, ''),
                       unnest(%(ids)s::uuid[], %(exchanges)s::text[], %(keys)s::text[],
                              %(bodies)s::text[]) WITH ORDINALITY AS e(a, b, c, d, n)
                 ORDER BY n""",
            {"ids": [e.event_id for e in envelopes], "exchanges": [e.exchange for e in envelopes],
             "keys": [e.type for e in envelopes], "bodies": [e.body for e in envelopes],
             "channel": shared.outbox.channel_name(self.schema)})
        return envelopes
