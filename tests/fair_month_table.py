"""The hand-written table of tests/test_fair_month.py: what ten complaints of
November 2026 must cost and whom they must tell, worked out by hand from the
regulation (regulation.zh.txt; SPEC §4's amounts, issue 13's warnings and
notices). Nothing here is computed by the code under test: every amount is a
literal, each with the sum that gives it.

People (data/organisation/demo.yaml):
- 恒大御景半岛 GZ-P01, a capital project of 广州公司 (rc-gz) and 金碧物业广州公司 (pc-gz);
  specialists 李思琪 p01-spec-1 and 王梓涵 p01-spec-2.
- property categories (maintenance_repair): handler 温嘉欣 pcgz-head (bonus ¥12,000),
  supervising leader 邱晓峰 pcgz-vp-service; the company's other leaders pcgz-vp-eng,
  pcgz-vp-quality; chairman 叶永康 pcgz-chairman (Art. 20, 21).
- sales_contract: handler 冯晓东 rcgz-mkt-head (bonus ¥10,000), supervising leader 宋佳
  rcgz-vp-mkt (Art. 21, 36).
- centre: GM 周明华 centre-gm, deputy GM 林静怡 centre-deputy-gm, staff centre-staff-1..3.

The complaints (times Asia/Shanghai; "Mon 2" is Monday 2 November 2026):
A  Mon 2  property, at the desk: every step in time, closed the same day.
B  Tue 3  resolved on the spot (Art. 12): no order at all.
C  Wed 4  contact ended 10:00, submitted 10:42: 12 min late, 3 started 5-minute blocks
          (Art. 18): p01-spec-1 ¥300. Warned at 10:20; the deputy GM told at 10:30.
D  Thu 5  submitted 10:10 (sign due 11:10), reviewed 10:13, the GM signs 11:28: the order
          waits 75 min for him, 18 min past the deadline, 4 blocks: centre-gm ¥400
          (Art. 14, 18). Warned at 11:00 (he holds it); the chairman answering for the
          project (property: pcgz-chairman) told at 11:10 (issue 13: GM -> chairman).
E  Mon 9  sales_contract, routed 10:12: no visit by 11:12; visited on the 11th with the
          plan: visit 20% of ¥10,000 = ¥2,000, plan ¥300 (Art. 22, 35); no progress on the
          10th, 11th, 12th: 3 x ¥200 = ¥600 (Art. 26, 35); closure applied on the 13th.
F  Tue 10 property, routed 10:12: a blocked visit recorded at 14:00 stating 10:20 (hours
          before its receipt: judged by the receipt, issue 13): visit 20% of ¥12,000 =
          ¥2,400 and plan ¥300 charged at 11:12; the deputy GM accepts the stated time at
          15:00: both reversed (-¥2,400, -¥300). The blocked-visit record itself was late
          (due 11:20, Art. 23): escalated to the leaders, no fine.
G  Wed 11 a phone complaint: the customer gets the signing link (Art. 13) and never signs;
          requested completion 12:00, routed 12:10: no deadline until the visit; agreed at
          the visit 13 Nov 12:00 (warned a day before); closed in time. The specialist's
          09:30 reminders of the 12th and 13th list it unsigned.
H  Mon 2  sales_contract, completion due 6 Nov 18:00, closure applied 16 Nov 17:00: 10
          started days overdue (SPEC §4's worked example, Art. 36): handler 7 x ¥100 +
          3 x ¥200 = ¥1,300; supervising leader 7 x ¥50 + 3 x ¥100 = ¥650. Progress every
          day (nothing else charged). Warned on the 5th at 18:00; the supervising leader
          told on overdue days 1 and 8.
I  Thu 12 recorded 10:00 by p01-spec-2 and left unsubmitted: warned 10:20, the deputy told
          10:30, the running fine announced at 11:30 to her and the GM; voided at 11:40 by
          the deputy GM (a duplicate): costs nobody anything.
J  Mon 16 property, escalated to a major complaint at 11:00 (Art. 33): the chairman takes
          it over (told as its handler); meeting held 15:00, minutes the next morning; on the
          GM's 08:30 list of the 17th; closed on the 17th.
"""
from decimal import Decimal

SPEC, SPEC2 = "p01-spec-1", "p01-spec-2"
DEPUTY, GM = "centre-deputy-gm", "centre-gm"
PROP_HEAD, PROP_LEADER, PROP_CHAIRMAN = "pcgz-head", "pcgz-vp-service", "pcgz-chairman"
PROP_LEADERS = ("pcgz-vp-service", "pcgz-vp-eng", "pcgz-vp-quality")
MKT_HEAD, MKT_LEADER = "rcgz-mkt-head", "rcgz-vp-mkt"
CUSTOMER = None          # an SMS to the customer's phone names no person

