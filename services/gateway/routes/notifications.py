"""Routes over the sla service (SPEC §10): the SMS and other messages sent,
and a complaint's deadlines, each met or missed and by how much.

A mixin of GatewayService, which has `sla = RpcProxy("sla")`. sla checks the
caller again (an admin sees every notification, anyone else only their own).
"""
from services.gateway.api import route
from services.gateway.routes.access import ComplaintAccess
from shared.contracts.sla import DeadlinesView, NotificationFilters, NotificationPage, SlaClient

TAGS = ["notifications"]


class NotificationQuery(NotificationFilters):
    """Filters: status (pending, sent, failed), template, complaint_id, person_id
    (admin only); page, page_size (at most 200)."""


class NotificationRoutes(ComplaintAccess):
    """Routes over the sla service; needs `self.sla` (an RpcProxy), and
    `self.intake` for who may see a complaint's deadlines."""

    def _sla(self):
        return SlaClient(self.sla, self.rpc_timeout())

    @route("GET", "/api/notifications", summary="短信及通知发送记录 (SMS sent, with status)",
           query=NotificationQuery, response=NotificationPage, tags=TAGS,
           description="An admin sees every notification; anyone else only the ones sent to "
           "them. Newest first.")
    def list_notifications(self, request, principal, payload):
        filters = {key: value for key, value in payload.items() if value is not None}
        return self._sla().list_notifications(principal.as_dict(), filters)

    @route("GET", "/api/complaints/<complaint_id>/deadlines",
           summary="投诉各项时限 (the complaint's deadlines: met, missed and by how much)",
           response=DeadlinesView, tags=["complaints"],
           description="Every deadline of SPEC §4 armed for the complaint: due time, who is "
           "responsible, state (armed, met, missed, cancelled), lateness; order_sign lists "
           "each holder's own minutes past the deadline.")
    def list_complaint_deadlines(self, request, principal, payload, complaint_id):
        self.require_may_see(principal, complaint_id)
        return self._sla().list_timers(complaint_id)
