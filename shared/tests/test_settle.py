"""Acknowledging after the broker dropped the connection (a restart) must not
kill the container: the broker already put the message back (fault test)."""
import logging

import pytest
from nameko.messaging import QueueConsumer

from shared.consumer import settle


class DroppedConnectionConsumer(QueueConsumer):
    """nameko's QueueConsumer whose broker connection has gone."""

    def __init__(self, error=None):
        super().__init__()
        self.error = error
        self.acked, self.requeued = [], []

    def ack_message(self, message):
        if self.error:
            raise self.error
        self.acked.append(message)

    def requeue_message(self, message):
        if self.error:
            raise self.error
        self.requeued.append(message)


def test_a_message_is_acked_or_requeued_as_asked():
    consumer = DroppedConnectionConsumer()
    settle(consumer, "m1")
    settle(consumer, "m2", requeue=True)
    assert consumer.acked == ["m1"] and consumer.requeued == ["m2"]


@pytest.mark.parametrize("error", [ConnectionResetError(104, "Connection reset by peer"),
                                   BrokenPipeError(32, "Broken pipe")])
def test_an_ack_on_a_dropped_connection_is_logged_not_raised(error, caplog):
    with caplog.at_level(logging.WARNING, logger="shared.consumer"):
        settle(DroppedConnectionConsumer(error), "m1")
    assert "redelivers" in caplog.text


def test_a_bug_is_still_raised():
    with pytest.raises(TypeError):
        settle(DroppedConnectionConsumer(TypeError("bug")), "m1")
