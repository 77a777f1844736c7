"""The penalty service's RPC contract: its methods as a typed client.

Callers use `PenaltyClient(proxy)`; the service implements each
method under the same name and signature (tests/contracts hold them together).
"""

from __future__ import annotations

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Actor, Form, Json
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


class PenaltyClient(ServiceClient):
    service = "penalty"

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def appeal_deduction(self, actor: Actor, deduction_id: str, form: Form) -> Json:
        return self._call("appeal_deduction", actor, deduction_id, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def decide_appeal(self, actor: Actor, appeal_id: str, form: Form) -> Json:
        return self._call("decide_appeal", actor, appeal_id, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def decide_sanction_case(self, actor: Actor, case_id: str, form: Form) -> Json:
        return self._call("decide_sanction_case", actor, case_id, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def get_analysis(self, actor: Actor, quarter: str) -> Json:
        return self._call("get_analysis", actor, quarter)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def get_deduction(self, actor: Actor, deduction_id: str) -> Json:
        return self._call("get_deduction", actor, deduction_id)

    def health(self) -> Json:
        return self._call("health")

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def issue_analysis(self, actor: Actor, quarter: str) -> Json:
        return self._call("issue_analysis", actor, quarter)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def issue_monthly_report(self, actor: Actor, month: str) -> Json:
        return self._call("issue_monthly_report", actor, month)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def list_appeals(self, actor: Actor, filters: Form | None = None) -> Json:
        return self._call("list_appeals", actor, filters=filters)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def list_deductions(self, actor: Actor, filters: Form | None = None) -> Json:
        return self._call("list_deductions", actor, filters=filters)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def list_sanction_cases(self, actor: Actor, filters: Form | None = None) -> Json:
        return self._call("list_sanction_cases", actor, filters=filters)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def monthly_report(self, actor: Actor, month: str, query: Form | None = None) -> Json:
        return self._call("monthly_report", actor, month, query=query)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def open_sanction_case(self, actor: Actor, form: Form) -> Json:
        return self._call("open_sanction_case", actor, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def rankings(self, actor: Actor, month: str) -> Json:
        return self._call("rankings", actor, month)
