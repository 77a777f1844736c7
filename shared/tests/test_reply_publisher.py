"""An RPC reply rides out a broker that is down when the reply is sent: kombu
gives up on taking a channel after its connect timeout (OperationalError) and
does not retry that, so ReplyPublisher does, within its patience."""
import kombu.exceptions
import pytest
from nameko.amqp.publish import Publisher

from shared import rpc


@pytest.fixture
def broker(monkeypatch):
    """The base publish: fails `state['down']` times, then publishes."""
    state = {"down": 0, "calls": 0, "published": []}

    def publish(self, payload, **kwargs):
        state["calls"] += 1
        if state["down"] > 0:
            state["down"] -= 1
            raise kombu.exceptions.OperationalError("[Errno 111] ECONNREFUSED")
        state["published"].append(payload)

    monkeypatch.setattr(Publisher, "publish", publish)
    monkeypatch.setattr(rpc.eventlet, "sleep", lambda seconds: None)
    return state


def test_a_reply_is_published_once_the_broker_is_back(broker):
    broker["down"] = 3
    rpc.ReplyPublisher("amqp://unused").publish({"result": 1})
    assert broker["calls"] == 4 and broker["published"] == [{"result": 1}]


def test_a_reply_gives_up_after_its_patience(broker, monkeypatch):
    broker["down"] = 10 ** 6
    clock = {"now": 0.0}
    monkeypatch.setattr(rpc.time, "monotonic", lambda: clock["now"])
    monkeypatch.setattr(rpc.eventlet, "sleep",
                        lambda seconds: clock.__setitem__("now", clock["now"] + seconds))
    with pytest.raises(kombu.exceptions.OperationalError):
        rpc.ReplyPublisher("amqp://unused").publish({"result": 1})
    assert broker["published"] == []
    assert rpc.REPLY_PATIENCE_SECONDS - 2 <= clock["now"] <= rpc.REPLY_PATIENCE_SECONDS
