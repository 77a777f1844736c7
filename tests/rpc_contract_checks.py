"""What tests/test_rpc_contracts.py checks with: a typed client against its
service's @rpc entrypoints (contract_problems), and a service module's calls
past the clients (bypasses)."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import shared.contracts
from shared.contracts.base import ServiceClient
from shared.errors import CCRMError
from shared.rpc import Rpc

REPO_ROOT = Path(__file__).resolve().parents[1]

# @rpc entrypoints that no other service may call, so have no client method:
# {(service, method): why}. Empty: every entrypoint is part of a contract.
INTERNAL_RPC: dict[tuple[str, str], str] = {}


# -- the checker ---------------------------------------------------------------------------

def contract_modules() -> list[ModuleType]:
    """shared.contracts and every module under it (a contract may be a package)."""
    return [importlib.import_module(info.name) for info in
            pkgutil.walk_packages(shared.contracts.__path__, "shared.contracts.")]


def client_classes() -> list[type[ServiceClient]]:
    """Every ServiceClient subclass defined in shared.contracts, by service name."""
    found = {}
    for module in contract_modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, ServiceClient) and cls is not ServiceClient
                    and cls.__module__ == module.__name__ and "service" in vars(cls)):
                found[cls.__name__] = cls
    return sorted(found.values(), key=lambda cls: cls.service)


def service_class(service: str) -> type:
    module = importlib.import_module(f"services.{service}.service")
    matches = [cls for _, cls in inspect.getmembers(module, inspect.isclass)
               if getattr(cls, "name", None) == service]
    assert len(matches) == 1, f"services.{service}.service: no single class named {service!r}"
    return matches[0]


def client_methods(client: type[ServiceClient]) -> dict[str, Any]:
    """The client's public methods, own or inherited from a contract base (not
    ServiceClient's own, such as `with_timeout`)."""
    methods: dict[str, Any] = {}
    for klass in reversed(client.__mro__):
        if issubclass(klass, ServiceClient) and klass is not ServiceClient:
            methods.update({name: value for name, value in vars(klass).items()
                            if inspect.isfunction(value) and not name.startswith("_")})
    return methods


def rpc_entrypoints(service: type) -> dict[str, Any]:
    """The service's methods decorated with @rpc."""
    return {name: function for name, function in inspect.getmembers(service, inspect.isfunction)
            if any(isinstance(entrypoint, Rpc)
                   for entrypoint in getattr(function, "nameko_entrypoints", ()))}


def parameters(function: Any) -> list[tuple[str, str, Any]]:
    """(name, kind, default) of each parameter but `self`."""
    return [(p.name, p.kind.name, p.default)
            for p in list(inspect.signature(function).parameters.values())[1:]]


class Marker:
    """Stands for the value of one client parameter on its way to the callee."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


class RecordingProxy:
    """Takes the place of nameko's RpcProxy: records the one call made."""

    service_name = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, method: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((method, args, kwargs))
        return record


