"""Penalty routes of the gateway (SPEC §10): the deduction ledger, appeals,
the monthly report for HR and Finance, rankings, sanction cases and the
quarterly systemic-issue analysis.

A mixin of GatewayService: the gateway adds it to its bases with a
`penalty = RpcProxy("penalty")` attribute. Routes check the caller's role
and the request's shape, then pass the raw body to penalty, which checks
everything again (who may see whose lines, who decides).
"""
import base64
import json

from werkzeug.wrappers import Response

from services.gateway.api import route
from shared.contracts.penalty import PenaltyClient, access
from shared.contracts.penalty import forms as penalty_forms
from shared.contracts.penalty import views as penalty_views
from shared.paging import Paging, page_of_all, page_view, without_paging

LEDGER_TAGS = ["deductions"]
REPORT_TAGS = ["reports"]
CASE_TAGS = ["sanctions"]


# -- bodies and queries: the contract's forms under the names of the OpenAPI document
# (penalty validates the raw body again with the same classes) ----------------------------

class DeductionQuery(penalty_forms.DeductionFilters):
    """month (YYYY-MM), person_id (`me`: the caller), rule; limit (≤ 1000) and offset."""


class AppealBody(penalty_forms.AppealForm):
    """申诉理由 (the reason of the appeal)."""


class AppealDecisionBody(penalty_forms.AppealDecisionForm):
    """upheld: a reversing line is added; rejected: nothing changes."""


class AppealQuery(Paging, penalty_forms.AppealFilters):
    """status, person_id (`me`: the caller); limit (1-100, default 20) and offset."""


class ReportQuery(penalty_forms.ReportQuery):
    """format: json (default), csv or xlsx (the file); revision: default the latest."""


class ReviewBody(penalty_forms.ReviewForm):
    """The centre GM's optional note on a person's month above the threshold."""


class CaseBody(penalty_forms.CaseForm):
    """Art. 11 (reception_attitude) or Art. 17 (concealed): the GM opens a case."""


class CaseDecisionBody(penalty_forms.CaseDecisionForm):
    """measure within the case's `allowed`; bonus_percent, amount or pay_grades as it needs."""


class CaseQuery(Paging, penalty_forms.CaseFilters):
    """status, person_id, kind; limit (1-100, default 20) and offset."""


class MeasuresBody(penalty_forms.MeasuresForm):
    """Art. 42: a named department's improvement measures (unit_id, text, media_ids)."""


class RevisionQuery(Paging):
    """limit (1-100, default 20) and offset."""


# -- answers: the contract's views; a list method's answer is paged here (SPEC §10:
# {"items", "total", "limit", "offset"}): penalty answers these lists whole (appeals and
# cases: at most 200, oldest first) -------------------------------------------------------

AppealList = page_view(penalty_views.AppealView, "AppealList")
CaseList = page_view(penalty_views.CaseView, "CaseList")
RevisionList = page_view(penalty_views.ReportRevision, "RevisionList")


def _raw_json(request):
    return json.loads(request.get_data(cache=True) or b"{}")


ME = "me"


def _args(request, principal=None):
    """The query string; `person_id=me` names the caller (the 我的扣罚 page: HR and
    the centre see everyone's lines unless they ask for their own)."""
    args = request.args.to_dict()
    if principal is not None and args.get("person_id") == ME:
        args["person_id"] = principal.person_id
    return args


def _filters(request, principal=None):
    """The query string without its paging (penalty answers the whole list)."""
    return without_paging(_args(request, principal))


