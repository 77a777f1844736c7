"""The gateway's sla routes (services/gateway/routes/notifications.py) over
HTTP, in a probe service that has the mixin and the gateway's plumbing but
knows its callers from a fixed token table, against a real sla container."""
import socket
from datetime import timedelta

import pytest
import requests
from nameko.rpc import RpcProxy
from openapi_spec_validator import validate

from services.gateway.auth import Principal, bearer_token
from services.gateway.openapi import build_spec
from services.gateway.routes.notifications import NotificationRoutes
from services.sla.tests.helpers import CID, HANDLER, at
from services.sla.tests.producers import (
    REQUESTED,
    publish_signed_order,
    routed_data,
    scalar,
    wait_until,
)
from shared.errors import Unauthenticated

pytestmark = pytest.mark.integration

PEOPLE = {"admin-token": Principal("admin-1", "管理员", frozenset({"admin"})),
          "handler-token": Principal(HANDLER["person_id"], HANDLER["name"], frozenset({"head"})),
          "gm-token": Principal("centre-gm", "总经理", frozenset({"centre_gm"}))}


class GatewayProbe(NotificationRoutes):
    name = "gateway_probe"
    sla = RpcProxy("sla")

    def rpc_timeout(self):
        return 10

    def authenticate(self, request):
        principal = PEOPLE.get(bearer_token(request.headers.get("Authorization")))
        if principal is None:
            raise Unauthenticated("unknown token")
        return principal


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api(container_factory, sla_config, start_sla, producers, sim_clock, clean_database):
    sim_clock.set(at("11:10"))
    start_sla()
    port = free_port()
    probe = container_factory(GatewayProbe, dict(sla_config,
                                                 WEB_SERVER_ADDRESS=f"127.0.0.1:{port}"))
    probe.start()
    g = publish_signed_order(producers)
    producers.dispatch("complaint.routed", routed_data(g, REQUESTED), g)
    wait_until(lambda: scalar(clean_database, "SELECT count(*) FROM sla.notifications "
                                              "WHERE status = 'sent'"))
    sim_clock.set(g + timedelta(minutes=61))
    wait_until(lambda: scalar(clean_database, "SELECT count(*) FROM sla.timers "
                                              "WHERE rule = 'visit' AND state = 'missed'"))

    def get(path, token, **params):
        return requests.get(f"http://127.0.0.1:{port}{path}", params=params, timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    return get


def test_notifications_route_admin_sees_all_a_person_their_own(api):
    everyone = api("/api/notifications", "admin-token")
    assert everyone.status_code == 200
    # The dispatch SMS and the visit reminder to the handler; each of the two
    # supervising leaders told of the missed visit and plan (issue 13).
    assert everyone.json()["total"] == 6
    assert sorted(i["template"] for i in everyone.json()["items"]) == [
        "deadline_missed"] * 4 + ["order_dispatched", "visit_overdue_reminder"]
    mine = api("/api/notifications", "handler-token", status="sent")
    assert mine.status_code == 200 and mine.json()["total"] >= 1
    assert all(i["recipient_person_id"] == HANDLER["person_id"] for i in mine.json()["items"])
    assert api("/api/notifications", "gm-token").json()["total"] == 0
    refused = api("/api/notifications", "gm-token", person_id=HANDLER["person_id"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    bad = api("/api/notifications", "admin-token", status="lost")
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]
    assert api("/api/notifications", "nobody").status_code == 401


def test_deadlines_route_shows_each_deadline_met_or_missed(api):
    answer = api(f"/api/complaints/{CID}/deadlines", "gm-token")
    assert answer.status_code == 200
    by_rule = {t["rule"]: t for t in answer.json()["timers"]}
    assert by_rule["order_submit"]["state"] == "missed"
    assert by_rule["order_submit"]["late_seconds"] == 12 * 60
    assert by_rule["visit"]["state"] == "missed" and by_rule["visit"]["final"] is False
    assert by_rule["order_sign"]["state"] == "met"


def test_the_routes_are_in_a_valid_openapi_document():
    document = build_spec()
    validate(document)
    paths = document["paths"]
    assert "/api/notifications" in paths and "/api/complaints/{complaint_id}/deadlines" in paths
