"""The penalty service's RPC methods as a typed client.

Callers use `PenaltyClient(proxy)`; the service implements each method under
the same name and signature (the contract tests hold them together). Every
method taking an `actor` also raises Unauthenticated when it is not a
signed-in person; any call may raise Unavailable. A form or filters mapping
is loaded by penalty with the class of `shared.contracts.penalty.forms`
named in the docstring; the answer has the shape of the view named there.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Actor, Form
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

Answer = dict[str, Any]


class PenaltyClient(ServiceClient):
    service = "penalty"

    # -- the ledger -----------------------------------------------------------------------

    @raises(Forbidden, InvalidInput)
    def list_deductions(self, actor: Actor, filters: Form | None = None) -> Answer:
        """DeductionFilters -> LinePage. Readers of the ledger see every line,
        anyone else only their own (Forbidden for another person's)."""
        return self._call("list_deductions", actor, filters=filters)

    @raises(Forbidden, NotFound)
    def get_deduction(self, actor: Actor, deduction_id: str) -> Answer:
        """-> LineView."""
        return self._call("get_deduction", actor, deduction_id)

    # -- appeals ----------------------------------------------------------------------------

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def appeal_deduction(self, actor: Actor, deduction_id: str, form: Form) -> Answer:
        """AppealForm -> AppealView. Only the person charged, once per line."""
        return self._call("appeal_deduction", actor, deduction_id, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def decide_appeal(self, actor: Actor, appeal_id: str, form: Form) -> Answer:
        """AppealDecisionForm -> AppealView. The centre GM, once."""
        return self._call("decide_appeal", actor, appeal_id, form)

    @raises(Forbidden, InvalidInput)
    def list_appeals(self, actor: Actor, filters: Form | None = None) -> list[Answer]:
        """AppealFilters -> a list of AppealView."""
        return self._call("list_appeals", actor, filters=filters)

    # -- sanction cases ---------------------------------------------------------------------

    @raises(Forbidden, InvalidInput)
    def list_sanction_cases(self, actor: Actor, filters: Form | None = None) -> list[Answer]:
        """CaseFilters -> a list of CaseView."""
        return self._call("list_sanction_cases", actor, filters=filters)

    @raises(Forbidden, NotFound, InvalidInput)
    def open_sanction_case(self, actor: Actor, form: Form) -> Answer:
        """CaseForm -> CaseView. NotFound: the person is not in the directory."""
        return self._call("open_sanction_case", actor, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def decide_sanction_case(self, actor: Actor, case_id: str, form: Form) -> Answer:
        """CaseDecisionForm -> CaseView. Within the case's `allowed`, once."""
        return self._call("decide_sanction_case", actor, case_id, form)

    # -- the monthly report (Art. 36) -------------------------------------------------------

    @raises(Forbidden, InvalidInput, Conflict)
    def issue_monthly_report(self, actor: Actor, month: str) -> Answer:
        """-> ReportView. Conflict: the month has not ended, or sla has not yet
        fired every timer due in it (the report then comes by itself)."""
        return self._call("issue_monthly_report", actor, month)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def monthly_report(self, actor: Actor, month: str, query: Form | None = None) -> Answer:
        """ReportQuery -> ReportView (format json) or ReportFile (csv, xlsx).
        NotFound: not issued yet; Conflict: the month has not ended."""
        return self._call("monthly_report", actor, month, query=query)

    @raises(Forbidden, NotFound, InvalidInput)
    def list_report_revisions(self, actor: Actor, month: str) -> list[Answer]:
        """-> a list of ReportRevision, oldest first. NotFound: not issued yet."""
        return self._call("list_report_revisions", actor, month)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def confirm_person_month(self, actor: Actor, month: str, person_id: str,
                             form: Form | None = None) -> Answer:
        """ReviewForm -> ReportView. The centre GM confirms a person's month above
        the threshold. Conflict: not above it, already confirmed or referred."""
        return self._call("confirm_person_month", actor, month, person_id, form=form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def refer_person_month(self, actor: Actor, month: str, person_id: str,
                           form: Form | None = None) -> Answer:
        """ReviewForm -> ReportView. The centre GM refers a person's month above
        the threshold to a sanction case. Conflict: not above it, or referred."""
        return self._call("refer_person_month", actor, month, person_id, form=form)

    # -- rankings (SPEC §5) and the quarterly analysis (Art. 42) --------------------------------

    @raises(Forbidden, InvalidInput, Conflict)
    def rankings(self, actor: Actor, month: str) -> Answer:
        """-> RankingsView. Conflict: the month has not started."""
        return self._call("rankings", actor, month)

    @raises(Forbidden, InvalidInput, Conflict)
    def issue_analysis(self, actor: Actor, quarter: str) -> Answer:
        """-> IssuedAnalysisView. Conflict: the quarter has not ended."""
        return self._call("issue_analysis", actor, quarter)

    @raises(Forbidden, NotFound, InvalidInput)
    def get_analysis(self, actor: Actor, quarter: str) -> Answer:
        """-> AnalysisView. NotFound: not issued yet."""
        return self._call("get_analysis", actor, quarter)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def file_measures(self, actor: Actor, quarter: str, form: Form) -> Answer:
        """MeasuresForm -> MeasuresView. The head of a department the quarter's
        analysis names files its improvement measures (Art. 42), once.
        NotFound: no analysis, or the department is not named in it;
        Forbidden: not its head; Conflict: already filed."""
        return self._call("file_measures", actor, quarter, form)

    def health(self) -> Answer:
        """-> HealthView."""
        return self._call("health")
