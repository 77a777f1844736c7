"""Who may read a complaint's parts that other services answer without
knowing who asks (its deadlines, a signed record's check, its files).

Intake decides who may see a complaint (SPEC §8: the centre, the project's
desk, those the routing made answer for it); the gateway asks it before it
shows such a part. A mixin of the route classes; needs `self.intake`.
"""
from shared import ids, roles
from shared.contracts.intake import IntakeClient
from shared.contracts.penalty import access as penalty_access
from shared.errors import Forbidden

# intake's rule too: the centre and admins see every complaint, no need to ask
SEES_ALL = roles.CENTRE | {roles.ADMIN}
REPORT_READERS = penalty_access.REPORT_READERS | penalty_access.REPORT_ISSUERS

# The dispatch records a customer signs: visits and closure applications.
SIGNED_RECORD_KINDS = ("visits", "closure_applications")


def complaint_of_record(record_id):
    """The complaint of a signed dispatch record's id (shared.ids), or None."""
    parsed = ids.parse_record_id(record_id)
    return parsed[0] if parsed and parsed[1] in SIGNED_RECORD_KINDS else None


class ComplaintAccess:

    def require_may_see(self, principal, complaint_id):
        """Forbidden (403) or NotFound (404) unless `principal` may see the complaint."""
        if principal.has_any(SEES_ALL):
            return
        IntakeClient(self.intake, self.rpc_timeout()).check_access(principal.as_dict(),
                                                                   complaint_id)

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
