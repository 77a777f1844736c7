"""RPC requests and replies travel transient (shared.rpc, TRANSIENT): the
broker confirms them without a disk write; events stay persistent. On the
real broker, in the test's own vhost."""
import kombu
import pytest
from nameko.testing.services import entrypoint_hook

from shared.errors import Unavailable
from shared.rpc import TRANSIENT, ReplyPublisher, RpcProxy, call, rpc

pytestmark = pytest.mark.integration


class Caller:
    name = "transient_caller"
    target = RpcProxy("transient_target")

    @rpc
    def ask(self):
        return call(self.target, "ping", timeout=1)


def test_a_request_is_published_transient(container_factory, rabbit_config):
    exchange = kombu.Exchange("nameko-rpc", "topic", durable=True)
    queue = kombu.Queue("rpc-transient_target", exchange, routing_key="transient_target.*",
                        durable=True)
    with kombu.Connection(rabbit_config["AMQP_URI"]) as conn:
        queue(conn.default_channel).declare()     # bound, so the mandatory publish routes
        container = container_factory(Caller, rabbit_config)
        container.start()
        with entrypoint_hook(container, "ask") as ask, pytest.raises(Unavailable):
            ask()                                 # nobody answers: the 1 s timeout
        message = queue(conn.default_channel).get(no_ack=True)
    assert message is not None
    assert message.properties["delivery_mode"] == TRANSIENT == 1
    assert message.delivery_info["routing_key"] == "transient_target.ping"


def test_a_reply_is_published_transient():
    assert ReplyPublisher.delivery_mode == TRANSIENT
