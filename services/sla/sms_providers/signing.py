"""How Alibaba Cloud and Tencent Cloud sign an API request: pure functions,
checked against the examples of the providers' own documentation
(services/sla/tests/test_sms_providers.py).

- Alibaba Cloud's RPC-style API (SignatureVersion 1.0): the parameters sorted
  by name, each name and value percent-encoded (RFC 3986: only A-Z a-z 0-9
  - _ . ~ stay as they are; a space is %20), joined `k=v&...`; the string to
  sign is `METHOD&%2F&` + that query percent-encoded once more; the signature
  is Base64(HMAC-SHA1(AccessKeySecret + "&", string to sign)).
- Tencent Cloud's TC3-HMAC-SHA256 (API 3.0): a canonical request (method, `/`,
  empty query, the signed headers `content-type` and `host`, the SHA-256 of
  the exact body), a string to sign with the UTC date's credential scope
  `date/service/tc3_request`, a key derived by HMAC-SHA256 from "TC3" +
  SecretKey through date, service and "tc3_request", and the Authorization
  header `TC3-HMAC-SHA256 Credential=.../scope, SignedHeaders=..., Signature=hex`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

TC3 = "TC3-HMAC-SHA256"
TC3_SIGNED_HEADERS = "content-type;host"


def percent_encode(value: str) -> str:
    """Alibaba Cloud's encoding: RFC 3986 unreserved characters stay, the rest %XY (UTF-8)."""
    return quote(str(value), safe="-_.~")


def aliyun_canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}"
                    for k, v in sorted(params.items()) if k != "Signature")


def aliyun_string_to_sign(params: Mapping[str, str], method: str = "POST") -> str:
    return f"{method.upper()}&{percent_encode('/')}&" \
           f"{percent_encode(aliyun_canonical_query(params))}"


def aliyun_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """The `Signature` parameter of an RPC-style request (HMAC-SHA1, Base64)."""
    digest = hmac.new(f"{secret}&".encode(), aliyun_string_to_sign(params, method).encode(),
                      hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _hmac256(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_date(timestamp: int) -> str:
    """The credential scope's date: the UTC date of the request's timestamp."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def tc3_canonical_request(body: bytes, content_type: str, host: str) -> str:
    return "\n".join(["POST", "/", "", f"content-type:{content_type}\nhost:{host}\n",
                      TC3_SIGNED_HEADERS, hashlib.sha256(body).hexdigest()])


def tc3_string_to_sign(body: bytes, content_type: str, host: str, service: str,
                       timestamp: int) -> str:
    scope = f"{tc3_date(timestamp)}/{service}/tc3_request"
    hashed = hashlib.sha256(tc3_canonical_request(body, content_type, host).encode()).hexdigest()
    return f"{TC3}\n{timestamp}\n{scope}\n{hashed}"


def tc3_signature(secret_key: str, service: str, timestamp: int, string_to_sign: str) -> str:
    key = _hmac256(f"TC3{secret_key}".encode(), tc3_date(timestamp))
    key = _hmac256(_hmac256(key, service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_authorization(secret_id: str, secret_key: str, *, body: bytes, content_type: str,
                      host: str, service: str, timestamp: int) -> str:
    """The `Authorization` header of a POST to Tencent Cloud API 3.0."""
    to_sign = tc3_string_to_sign(body, content_type, host, service, timestamp)
    signature = tc3_signature(secret_key, service, timestamp, to_sign)
    return (f"{TC3} Credential={secret_id}/{tc3_date(timestamp)}/{service}/tc3_request, "
            f"SignedHeaders={TC3_SIGNED_HEADERS}, Signature={signature}")
