"""Art. 13 (pure, issue 13): a phone, letter or online complaint is signed by
the customer through a one-time link. On intake's
`complaint.signature_requested` (the first link, or a new one the specialist
or the centre re-sent: `resent`, every earlier link stopped working) sla
sends the customer an SMS with the link (template `signing_link`): the
event's `link_path` joined to `SLA.public_base_url`. The order may go ahead
unsigned; the specialist's 09:30 reminder lists what is still 客户未签名
(jobs.daily_reminder)."""
from __future__ import annotations

from services.sla import messages
from services.sla.decision import Work
from services.sla.model import Event
from services.sla.order_rules import on_intake_facts


def link_url(base_url: str, link_path: str) -> str:
    """`http://host:8000` + `/sign/<token>`: one slash between them."""
    return f"{base_url.rstrip('/')}/{link_path.lstrip('/')}"


def on_signature_requested(work: Work, event: Event) -> Work:
    on_intake_facts(work, event)
    c = work.known
    if not c.open:
        # Voided or closed since (its links were revoked): nothing to sign.
        work.problem("stale", f"投诉 {c.id} 已作废或关闭，签名链接短信未发送 (a signing link of "
                              "a voided or closed complaint was not sent)")
        return work
    d = event.data
    work.send(messages.signing_link(
        c, d.get("customer_name"), d.get("customer_phone"),
        link_url(work.settings.public_base_url, d["link_path"]), d.get("expires_at"),
        bool(d.get("resent")), work.directory, work.settings))
    return work