# -- the ledger: every line November must hold, (complaint, person, rule, amount) ----------
LEDGER = sorted([
    ("C", SPEC, "order_submit", Decimal("300.00")),           # 12 min: 3 started blocks x ¥100
    ("D", GM, "order_sign", Decimal("400.00")),               # 18 min: 4 started blocks x ¥100
    ("E", MKT_HEAD, "visit", Decimal("2000.00")),             # 20% x ¥10,000
    ("E", MKT_HEAD, "plan", Decimal("300.00")),
    *[("E", MKT_HEAD, "progress", Decimal("200.00"))] * 3,    # 10, 11, 12 Nov
    ("F", PROP_HEAD, "visit", Decimal("2400.00")),            # 20% x ¥12,000 ...
    ("F", PROP_HEAD, "visit", Decimal("-2400.00")),           # ... reversed: time accepted
    ("F", PROP_HEAD, "plan", Decimal("300.00")),
    ("F", PROP_HEAD, "plan", Decimal("-300.00")),
    *[("H", MKT_HEAD, "overdue", Decimal("100.00"))] * 7,     # days 1-7
    *[("H", MKT_HEAD, "overdue", Decimal("200.00"))] * 3,     # days 8-10
    *[("H", MKT_LEADER, "overdue", Decimal("50.00"))] * 7,
    *[("H", MKT_LEADER, "overdue", Decimal("100.00"))] * 3,
], key=repr)

# -- the November report: (person, rule) -> (lines, amount) --------------------------------
REPORT = {
    (SPEC, "order_submit"): (1, Decimal("300.00")),
    (GM, "order_sign"): (1, Decimal("400.00")),
    (MKT_HEAD, "visit"): (1, Decimal("2000.00")),
    (MKT_HEAD, "plan"): (1, Decimal("300.00")),
    (MKT_HEAD, "progress"): (3, Decimal("600.00")),
    (MKT_HEAD, "overdue"): (10, Decimal("1300.00")),
    (MKT_LEADER, "overdue"): (10, Decimal("650.00")),
    (PROP_HEAD, "visit"): (2, Decimal("0.00")),
    (PROP_HEAD, "plan"): (2, Decimal("0.00")),
}
# 300 + 400 + 2,000 + 300 + 600 + 1,300 + 650 = 5,550; 31 lines.
REPORT_TOTAL = (31, Decimal("5550.00"))
# rcgz-mkt-head: 2,000 + 300 + 600 + 1,300 = ¥4,200, under the ¥5,000 that needs the
# GM's confirmation: nobody's November needs it.

# -- the notices about each complaint: (complaint, template, recipient) -> count -----------
NOTICES = {
    # A: the order reaches the handler (Art. 19); every warning cancelled by a step in time.
    ("A", "order_dispatched", PROP_HEAD): 1,
    # C: order_submit (Art. 18).
    ("C", "deadline_warning", SPEC): 1,              # 10:20
    ("C", "deadline_missed", DEPUTY): 1,             # 10:30: specialist -> deputy GM
    ("C", "order_dispatched", PROP_HEAD): 1,
    # D: order_sign, held by the GM.
    ("D", "deadline_warning", GM): 1,                # 11:00
    ("D", "deadline_missed", PROP_CHAIRMAN): 1,      # 11:10: GM -> the project's chairman
    ("D", "order_dispatched", PROP_HEAD): 1,
    # E: visit, plan, three progress days.
    ("E", "order_dispatched", MKT_HEAD): 1,
    ("E", "deadline_warning", MKT_HEAD): 2 + 3,      # visit, plan at 11:02; 16:00 x 3
    ("E", "deadline_missed", MKT_LEADER): 2 + 3,     # handler -> supervising leader
    ("E", "visit_overdue_reminder", MKT_HEAD): 1,
    # F: the visit and plan missed at 11:12, the late blocked-visit record escalated.
    ("F", "order_dispatched", PROP_HEAD): 1,
    ("F", "deadline_warning", PROP_HEAD): 2,         # visit, plan at 11:02
    ("F", "deadline_missed", PROP_LEADER): 2,
    ("F", "visit_overdue_reminder", PROP_HEAD): 1,
    **{("F", "escalation", leader): 1 for leader in PROP_LEADERS},   # Art. 23
    # G: the signing link, and the completion agreed at the visit warned a day before.
    ("G", "signing_link", CUSTOMER): 1,
    ("G", "order_dispatched", PROP_HEAD): 1,
    ("G", "deadline_warning", PROP_HEAD): 1,         # 12 Nov 12:00
    # H: the completion deadline and the overdue tiers (Art. 36).
    ("H", "order_dispatched", MKT_HEAD): 1,
    ("H", "deadline_warning", MKT_HEAD): 1,          # 5 Nov 18:00
    ("H", "deadline_missed", MKT_LEADER): 2,         # overdue days 1 and 8
    # I: order_submit running, then voided.
    ("I", "deadline_warning", SPEC2): 1,             # 10:20
    ("I", "deadline_missed", DEPUTY): 1,             # 10:30
    ("I", "deadline_missed", SPEC2): 1,              # 11:30, the running fine
    ("I", "deadline_missed", GM): 1,                 # 11:30, the running fine
    # J: routed to the head, then to the chairman as handler of a major complaint.
    ("J", "order_dispatched", PROP_HEAD): 1,
    ("J", "order_dispatched", PROP_CHAIRMAN): 1,
}

