"""Our template names (order_dispatched, escalation, ...) mapped to a
provider's approved template codes, from the config's `SMS.templates`:

    templates:
      order_dispatched: SMS_463790012                # the code only
      escalation: {code: "1843155", params: [complaint_id, project, step]}

`params` lists the template's variables in the order the provider's template
numbers them (Tencent Cloud's {1}, {2}, ... are positional); without it every
parameter of the message is sent (Alibaba Cloud names its variables ${name}).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Template:
    code: str
    params: tuple[str, ...] | None = None

    def values(self, params: Mapping[str, Any]) -> dict[str, str]:
        """The message's parameters for this template, as the strings providers take."""
        names = self.params if self.params is not None else tuple(params)
        return {name: "" if params.get(name) is None else str(params[name]) for name in names}


def templates_from_config(raw: Mapping[str, Any] | None) -> dict[str, Template]:
    templates = {}
    for name, spec in (raw or {}).items():
        if isinstance(spec, Mapping):
            if not spec.get("code"):
                raise ValueError(f"SMS.templates.{name} needs a code")
            params = spec.get("params")
            templates[str(name)] = Template(str(spec["code"]),
                                            None if params is None else
                                            tuple(str(p) for p in params))
        elif spec not in (None, ""):
            templates[str(name)] = Template(str(spec))
        else:
            raise ValueError(f"SMS.templates.{name} needs a code")
    return templates


def missing_template(name: str) -> str:
    return (f"未配置短信模板 {name} (no provider template code for {name!r} in "
            f"SMS.templates)")
