"""Helpers of the security sweep (issue 8): requests against the gateway
(also byte for byte, paths not normalised), SPEC §10's error body, the
"nothing changed" snapshot of every service table and of the media bucket,
and the running suite with complaints in the states the checks need.
"""
import http.client
import json
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from minio import Minio
from nameko.web.handlers import HttpRequestHandler

from services.intake.tests.helpers import form
from services.media.tests import samples
from shared.config import REPO_ROOT
from shared.migrate import SCHEMAS
from shared.testing.polling import eventually

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"

# Tables that are pools, not records: media.pending_uploads holds the places
# media reserves ahead for a gateway's uploads (issue 17), taken a few at a
# time whatever the upload's fate. A refused upload's own place goes with its
# object, which the bucket's keys (still compared) show; unused places are swept.
RESERVATIONS = {"media.pending_uploads"}
UPLOAD_LIMIT = 256 * 1024        # MEDIA max_bytes here: an oversized upload stays small

PEOPLE = {
    "spec": {"id": "p01-spec-1", "name": "李思琪"},             # GZ-P01's desk
    "spec2": {"id": "p01-spec-2", "name": "王梓涵"},            # GZ-P01's desk
    "other_spec": {"id": "p03-spec-1", "name": "杨欣怡"},       # GZ-P03's desk only
    "deputy": {"id": "centre-deputy-gm", "name": "林静怡"},
    "gm": {"id": "centre-gm", "name": "周明华"},
    "staff": {"id": "centre-staff-1", "name": "陈晓燕"},
    "head": {"id": "pcgz-head", "name": "温嘉欣"},               # GZ-P01's property company
    "chairman": {"id": "pcgz-chairman", "name": "叶永康"},
    "hr": {"id": "hr-1", "name": "刘丽娟"},
    "admin": {"id": "admin-1", "name": "马骏"},
}