# Texts: each warning and each miss names the step, the due time and what it costs.
NOTICE_TEXTS = {
    ("C", "deadline_warning", SPEC): ["督办令报批", "11月4日 10:30", "每延迟5分钟扣罚责任人100元",
                                      "第十八条"],
    ("C", "deadline_missed", DEPUTY): ["督办令报批", "李思琪"],
    ("D", "deadline_warning", GM): ["督办令签发", "11月5日 11:10", "每延迟5分钟"],
    ("D", "deadline_missed", PROP_CHAIRMAN): ["督办令签发", "周明华"],
    ("E", "deadline_missed", MKT_LEADER): ["冯晓东"],
    ("G", "deadline_warning", PROP_HEAD): ["11月13日 12:00"],     # the time agreed at the visit
    ("G", "signing_link", CUSTOMER): ["王小明您好", "签名确认"],
    ("H", "deadline_warning", MKT_HEAD): ["11月6日 18:00"],
    ("I", "deadline_missed", GM): ["已超时1小时"],
}

# -- notices about no single complaint, that matter ---------------------------------------
# (template, recipient, local day) -> the complaint keys the message must name (exactly),
# or a part of its text (a list by department names no complaint).
DAILY = {
    # Art. 13: the specialist's 09:30 reminder lists G while the customer has not signed.
    ("daily_reminder", SPEC, "2026-11-12"): ["G"],
    ("daily_reminder", SPEC, "2026-11-13"): ["G"],
    # Art. 19: every morning at 09:30 each handler (and chairman) is reminded of their
    # signed, unfinished complaints: H from the 3rd (signed after 09:30 on the 2nd) to the
    # 16th (closed that evening), E from the 10th to the 13th; F on the 11th, G on the 12th
    # and 13th; J, the chairman's from its escalation, on the 17th. A, C, D were signed and
    # closed between two mornings.
    **{("daily_reminder", MKT_HEAD, f"2026-11-{day:02d}"):
       ["H", "E"] if 10 <= day <= 13 else ["H"] for day in range(3, 17)},
    ("daily_reminder", PROP_HEAD, "2026-11-11"): ["F"],
    ("daily_reminder", PROP_HEAD, "2026-11-12"): ["G"],
    ("daily_reminder", PROP_HEAD, "2026-11-13"): ["G"],
    ("daily_reminder", PROP_CHAIRMAN, "2026-11-11"): ["F"],
    ("daily_reminder", PROP_CHAIRMAN, "2026-11-12"): ["G"],
    ("daily_reminder", PROP_CHAIRMAN, "2026-11-13"): ["G"],
    ("daily_reminder", PROP_CHAIRMAN, "2026-11-17"): ["J"],
    # Art. 30: the deputy GM's 08:30 overdue summary, H on each of its ten overdue mornings.
    **{("daily_overdue_summary", DEPUTY, f"2026-11-{day:02d}"): ["H"] for day in range(7, 17)},
    # Art. 31: every Monday 09:00, last week's unfinished complaints by department to the GM
    # (a report: sent on a week with none too). H (marketing) is open on the 9th and 16th.
    ("weekly_carryover", GM, "2026-11-02"): "共0件：无",
    ("weekly_carryover", GM, "2026-11-09"): "共1件：营销部1件",
    ("weekly_carryover", GM, "2026-11-16"): "共1件：营销部1件",
    ("weekly_carryover", GM, "2026-11-23"): "共0件：无",
    ("weekly_carryover", GM, "2026-11-30"): "共0件：无",
    # Art. 33: the GM's 08:30 list of major complaints, J on its second day.
    ("daily_major_list", GM, "2026-11-17"): ["J"],
}
# Templates whose every message of the month is in DAILY (no other day sends one).
DAILY_COMPLETE = ("daily_overdue_summary", "weekly_carryover", "daily_major_list")
