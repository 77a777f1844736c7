"""What the sweeps send: a person allowed to call each route, values for its
path arguments, a valid body for every route that takes one (so a refusal
is about what is checked, not a missing field), and the hostile strings.

Every route of the gateway's table must have its entry here; the tests
check that, so a new route cannot slip past the sweep.
"""
import re
from datetime import timedelta

from marshmallow import fields

from services.gateway.api import ROUTES
from services.intake.tests.helpers import NOW, form

# -- hostile text ---------------------------------------------------------------------------

SQL_DROP = "'; DROP TABLE intake.complaints; --"
SQL_OR = "' OR '1'='1"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=\"document.title='xss'\">"
TEMPLATE = "{{7*7}}${7*7}<%= 7*7 %>"
RTL_EMOJI = "\u202eabc\u202c مرحبا שלום 😀👍🏽 家"
NUL_TEXT = "before\u0000after"
LONG = "长" * 100_000

INJECTIONS = (SQL_DROP, SQL_OR, SCRIPT, IMG, TEMPLATE, RTL_EMOJI)
HOSTILE = INJECTIONS + (NUL_TEXT, LONG)

# -- who calls ------------------------------------------------------------------------------

# a person of the demo organisation (tests/security/conftest.py PEOPLE) per role
ROLE_PEOPLE = {"specialist": "spec", "centre_deputy_gm": "deputy", "centre_gm": "gm",
               "centre_staff": "staff", "admin": "admin", "head": "head",
               "chairman": "chairman", "hr": "hr"}


def caller(route):
    """The person key to call `route` as: one holding a role it needs."""
    if route.public:
        return None
    if route.roles is None:
        return "spec"
    return next(ROLE_PEOPLE[role] for role in sorted(route.roles) if role in ROLE_PEOPLE)


# -- paths ----------------------------------------------------------------------------------

ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
DEFAULTS = {"complaint_id": "C-GZ-2026-000999", "token": "t" * 43, "path": "css/app.css",
            "month": "2026-11", "quarter": "2026-Q4", "media_id": "M-GZ-" + "0" * 32,
            "record_id": "C-GZ-2026-000999-V1", "act_id": "C-GZ-2026-000999-V1",
            "person_id": "p01-spec-1"}


def fill(rule, **values):
    """A URL of a werkzeug rule with its arguments filled in."""
    return ARGUMENT.sub(lambda m: str(values.get(m["name"], DEFAULTS.get(m["name"], "x-1"))),
                        rule)


# -- bodies ---------------------------------------------------------------------------------

def bodies(cid="C-GZ-2026-000999", media="M-GZ-" + "0" * 32, signature="M-GZ-" + "1" * 32,
           now=NOW):
    """A valid body per handler that takes one (None for those that take none)."""
    at = now.isoformat()
    later = (now + timedelta(days=3)).isoformat()
    return {
        "record_complaint": form(),
        "rate_complaint_reception": {"score": 5, "comment": "接待很好"},
        "review_complaint_order": {"decision": "reject", "reason": "请补充诉求"},
        "sign_complaint_order": {"decision": "reject", "reason": "请重新审核"},
        "reopen_complaint": {"reason": "客户再次投诉"},
        "escalate_complaint": {"level": "major", "reason": "影响较大"},
        "record_complaint_callback": {"outcome": "reached", "note": "客户同意改约"},
        "verify_complaint_closure": {"satisfaction": 5, "comment": "客户确认"},
        "review_complaint_closure": {"decision": "reject", "reason": "材料不全"},
        "approve_complaint_closure": {"decision": "reject", "reason": "材料不全"},
        "sign_customer_link": {"signature_media_id": signature},
        "rate_customer_link": {"score": 5, "comment": "很好"},
        "record_complaint_visit": {"outcome": "blocked", "attempted_at": at,
                                   "reason": "客户不在家"},
        "record_complaint_progress": {"note": "已安排维修", "photo_media_ids": [media]},
        "apply_complaint_closure": {"work_done": "更换防水层并修补天花板",
                                    "material_media_ids": [media],
                                    "customer_signature_media_id": signature},
        "raise_complaint_claim": {"amount_claimed": "100.00", "description": "赔偿地板"},
        "report_claim": {"report_text": "书面报告"},
        "decide_claim": {"decision": "reject", "note": "不予支持"},
        "record_complaint_meeting": {"held_at": at, "responsible": "温嘉欣",
                                     "solution": "更换防水层", "due_at": later},
        "file_meeting_minutes": {"minutes_media_id": media},
        "appeal_deduction": {"reason": "当天系统故障"},
        "decide_appeal": {"decision": "rejected", "reason": "理由不成立"},
        "open_sanction_case": {"kind": "reception_attitude", "person_id": "p01-spec-1",
                               "complaint_id": cid, "note": "接待态度差"},
        "decide_sanction_case": {"measure": "bonus", "bonus_percent": "10", "note": "扣奖金"},
        "change_clock": {"advance": "PT1M"},
        "void_complaint": {"reason": "重复登记"},
        "accept_act_time": {"reason": "现场无信号，回到办公室后补录"},
        "confirm_person_month": {"note": "已核实"},
        "refer_person_month": {"note": "移交处分"},
        "file_measures": {"unit_id": "rc-gz.engineering",
                          "text": "加强防水工程的进场验收，每周抽查一次。", "media_ids": [media]},
        "request_sign_in_code": {"mobile": "13700000001"},
        "create_session": {"mobile": "13700000001", "code": "123456"},
        "create_demo_session": {"person_id": "centre-gm"},
        "create_oidc_session": {"handoff": "h" * 43},
        "issue_api_token": {"person_id": "hr-1", "label": "报表同步"},
    }


def json_routes():
    """Every route that takes a JSON body or is a POST (a body-less POST still
    refuses a bad body)."""
    return [r for r in ROUTES if r.content == "application/json" and r.method == "POST"]


def multipart_routes():
    return [r for r in ROUTES if r.content.startswith("multipart")]


def text_fields(route, body):
    """The names of the body's text fields (those the schema declares as text)."""
    declared = route.body().fields if route.body is not None else {}
    return [name for name, value in body.items()
            if isinstance(value, str) and isinstance(declared.get(name), fields.String)]
