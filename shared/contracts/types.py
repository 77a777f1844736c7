"""The shapes that cross every RPC: plain JSON values, as nameko serialises them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# An answer: a JSON object (or, for a few list methods, a JSON array).
Json = Any
# A request form as the caller received it: the callee loads it with the contract's schema.
Form = Mapping[str, Any]
# The acting person as the gateway authenticated them (shared.roles / Principal.as_dict()):
# {"person_id", "roles", "projects", ...}; the callee checks roles itself.
Actor = Mapping[str, Any]
