"""The OpenAPI 3 document, generated from the route table and its marshmallow
schemas (never written by hand): `python -m services.gateway.openapi`."""
import json
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.gateway.api import ROUTES
from services.gateway.schemas import ErrorBody

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")
_ERRORS = {400: "输入有误 (invalid input, per field)", 401: "未登录 (no or bad token)",
           403: "无权限 (role may not do this)", 404: "不存在 (not found)",
           409: "当前状态不允许此操作 (wrong state for this step)",
           413: "过大 (too large)", 415: "类型不允许 (content type refused)",
           503: "服务暂不可用 (a service did not answer)"}


def _ref(spec, schema_cls):
    name = schema_cls.__name__
    if name not in spec.components.schemas:
        spec.components.schema(name, schema=schema_cls)
    return {"$ref": f"#/components/schemas/{name}"}


def build_spec(routes=None):
    spec = APISpec(title="CCRM API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description":
                         "客户投诉处理系统 CCRM: the gateway's HTTP contract (SPEC §10)."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    error_ref = _ref(spec, ErrorBody)
    paths = {}
    for route in routes if routes is not None else ROUTES:
        path = _CONVERTER.sub(r"{\1}", route.path)
        operation = {"summary": route.summary, "operationId": route.handler,
                     "tags": list(route.tags) or ["ccrm"], "responses": {}}
        if route.description:
            operation["description"] = route.description
        if not route.public:
            operation["security"] = [{"bearer": []}]
            if route.roles:
                operation["description"] = (operation.get("description", "") +
                                            f" Roles: {', '.join(sorted(route.roles))}.").strip()
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _CONVERTER.findall(route.path)]
        if route.query is not None:
            params += [{"in": "query", "schema": route.query}]
        if params:
            operation["parameters"] = params
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {
                route.content: {"schema": _ref(spec, route.body)}}}
        ok = {"description": "OK"}
        if route.response is not None:
            ok["content"] = {"application/json": {"schema": _ref(spec, route.response)}}
        operation["responses"][str(route.status)] = ok
        codes = {400, 401, 403, 404, 409, 503} if not route.public else {400, 503}
        if route.content.startswith("multipart") or route.method == "POST":
            codes |= {413, 415}     # the body's size and type are checked (api, bodies)
        for code in sorted(codes):
            operation["responses"][str(code)] = {
                "description": _ERRORS[code],
                "content": {"application/json": {"schema": error_ref}}}
        paths.setdefault(path, {})[route.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def main():
    import services.gateway.service  # noqa: F401  (fills the route table)
    print(json.dumps(build_spec(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