def sent_request(client: type[ServiceClient], name: str, method: Any, entrypoint: Any,
                 service: str) -> list[str]:
    """Call the client method with a marker per parameter; what goes wrong on
    the way to the entrypoint."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in list(inspect.signature(method).parameters.values())[1:]:
        if parameter.kind is parameter.POSITIONAL_ONLY:
            args.append(Marker(parameter.name))
        elif parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            kwargs[parameter.name] = Marker(parameter.name)
        else:
            return [f"{service}.{name}: *args/**kwargs cannot be checked; name the parameters"]
    proxy = RecordingProxy()
    getattr(client(proxy), name)(*args, **kwargs)
    if len(proxy.calls) != 1:
        return [f"{service}.{name}: the client made {len(proxy.calls)} calls, not one"]
    called, sent_args, sent_kwargs = proxy.calls[0]
    if called != name:
        return [f"{service}.{name}: the client calls the service's {called!r}"]
    try:
        bound = inspect.signature(entrypoint).bind(None, *sent_args, **sent_kwargs)
    except TypeError as exc:
        return [f"{service}.{name}: what the client sends does not fit the entrypoint: {exc}"]
    problems = []
    for received_as, value in list(bound.arguments.items())[1:]:
        if not (isinstance(value, Marker) and value.name == received_as):
            problems.append(f"{service}.{name}: the service's {received_as!r} receives "
                            f"the client's {value!r}")
    given = {value.name for value in [*sent_args, *sent_kwargs.values()]
             if isinstance(value, Marker)}
    lost = sorted({*kwargs, *(a.name for a in args)} - given)
    if lost:
        problems.append(f"{service}.{name}: the client does not send {lost}")
    return problems


def contract_problems(client: type[ServiceClient], service_cls: type) -> list[str]:
    """Every way `client` and the nameko class `service_cls` disagree."""
    service = client.service
    problems = []
    methods, entrypoints = client_methods(client), rpc_entrypoints(service_cls)
    for name, method in sorted(methods.items()):
        entrypoint = entrypoints.get(name)
        if entrypoint is None:
            problems.append(f"{service}.{name}: the client has it, the service has no "
                            "@rpc entrypoint of that name")
            continue
        if parameters(method) != parameters(entrypoint):
            problems.append(f"{service}.{name}: client parameters {parameters(method)} "
                            f"!= service parameters {parameters(entrypoint)}")
        else:
            problems += sent_request(client, name, method, entrypoint, service)
        for error in getattr(method, "__contract_errors__", ()):
            if not (isinstance(error, type) and issubclass(error, CCRMError)):
                problems.append(f"{service}.{name}: @raises({error!r}) is not a CCRMError")
    for name in sorted(set(entrypoints) - set(methods)):
        if (service, name) not in INTERNAL_RPC:
            problems.append(f"{service}.{name}: @rpc entrypoint without a client method "
                            "(add it to the contract, or to INTERNAL_RPC with a reason)")
    return problems


# -- callers go through the clients -----------------------------------------------------------

def service_modules() -> list[Path]:
    return sorted(path for path in (REPO_ROOT / "services").rglob("*.py")
                  if "tests" not in path.relative_to(REPO_ROOT).parts)


def proxy_attributes(tree: ast.Module) -> set[str]:
    """Names of class attributes set to `RpcProxy(...)`."""
    return {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", getattr(node.value.func, "attr", None)) == "RpcProxy"
            for target in node.targets if isinstance(target, ast.Name)}


def bypass(node: ast.Call, rpc_modules: set[str], call_functions: set[str],
           proxies: set[str]) -> str | None:
    """What is wrong with one call, if it skips the typed clients."""
    func = node.func
    if isinstance(func, ast.Name) and func.id in call_functions:
        return "rpc call(); use the contract's client"
    if isinstance(func, ast.Attribute):
        owner = func.value
        if func.attr == "call" and isinstance(owner, ast.Name) and owner.id in rpc_modules:
            return "rpc.call(); use the contract's client"
        if func.attr == "_call":
            return "a client's _call(); call its method"
        if (isinstance(owner, ast.Attribute) and owner.attr in proxies
                and isinstance(owner.value, ast.Name) and owner.value.id == "self"):
            return (f"self.{owner.attr}.{func.attr}() on the RpcProxy; "
                    "wrap it in the contract's client")
    # A service's own copy of the call helper: `call(proxy, "method", ...)`.
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    method = node.args[1] if len(node.args) >= 2 else None
    if (name.endswith("call") and isinstance(method, ast.Constant)
            and isinstance(method.value, str)):
        return (f"{name}(proxy, {method.value!r}, ...) names the method as a string; "
                "use the contract's client")
    return None


def bypasses(path: Path, tree: ast.Module, proxies: set[str]) -> list[str]:
    """Calls in one module that skip the typed clients."""
    rpc_modules, call_functions = set(), set()
    for node in ast.walk(tree):
        # shared.rpc, or a service's own copy of it (the gateway had one).
        if isinstance(node, ast.ImportFrom) and node.module:
            rpc_modules |= {a.asname or a.name for a in node.names if a.name == "rpc"}
            if node.module.split(".")[-1] == "rpc":
                call_functions |= {a.asname or a.name for a in node.names if a.name == "call"}
        elif isinstance(node, ast.Import):
            rpc_modules |= {a.asname for a in node.names
                            if a.name.split(".")[-1] == "rpc" and a.asname}
    found: set[tuple[int, str]] = set()
    # `self.<proxy>` is the RpcProxy only in a class that does not set that
    # attribute itself (the service class, or a mixin of it such as the
    # gateway's routes); a helper's `self.media = MediaClient(...)` is a client.
    scopes: list[tuple[ast.AST, set[str]]] = [(tree, set())]
    scopes += [(node, proxies - assigned_attributes(node)) for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)]
    for scope, scope_proxies in scopes:
        for node in ast.walk(scope):
            if isinstance(node, ast.Call):
                problem = bypass(node, rpc_modules, call_functions, scope_proxies)
                if problem:
                    found.add((node.lineno, problem))
    where = path.relative_to(REPO_ROOT)
    return [f"{where}:{line}: {problem}" for line, problem in sorted(found)]


def assigned_attributes(cls: ast.ClassDef) -> set[str]:
    """Attributes the class sets on `self` (`self.x = ...`)."""
    return {target.attr for node in ast.walk(cls)
            if isinstance(node, (ast.Assign, ast.AnnAssign))
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
            and target.value.id == "self"}
