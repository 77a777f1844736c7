"""What the gateway accepts as a request's input before any schema sees it
(SPEC §10): a JSON object of bounded depth, sent as JSON, without NUL
characters anywhere (PostgreSQL cannot store them in text, so they must
be refused here as a field error, not fail deep in a service as a 500).
"""
import json

from shared.contracts.media import human_size
from shared.errors import InvalidInput, TooLarge, UnsupportedMediaType

MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32
NUL = "\x00"

NUL_MESSAGE = "不能含有空字符 \\u0000 (NUL characters are not allowed)"


def is_json_type(mimetype):
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json"))


def require_json_type(request):
    if not is_json_type(request.mimetype or ""):
        raise UnsupportedMediaType(
            "请求体须为 JSON，Content-Type: application/json "
            "(send the body as Content-Type: application/json)",
            {"Content-Type": [
                f"不支持 {request.mimetype or '(none)'} (expected application/json)"]})


def upload_too_large(limit):
    return TooLarge(f"文件超过 {human_size(limit)} 上限 (file larger than {human_size(limit)})",
                    {"file": [f"超过 {human_size(limit)} (larger than {human_size(limit)})"]})


def require_multipart(request):
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType(
            "须以 multipart/form-data 上传文件 (send the file as multipart/form-data)",
            {"Content-Type": [f"不支持 {request.mimetype or '(none)'} "
                              "(expected multipart/form-data)"]})


def _not_json(_constant):
    # NaN and Infinity are Python's extension, not JSON.
    raise ValueError("not JSON")


def parse_object(raw):
    """The JSON object of a request body (bytes); {} for an empty body."""
    if not raw.strip():
        return {}
    try:
        # JSON travels as UTF-8 (RFC 8259); json.loads would also guess UTF-16/32
        data = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except RecursionError:
        raise InvalidInput({"_body": [too_deep()]}) from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput({"_body": ["请求体不是合法的 JSON (body is not valid JSON)"]}) from None
    if not isinstance(data, dict):
        raise InvalidInput({"_body": ["请求体须为 JSON 对象 (body must be a JSON object)"]})
    check_values(data)
    return data


def too_deep():
    return f"JSON 嵌套超过 {MAX_JSON_DEPTH} 层 (nested deeper than {MAX_JSON_DEPTH} levels)"


def check_values(data):
    """Refuse NUL in any key or text (named by its dotted path, as
    marshmallow names fields) and nesting deeper than MAX_JSON_DEPTH.
    Iterative: a deep body cannot exhaust the stack here."""
    errors = {}
    stack = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, (dict, list)) and depth > MAX_JSON_DEPTH:
            raise InvalidInput({"_body": [too_deep()]})
        if isinstance(value, dict):
            for key, inner in value.items():
                name = f"{path}.{key}" if path else str(key)
                if NUL in key:
                    errors[name.replace(NUL, "\\u0000")] = [NUL_MESSAGE]
                else:
                    stack.append((inner, name, depth + 1))
        elif isinstance(value, list):
            stack.extend((inner, f"{path}.{index}" if path else str(index), depth + 1)
                         for index, inner in enumerate(value))
        elif isinstance(value, str) and NUL in value:
            errors[path or "_body"] = [NUL_MESSAGE]
    if errors:
        raise InvalidInput(errors)


def refuse_nul(pairs):
    """Refuse NUL in (name, text) pairs: path parts, query arguments, form
    fields (every value of a repeated name)."""
    errors = {name.replace(NUL, "\\u0000"): [NUL_MESSAGE] for name, value in pairs
              if NUL in name or (isinstance(value, str) and NUL in value)}
    if errors:
        raise InvalidInput(errors)