class Api:
    """requests against the running gateway as one person (or no one)."""

    def __init__(self, base, token=None):
        self.base = base
        self.token = token

    def headers(self, extra=None):
        headers = dict(extra or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def call(self, method, path, json=None, data=None, headers=None, **kwargs):
        return requests.request(method, self.base + path, json=json, data=data,
                                headers=self.headers(headers), timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def upload(self, kind="signature", path="/api/media", content=samples.PNG,
               filename="签名.png", **fields):
        if path == "/api/media":
            fields = {"kind": kind, **fields}
        return self.call("POST", path, data=fields,
                         files={"file": (filename, content, "application/octet-stream")})

    def raw(self, method, path, body=b"", headers=None):
        """The request exactly as given: the path is not normalised (no `..`
        removed, no %-escape decoded or added), the body sent as bytes."""
        netloc = urlsplit(self.base).netloc
        connection = http.client.HTTPConnection(netloc, timeout=30)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in self.headers(headers).items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            answer = connection.getresponse()
            return RawResponse(answer.status, dict(answer.getheaders()), answer.read())
        finally:
            connection.close()


class RawResponse:
    def __init__(self, status_code, headers, content):
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.text = content.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)


def error(response, *statuses, code=None):
    """The SPEC §10 error body of a refusal with one of `statuses`."""
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    assert "Traceback" not in response.text and "File \"" not in response.text
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


# -- "nothing changed": every table of every service schema, and the bucket ---------------------

class Snapshot:
    """Row count and a digest of the content of every table of every
    service schema (stronger than counts and the latest updated time: any
    changed column shows), and the media bucket's keys."""

    def __init__(self, database, s3_config):
        self.database = database
        self.bucket = s3_config["bucket"]
        self.s3 = Minio(s3_config["endpoint"], access_key=s3_config["access_key"],
                        secret_key=s3_config["secret_key"], secure=False,
                        region=s3_config["region"])

    def tables(self):
        with self.database.connection() as conn:
            names = [(r["schemaname"], r["tablename"]) for r in conn.execute(
                """SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s)
                   ORDER BY 1, 2""", (list(SCHEMAS),)).fetchall()]
            state = {}
            for schema, table in names:
                if f"{schema}.{table}" in RESERVATIONS:
                    continue
                row = conn.execute(
                    f'''SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY
                        t::text), '')) AS digest FROM "{schema}"."{table}" t''').fetchone()
                state[f"{schema}.{table}"] = (row["n"], row["digest"])
        return state

    def keys(self):
        if not self.s3.bucket_exists(self.bucket):
            return []
        return sorted(o.object_name for o in self.s3.list_objects(self.bucket, recursive=True))

    def take(self):
        return {"tables": self.tables(), "keys": self.keys()}

    def settled(self, quiet=1.5, timeout=20.0):
        """A snapshot once nothing changed for `quiet` seconds: the outbox
        relays, consumers and sla's loops (the SMS one runs every second)
        have finished with what came before."""
        limit = time.monotonic() + timeout
        previous, since = self.take(), time.monotonic()
        while time.monotonic() - since < quiet:
            time.sleep(0.3)
            current = self.take()
            if current != previous:
                assert time.monotonic() < limit, f"still changing after {timeout}s: " + \
                    ", ".join(diff(previous, current))
                previous, since = current, time.monotonic()
        return previous

    @contextmanager
    def unchanged(self):
        """The calls in the block change no table and no stored object."""
        before = self.settled()
        yield
        after = self.settled()
        assert after == before, "changed: " + ", ".join(diff(before, after))


def diff(before, after):
    changed = [name for name in sorted(set(before["tables"]) | set(after["tables"]))
               if before["tables"].get(name) != after["tables"].get(name)]
    if before["keys"] != after["keys"]:
        changed.append(f"bucket keys {sorted(set(after['keys']) ^ set(before['keys']))}")
    return changed


# -- the suite --------------------------------------------------------------------------------

class Suite:
    def __init__(self, base, tokens, database, s3_config, runner):
        self.base = base
        self.tokens = tokens
        self.database = database
        self.s3_config = s3_config
        self.api = {key: Api(base, token) for key, token in tokens.items()}
        self.public = Api(base)
        self.snapshot = Snapshot(database, s3_config)
        self.gateway = runner.service_map["gateway"]

    def as_token(self, token):
        return Api(self.base, token)

    def url_rules(self):
        """(method, rule) of every HTTP entrypoint, from the gateway's werkzeug url map."""
        handlers = [e for e in self.gateway.entrypoints if isinstance(e, HttpRequestHandler)]
        assert handlers, "the gateway has no HTTP entrypoints"
        url_map = handlers[0].server.make_url_map()
        return sorted((method, rule.rule) for rule in url_map.iter_rules()
                      for method in rule.methods if method not in ("HEAD", "OPTIONS"))

    def scalar(self, sql, *args):
        with self.database.connection() as conn:
            row = conn.execute(sql, args).fetchone()
        return None if row is None else next(iter(row.values()))

    def advance(self, duration):
        response = self.api["admin"].post("/api/admin/clock", {"advance": duration})
        assert response.status_code == 200, response.text
        return response.json()

    # -- complaints in the states the checks need --

    def record(self, who="spec", **changes):
        response = self.api[who].post("/api/complaints", form(**changes))
        assert response.status_code == 201, response.text
        return response.json()

    def signature(self, who="spec", **fields):
        response = self.api[who].upload("signature", **fields)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def routed(self, **changes):
        """Recorded with the customer's signature at the desk, the order
        submitted, reviewed and signed, and routed by dispatch."""
        cid = self.record(channel="visit", customer_signature_media_id=self.signature(),
                          **changes)["id"]
        for who, path, body in (("spec", "order/submit", None),
                                ("deputy", "order/review", {"decision": "approve"}),
                                ("gm", "order/sign", {"decision": "approve"})):
            response = self.api[who].post(f"/api/complaints/{cid}/{path}", body)
            assert response.status_code == 200, response.text
        eventually(lambda: self.api["staff"].get(f"/api/complaints/{cid}").json()["handler_id"])
        eventually(lambda: self.api["staff"].get(f"/api/complaints/{cid}/dispatch")
                   .status_code == 200)
        return cid