class PenaltyRoutes:
    """Routes over the penalty service; needs `self.penalty` (an RpcProxy)."""

    def _penalty(self):
        return PenaltyClient(self.penalty, self.rpc_timeout())

    # -- the ledger ---------------------------------------------------------------------------

    @route("GET", "/api/deductions", summary="扣罚明细 (ledger lines)", query=DeductionQuery,
           response=penalty_views.LinePage, tags=LEDGER_TAGS,
           description="HR, Finance and centre roles see every line; anyone else only their own. "
           "person_id=me: the caller's own lines.")
    def list_deductions(self, request, principal, payload):
        return self._penalty().list_deductions(principal.as_dict(), _args(request, principal))

    @route("GET", "/api/deductions/<deduction_id>", summary="一笔扣罚 (one ledger line)",
           response=penalty_views.LineView, tags=LEDGER_TAGS)
    def get_deduction(self, request, principal, payload, deduction_id):
        return self._penalty().get_deduction(principal.as_dict(), deduction_id)

    # -- appeals ---------------------------------------------------------------------------------

    @route("POST", "/api/deductions/<deduction_id>/appeal",
           summary="申诉 (appeal your own deduction)", body=AppealBody,
           response=penalty_views.AppealView, status=201, tags=LEDGER_TAGS,
           description="Only the person charged, once per line (409 the second time).")
    def appeal_deduction(self, request, principal, payload, deduction_id):
        return 201, self._penalty().appeal_deduction(principal.as_dict(), deduction_id,
                                                       _raw_json(request))

    @route("GET", "/api/appeals", summary="申诉列表 (appeals)", query=AppealQuery,
           response=AppealList, tags=LEDGER_TAGS,
           description="The centre GM, HR, Finance and centre roles see every appeal; anyone "
           "else only their own. person_id=me: the caller's own appeals.")
    def list_appeals(self, request, principal, payload):
        return page_of_all(self._penalty().list_appeals(
            principal.as_dict(), _filters(request, principal)), payload)

    @route("POST", "/api/appeals/<appeal_id>/decision", summary="裁决申诉 (GM decides an appeal)",
           roles=access.APPEAL_DECIDERS, body=AppealDecisionBody,
           response=penalty_views.AppealView, tags=LEDGER_TAGS,
           description="Once: a second decision is refused (409).")
    def decide_appeal(self, request, principal, payload, appeal_id):
        return self._penalty().decide_appeal(principal.as_dict(), appeal_id, _raw_json(request))

    # -- the monthly report (Art. 36) -------------------------------------------------------------

    @route("GET", "/api/reports/monthly/<month>", summary="月度扣罚报表 (the monthly report)",
           roles=access.REPORT_READERS, query=ReportQuery, response=penalty_views.ReportView,
           tags=REPORT_TAGS, description="The latest revision (`?revision=N`: an earlier one; "
           "`/revisions` lists them), with `review`: the people above the threshold and "
           "whether the GM confirmed or referred them. `?format=csv|xlsx` answers the file "
           "itself (Content-Disposition: attachment). 409 for a month that has not ended.")
    def get_monthly_report(self, request, principal, payload, month):
        answer = self._penalty().monthly_report(principal.as_dict(), month, _args(request))
        if "content_b64" not in answer:
            return answer
        return Response(base64.b64decode(answer["content_b64"]), status=200,
                        mimetype=answer["content_type"],
                        headers={"Content-Disposition":
                                 f'attachment; filename="{answer["filename"]}"',
                                 "X-Content-SHA256": answer["sha256"]})

    @route("POST", "/api/reports/monthly/<month>/issue",
           summary="出具（或重新出具）月度扣罚报表 (issue the monthly report)",
           roles=access.REPORT_ISSUERS, response=penalty_views.ReportView, tags=REPORT_TAGS,
           description="Cuts the month (steps never done are charged up to its end), then "
           "issues a new revision only if lines arrived since the last (`changes` lists "
           "them). 409 until sla has fired every timer due in the month (the report then "
           "comes by itself). A line arriving for a reported month issues a new revision at "
           "once, without this call.")
    def issue_monthly_report(self, request, principal, payload, month):
        return self._penalty().issue_monthly_report(principal.as_dict(), month)

    @route("GET", "/api/reports/monthly/<month>/revisions",
           summary="月度扣罚报表的各版 (every revision of the month's report)",
           roles=access.REPORT_READERS, query=RevisionQuery, response=RevisionList,
           tags=REPORT_TAGS,
           description="Oldest first: when each was issued and why (monthly_report.due, "
           "on_demand, late_line: a line arrived for the reported month), its totals and how "
           "many lines it added. `GET /api/reports/monthly/{month}?revision=N` answers one.")
    def list_report_revisions(self, request, principal, payload, month):
        return page_of_all(self._penalty().list_report_revisions(principal.as_dict(), month),
                           payload)

    @route("POST", "/api/reports/monthly/<month>/people/<person_id>/confirm",
           summary="总经理确认超过阈值的月度扣罚 (GM confirms a person's heavy month)",
           roles=access.REPORT_REVIEWERS, body=ReviewBody, response=penalty_views.ReportView,
           tags=REPORT_TAGS,
           description="A person's deductions in the month above the threshold (setting "
           "PENALTY_GM_CONFIRM_ABOVE, default ¥5,000) are flagged 需总经理确认; the GM confirms "
           "the amount of the latest revision (HR then takes it as final). 409: not above the "
           "threshold, already confirmed for this amount, or referred. A later revision that "
           "changes the amount needs the GM again. Answers the report with `review`.")
    def confirm_person_month(self, request, principal, payload, month, person_id):
        return self._penalty().confirm_person_month(principal.as_dict(), month, person_id,
                                                    _raw_json(request))

    @route("POST", "/api/reports/monthly/<month>/people/<person_id>/refer",
           summary="总经理将超过阈值的月度扣罚移交处分案件 (GM refers a heavy month to a case)",
           roles=access.REPORT_REVIEWERS, body=ReviewBody, response=penalty_views.ReportView,
           tags=REPORT_TAGS,
           description="Opens a sanction case (kind monthly_review) with the month's amount; "
           "the report shows the person as referred to that case until it is decided. The "
           "ledger is untouched (append-only). 409: not above the threshold or already "
           "referred.")
    def refer_person_month(self, request, principal, payload, month, person_id):
        return self._penalty().refer_person_month(principal.as_dict(), month, person_id,
                                                  _raw_json(request))

    @route("GET", "/api/rankings/<month>", summary="月度排名与考评 (rankings and assessments)",
           roles=access.RANKING_READERS, response=penalty_views.RankingsView, tags=REPORT_TAGS,
           description="A running month is ranked so far (`complete` false); a closed month "
           "answers the snapshot frozen and published at its close (Art. 38, `frozen` true, "
           "event rankings.published), which never changes.")
    def get_rankings(self, request, principal, payload, month):
        return self._penalty().rankings(principal.as_dict(), month)

    @route("POST", "/api/analyses/<quarter>/issue",
           summary="出具季度系统性问题分析 (issue the quarterly analysis, Art. 42)",
           roles=access.ANALYSIS_ISSUERS, response=penalty_views.IssuedAnalysisView,
           tags=REPORT_TAGS, description="Issued by itself at the close of the quarter's last "
           "month; this issues it again on demand (a new revision only if something changed). "
           "The heads of each newly named department are texted.")
    def issue_analysis(self, request, principal, payload, quarter):
        return self._penalty().issue_analysis(principal.as_dict(), quarter)

    @route("GET", "/api/analyses/<quarter>", summary="季度系统性问题分析 (the quarterly analysis)",
           roles=access.ANALYSIS_READERS, response=penalty_views.AnalysisView, tags=REPORT_TAGS,
           description="Names only the departments with a systemic problem (`criteria`: at "
           "least PENALTY_ANALYSIS_CATEGORY_MIN complaints of one category in the quarter, or "
           "a room complained about more than PENALTY_ANALYSIS_REPEAT_ROOM_ABOVE times), each "
           "with why, its heads and its measures: filed, pending or overdue (15 days, Art. "
           "42). Heads read it too; the measures' text and files only of their own department. "
           "`may_file`: the departments whose measures the reader may still file.")
    def get_analysis(self, request, principal, payload, quarter):
        return self._penalty().get_analysis(principal.as_dict(), quarter)

    @route("POST", "/api/analyses/<quarter>/measures",
           summary="报备系统性问题优化措施 (a named department files its measures, Art. 42)",
           roles=access.MEASURES_FILERS, body=MeasuresBody, response=penalty_views.MeasuresView,
           status=201, tags=REPORT_TAGS,
           description="The head of a department the quarter's analysis names, once: `unit_id` "
           "as the analysis names it, the measures' `text`, and `media_ids` of files uploaded "
           "first (POST /api/media, kind material or photo, by the head). 404: not issued, or "
           "the department is not named; 403: not its head; 409: already filed. Announced "
           "as `measures.filed` (meets sla's systemic_measures deadline); the centre's GM and "
           "deputy GM are texted.")
    def file_measures(self, request, principal, payload, quarter):
        return 201, self._penalty().file_measures(principal.as_dict(), quarter,
                                                  _raw_json(request))

    # -- sanction cases ------------------------------------------------------------------------

    @route("GET", "/api/sanction-cases", summary="处分案件 (sanction cases)",
           roles=access.CASE_READERS, query=CaseQuery, response=CaseList, tags=CASE_TAGS)
    def list_sanction_cases(self, request, principal, payload):
        return page_of_all(self._penalty().list_sanction_cases(principal.as_dict(),
                                                               _filters(request)), payload)

    @route("POST", "/api/sanction-cases", summary="立案 (GM opens an Art. 11 / 17 case)",
           roles=access.CASE_OPENERS, body=CaseBody, response=penalty_views.CaseView,
           status=201, tags=CASE_TAGS)
    def open_sanction_case(self, request, principal, payload):
        return 201, self._penalty().open_sanction_case(principal.as_dict(), _raw_json(request))

    @route("POST", "/api/sanction-cases/<case_id>/decision",
           summary="处分决定 (GM or HR records the decision)", roles=access.CASE_DECIDERS,
           body=CaseDecisionBody, response=penalty_views.CaseView, tags=CASE_TAGS,
           description="Within the case's `allowed` range; once (409 the second time).")
    def decide_sanction_case(self, request, principal, payload, case_id):
        return self._penalty().decide_sanction_case(principal.as_dict(), case_id,
                                                    _raw_json(request))
