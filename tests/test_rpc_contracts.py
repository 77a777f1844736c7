"""The RPC contracts hold the services and their callers together (issue 12).

For each typed client in shared.contracts (a `ServiceClient` subclass) and the
nameko service it calls (`services.<service>.service`, the class whose `name`
is the client's `service`):

- every public client method is an @rpc entrypoint of the same name with the
  same parameters (names, order, kinds, defaults);
- the client sends what it was given to that entrypoint: called with a marker
  per parameter, it calls the method of its own name, and the arguments bind
  to the service's parameters of the same names;
- every @rpc entrypoint has a client method (unless listed in INTERNAL_RPC);
- every error a method declares with @raises is a CCRMError.

A caller therefore cannot drift from its callee without a test failing. The
last test checks that callers go through these clients: no service module
calls `shared.rpc.call` or a client's `_call` itself, or a method on an
RpcProxy attribute directly. Services are imported with eventlet already
monkey-patched (the root conftest does it).
"""
from __future__ import annotations

import ast

import pytest

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Json
from shared.errors import NotFound
from shared.rpc import rpc
from tests.rpc_contract_checks import (
    INTERNAL_RPC,
    REPO_ROOT,
    bypasses,
    client_classes,
    contract_problems,
    proxy_attributes,
    rpc_entrypoints,
    service_class,
    service_modules,
)

# -- the contracts as they are ----------------------------------------------------------------

CLIENTS = client_classes()


def test_every_service_with_rpc_entrypoints_has_a_contract() -> None:
    assert {client.service for client in CLIENTS} >= {
        "intake", "dispatch", "sla", "penalty", "media"}


@pytest.mark.parametrize("client", CLIENTS, ids=[client.service for client in CLIENTS])
def test_client_and_service_agree(client: type[ServiceClient]) -> None:
    problems = contract_problems(client, service_class(client.service))
    assert not problems, "\n".join(problems)


def test_internal_entrypoints_exist_and_say_why() -> None:
    for (service, method), why in INTERNAL_RPC.items():
        assert why.strip(), f"{service}.{method}: say why it has no client method"
        assert method in rpc_entrypoints(service_class(service)), f"{service}.{method}: gone"


# -- the checker finds a planted mismatch ----------------------------------------------------

class FakeService:
    name = "fake"

    @rpc
    def lookup(self, record_id, verbose=False):  # type: ignore[no-untyped-def]
        return None

    @rpc
    def health(self):  # type: ignore[no-untyped-def]
        return None


class FakeClient(ServiceClient):
    service = "fake"

    @raises(NotFound)
    def lookup(self, record_id: str, verbose: bool = False) -> Json:
        return self._call("lookup", record_id, verbose=verbose)

    def health(self) -> Json:
        return self._call("health")


class WrongParameterName(FakeClient):
    def lookup(self, record: str, verbose: bool = False) -> Json:
        return self._call("lookup", record, verbose=verbose)


class WrongDefault(FakeClient):
    def lookup(self, record_id: str, verbose: bool = True) -> Json:
        return self._call("lookup", record_id, verbose=verbose)


class WrongKind(FakeClient):
    def lookup(self, record_id: str, *, verbose: bool = False) -> Json:  # type: ignore[override]
        return self._call("lookup", record_id, verbose=verbose)


class WrongMethodCalled(FakeClient):
    def lookup(self, record_id: str, verbose: bool = False) -> Json:
        return self._call("look_up", record_id, verbose=verbose)


class ArgumentsSwapped(FakeClient):
    def lookup(self, record_id: str, verbose: bool = False) -> Json:
        return self._call("lookup", verbose, verbose=record_id)


class NotAnError(FakeClient):
    @raises(ValueError)  # type: ignore[arg-type]
    def lookup(self, record_id: str, verbose: bool = False) -> Json:
        return self._call("lookup", record_id, verbose=verbose)


class NoSuchEntrypoint(FakeClient):
    def forget(self, record_id: str) -> Json:
        return self._call("forget", record_id)


class MissingMethod(ServiceClient):
    service = "fake"

    def lookup(self, record_id: str, verbose: bool = False) -> Json:
        return self._call("lookup", record_id, verbose=verbose)


def test_the_fake_contract_agrees() -> None:
    assert contract_problems(FakeClient, FakeService) == []


@pytest.mark.parametrize(("client", "expected"), [
    (WrongParameterName, "fake.lookup: client parameters [('record'"),
    (WrongDefault, "fake.lookup: client parameters"),
    (WrongKind, "KEYWORD_ONLY"),
    (WrongMethodCalled, "fake.lookup: the client calls the service's 'look_up'"),
    (ArgumentsSwapped, "fake.lookup: the service's 'record_id' receives the client's <verbose>"),
    (NotAnError, "fake.lookup: @raises(<class 'ValueError'>) is not a CCRMError"),
    (NoSuchEntrypoint, "fake.forget: the client has it, the service has no @rpc entrypoint"),
    (MissingMethod, "fake.health: @rpc entrypoint without a client method"),
], ids=lambda value: value.__name__ if isinstance(value, type) else "")
def test_a_planted_mismatch_is_reported(client: type[ServiceClient], expected: str) -> None:
    problems = contract_problems(client, FakeService)
    assert any(expected in problem for problem in problems), problems


def test_callers_use_the_typed_clients() -> None:
    modules = {path: ast.parse(path.read_text(encoding="utf-8")) for path in service_modules()}
    # The proxy attributes of each service class, also seen from its mixins' modules.
    proxies: dict[str, set[str]] = {}
    for path, tree in modules.items():
        proxies.setdefault(path.relative_to(REPO_ROOT).parts[1], set()).update(
            proxy_attributes(tree))
    found = [problem for path, tree in modules.items()
             for problem in bypasses(path, tree, proxies[path.relative_to(REPO_ROOT).parts[1]])]
    assert not found, "\n".join(found)


PLANTED_BYPASSES = """
from shared import rpc
from shared.rpc import call as rpc_call
from services.intake.remote import call


class Service:
    media = RpcProxy("media")

    def one(self):
        rpc.call(self.media, "get", "m1")
        rpc_call(self.media, method, "m1")
        call(self.proxy, "get", "m1")
        self.media.get("m1")
        MediaClient(self.media)._call("get", "m1")
        return MediaClient(self.media).get("m1")


class Helper:
    def __init__(self, media):
        self.media = media          # a client here, not the proxy

    def one(self):
        return self.media.get("m1")
"""


def test_the_bypass_checker_finds_planted_bypasses() -> None:
    tree = ast.parse(PLANTED_BYPASSES)
    found = bypasses(REPO_ROOT / "services" / "planted.py", tree, proxy_attributes(tree))
    assert [line.split(": ", 1)[1] for line in found] == [
        "rpc.call(); use the contract's client",
        "rpc call(); use the contract's client",
        "call(proxy, 'get', ...) names the method as a string; use the contract's client",
        "self.media.get() on the RpcProxy; wrap it in the contract's client",
        "a client's _call(); call its method",
    ], found
