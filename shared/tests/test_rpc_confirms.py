"""Why an RPC request keeps its publisher confirm (issue 17 weighed dropping
it): the confirm is what tells at once that no service consumes the request
(nameko's mandatory publish + confirm -> UnknownService): a call to a service
never started here is a quick 503 that says it is not running, not a worker
held for the whole timeout. On the real broker, in the test's own vhost."""
import time

import pytest
from nameko.testing.services import entrypoint_hook

from shared.errors import Unavailable
from shared.rpc import RpcProxy, call, rpc

pytestmark = pytest.mark.integration


class Caller:
    name = "confirm_caller"
    absent = RpcProxy("never_started")

    @rpc
    def ask(self):
        return call(self.absent, "ping", timeout=15)


def test_a_request_to_a_service_never_started_is_a_quick_503(container_factory, rabbit_config):
    container = container_factory(Caller, rabbit_config)
    container.start()
    began = time.monotonic()
    with entrypoint_hook(container, "ask") as ask, pytest.raises(Unavailable) as refused:
        ask()
    assert time.monotonic() - began < 5           # the confirm, not the 15 s timeout
    assert refused.value.status == 503
    assert "未运行" in refused.value.message and "never_started" in refused.value.message
