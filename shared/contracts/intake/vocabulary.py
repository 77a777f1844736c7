"""The words of intake's contract (SPEC §2, §8): channels, states, decisions,
escalation levels, callback outcomes and who may record a callback.

Intake's rules and its callers (the gateway's routes and forms) read them
from here, so a new state or outcome reaches both in one change.
"""
from __future__ import annotations

from datetime import timedelta

from shared import roles

CHANNELS = ("visit", "phone", "letter", "mobile")
CHANNEL_LABELS = {"visit": "来访", "phone": "来电", "letter": "来函", "mobile": "移动端"}
# The customer is at the desk or on the mobile terminal and signs there; by
# phone or letter the customer signs later through a one-time link (SMS).
SIGNED_AT_DESK = frozenset({"visit", "mobile"})
SIGNED_BY_LINK = ("phone", "letter")

# States of a complaint (SPEC §2). Between `order_signed` and
# `closure_applied` the departments work (visit, progress: dispatch's side);
# closure verification and approval come back to the centre.
RECEIVED = "received"
ORDER_DRAFTED = "order_drafted"
ORDER_SUBMITTED = "order_submitted"
ORDER_REVIEWED = "order_reviewed"
ORDER_SIGNED = "order_signed"
CLOSURE_APPLIED = "closure_applied"
CLOSURE_VERIFIED = "closure_verified"
CLOSURE_REVIEWED = "closure_reviewed"
CLOSED = "closed"
# Recorded by mistake (a duplicate, the wrong customer) and voided by the
# deputy GM before the order was signed: no step acts on it again, it leaves
# every list, and its page and timeline stay for the audit.
VOIDED = "voided"
STATES = (RECEIVED, ORDER_DRAFTED, ORDER_SUBMITTED, ORDER_REVIEWED, ORDER_SIGNED,
          CLOSURE_APPLIED, CLOSURE_VERIFIED, CLOSURE_REVIEWED, CLOSED, VOIDED)
# The states a complaint may be voided in: its order is not signed yet.
VOIDABLE = (RECEIVED, ORDER_DRAFTED, ORDER_SUBMITTED, ORDER_REVIEWED)
STATE_LABELS = {
    RECEIVED: "已受理", ORDER_DRAFTED: "督办单待提交", ORDER_SUBMITTED: "督办单待审核",
    ORDER_REVIEWED: "督办单待签发", ORDER_SIGNED: "督办单已签发", CLOSURE_APPLIED: "已申请结案",
    CLOSURE_VERIFIED: "结案已回访", CLOSURE_REVIEWED: "结案已审核", CLOSED: "已关闭",
    VOIDED: "已作废",
}

# The customer's signature on the record (SPEC §6).
SIG_PENDING = "pending"    # waiting for the customer to sign through the link
SIG_BINDING = "binding"    # signature given; being bound to the record in media
SIG_SIGNED = "signed"      # bound: the record's hash is kept beside the signature
SIG_REFUSED = "refused"    # media refused the bind (the signature went to another record)

# Customer link steps.
STEP_RECORD_SIGNATURE = "record_signature"
STEP_RATING = "rating"

ESCALATION_LEVELS = {"major": "重大投诉", "group": "群体性投诉", "common_issue": "共性问题"}
DECISIONS = ("approve", "reject")

# The centre's callback after a blocked visit (Art. 23).
CALLBACK_OUTCOMES = {
    "reached": "已回访客户 (the customer was reached)",
    "unreachable": "未能联系上客户 (the customer could not be reached)",
    "declined": "客户拒绝回访 (the customer declined to talk)",
}
# Who records it: the article says 售后服务中心 without saying which one, so
# the centre's staff, deputy GM and GM, and a specialist of the project's desk.
CENTRE_CALLBACK_ROLES = (roles.CENTRE_STAFF, roles.CENTRE_DEPUTY_GM, roles.CENTRE_GM)
CALLBACK_ROLES = frozenset(CENTRE_CALLBACK_ROLES + (roles.SPECIALIST,))

# A closure application's status on the centre's side (Art. 28, 29).
APPLIED, VERIFIED, REVIEWED = "applied", "verified", "reviewed"
APPROVED, REJECTED, SUPERSEDED = "approved", "rejected", "superseded"
CLOSURE_LABELS = {APPLIED: "待核查", VERIFIED: "待审核", REVIEWED: "待审批",
                  APPROVED: "已批准结案", REJECTED: "已退回责任部门", SUPERSEDED: "已被新申请取代"}

# The customer's signature through a link can be asked for again (Art. 13): by
# a specialist of the project's desk or by the centre.
SIGNING_LINK_ROLES = frozenset((roles.SPECIALIST,) + CENTRE_CALLBACK_ROLES)

# Times people type for an act (a visit, a blocked visit, a callback) may
# precede the act's receipt by this much (handlers back in signal after a
# visit); beyond it the deadline is judged by the receipt time unless the
# deputy GM accepts the stated time (setting SLA.stated_time_grace_minutes).
STATED_TIME_GRACE_MINUTES = 30

# Bounds on times given at recording (and at a callback).
CONTACT_CLOCK_SKEW = timedelta(minutes=2)   # terminals' clocks drift a little
CONTACT_MAX_AGE = timedelta(days=30)        # older is a typo, not a late recording
REQUESTED_MAX_AHEAD = timedelta(days=730)
