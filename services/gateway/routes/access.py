"""Who may read a complaint's parts that other services answer without
knowing who asks (its deadlines, a signed record's check, its files).

Intake decides who may see a complaint (SPEC §8: the centre, the project's
desk, those the routing made answer for it); the gateway asks it before it
shows such a part. A mixin of the route classes; needs `self.intake`.
"""
import re

from services.dispatch.case_repository import PREFIXES
from services.gateway import rpc
from services.penalty import access as penalty_access
from shared import roles
from shared.errors import Forbidden

# intake's rule too: the centre and admins see every complaint, no need to ask
SEES_ALL = roles.CENTRE | {roles.ADMIN}
REPORT_READERS = penalty_access.REPORT_READERS | penalty_access.REPORT_ISSUERS

# A signed dispatch record is `<complaint id>-V<n>` (visit) or `-A<n>` (closure
# application): dispatch's record ids name their complaint.
_SIGNED_RECORD = re.compile(
    rf"^(?P<complaint>.+)-(?:{PREFIXES['visits']}|{PREFIXES['closure_applications']})\d+$")


def complaint_of_record(record_id):
    match = _SIGNED_RECORD.match(record_id or "")
    return match["complaint"] if match else None


class ComplaintAccess:

    def require_may_see(self, principal, complaint_id):
        """Forbidden (403) or NotFound (404) unless `principal` may see the complaint."""
        if principal.has_any(SEES_ALL):
            return
        rpc.call(self.intake, "check_access", principal.as_dict(), complaint_id,
                 timeout=self.rpc_timeout())

    def require_media_access(self, principal, media):
        """A file of a complaint is read by those who may see the complaint;
        one of no complaint (yet) by who uploaded it and the centre; a
        monthly report's file also by the report's readers."""
        if media.get("complaint_id"):
            self.require_may_see(principal, media["complaint_id"])
            return
        if principal.has_any(SEES_ALL) or (
                media.get("uploaded_by") and media["uploaded_by"] == principal.person_id):
            return
        if media.get("kind") == "report" and principal.has_any(REPORT_READERS):
            return
        raise Forbidden("无权查看此文件 (not a file you may see)")
