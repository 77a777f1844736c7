"""Routes over the sla service (SPEC §10): the SMS and other messages sent,
and a complaint's deadlines, each met or missed and by how much.

A mixin of GatewayService, which has `sla = RpcProxy("sla")`. sla checks the
caller again (an admin sees every notification, anyone else only their own).

The list takes `limit` / `offset` like every list (shared.paging; `page` /
`page_size` stay as deprecated aliases). sla's RPC still pages by page
number: an offset that is not a multiple of the limit is answered from the
two pages it straddles.
"""
from services.gateway.api import route
from services.gateway.bodies import MAX_JSON_BYTES
from services.gateway.routes.access import ComplaintAccess
from shared.contracts.sla import (
    DeadlinesView,
    NotificationFilters,
    NotificationView,
    ReceiptsRecorded,
    SlaClient,
)
from shared.errors import InvalidInput
from shared.paging import PAGING_KEYS, Paging, page_answer, page_view

TAGS = ["notifications"]


class NotificationQuery(Paging, NotificationFilters):
    """Filters: status (pending, sent, failed), template, complaint_id, person_id
    (admin only); limit (1-200, default 50) and offset (page / page_size: deprecated)."""
    DEFAULT_LIMIT = 50      # what the list answered before (page_size 50, at most 200)
    MAX_LIMIT = 200


NotificationList = page_view(NotificationView, "NotificationList")


def notifications_page(sla, actor, query):
    """limit / offset over sla's page-numbered list: one page when the offset
    is a multiple of the limit, else the two it straddles, cut to the limit."""
    filters = {key: value for key, value in query.items()
               if value is not None and key not in PAGING_KEYS}
    limit, offset = query["limit"], query["offset"]
    first = offset // limit + 1
    answer = sla.list_notifications(actor, dict(filters, page=first, page_size=limit))
    items, skip = answer["items"], offset % limit
    if skip:
        following = sla.list_notifications(actor, dict(filters, page=first + 1,
                                                       page_size=limit))
        items = (items + following["items"])[skip:skip + limit]
    return page_answer(items, answer["total"], query)


class NotificationRoutes(ComplaintAccess):
    """Routes over the sla service; needs `self.sla` (an RpcProxy), and
    `self.intake` for who may see a complaint's deadlines."""

    def _sla(self):
        return SlaClient(self.sla, self.rpc_timeout())

    @route("GET", "/api/notifications", summary="短信及通知发送记录 (SMS sent, with status)",
           query=NotificationQuery, response=NotificationList, tags=TAGS,
           description="An admin sees every notification; anyone else only the ones sent to "
           "them. Newest first. Pages: limit (1-200, default 50) and offset; page / "
           "page_size are deprecated aliases.")
    def list_notifications(self, request, principal, payload):
        return notifications_page(self._sla(), principal.as_dict(), payload)

    @route("POST", "/api/sms/receipts/<provider>",
           summary="短信送达回执（服务商推送）(SMS delivery receipts pushed by a provider)",
           public=True, content="application/vnd.sms-receipts+json", response=ReceiptsRecorded,
           tags=TAGS, description="`provider`: aliyun (Alibaba Cloud SmsReport batch push), "
           "tencent (Tencent Cloud status callback) or http (the in-house relay). No bearer "
           "token: aliyun and tencent prove themselves with `?token=` (SMS.receipts."
           "<provider>_token, in the callback URL set in their console), http with "
           "`X-Signature: sha256=<HMAC-SHA256 of the body>` (SMS.receipts.http_secret). "
           "401 for a wrong token or signature, 403 when the provider's receipts are not "
           "configured, 404 when no receipt matches a message of ours (a batch with some "
           "known is 200 and lists the others in `unmatched`). A repeated receipt changes "
           "nothing. The body is the provider's own JSON (an array for aliyun and tencent).")
    def record_sms_receipts(self, request, principal, payload, provider):
        request.max_content_length = MAX_JSON_BYTES
        try:
            body = request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput({"body": ["须为 UTF-8 编码的 JSON (must be UTF-8 JSON)"]}) from None
        return self._sla().record_sms_receipts(
            provider[:40], body, token=request.args.get("token"),
            signature=request.headers.get("X-Signature"))

    @route("GET", "/api/complaints/<complaint_id>/deadlines",
           summary="投诉各项时限 (the complaint's deadlines: met, missed and by how much)",
           response=DeadlinesView, tags=["complaints"],
           description="Every deadline of SPEC §4 armed for the complaint: due time, who is "
           "responsible, state (armed, met, missed, cancelled), lateness; order_sign lists "
           "each holder's own minutes past the deadline.")
    def list_complaint_deadlines(self, request, principal, payload, complaint_id):
        self.require_may_see(principal, complaint_id)
        return self._sla().list_timers(complaint_id)
