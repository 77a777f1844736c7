"""The service layer of what callers read: the directory's answers (SPEC §1,
§3), a complaint's dispatch page, the operators' worklists and health, a
signed record's check, and routing again after the directory changed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.dispatch import assignment, case_repository, page_repository, repository, views
from services.dispatch import preview as routing_preview
from services.dispatch.casework import Casework, checked_id
from services.dispatch.checks import may_see, staff_of
from services.dispatch.directory import Directory
from services.dispatch.responsibility import resolve_responsibility
from services.dispatch.work import ClosureApplication, Visit
from shared import roles
from shared.contracts.dispatch import directory_views as dv
from shared.contracts.dispatch import forms
from shared.contracts.dispatch import views as cv
from shared.contracts.types import Actor, Json
from shared.errors import CCRMError, Forbidden, NotFound
from shared.events.registry import schema_for
from shared.outbox import outbox_backlog
from shared.signing import record_sha256
from shared.validation import load_input

NO_DIRECTORY = ("组织架构尚未加载 (no directory loaded: "
                "python -m services.dispatch.load_directory)")


@dataclass(frozen=True)
class LoadSummary:
    """What `directory_loaded_data` reads of a load, for the current version."""
    version: int
    counts: dict
    vacancies: tuple


# -- the directory ------------------------------------------------------------------------

def directory_snapshot(directory: Directory) -> Json:
    """The current directory as the `data` of `directory.loaded`."""
    if not directory.loaded or directory.version is None:
        raise NotFound("组织架构尚未加载 (no directory loaded yet)")
    current = LoadSummary(directory.version.version, directory.counts(),
                          tuple(directory.vacancies()))
    data = views.directory_loaded_data(directory, current, directory.version.loaded_at)
    return schema_for("directory.loaded").dump(data)


def get_person(directory: Directory, argument: object) -> Json:
    person_id: str = load_input(forms.IdArgument(), {"id": argument})["id"]
    person = directory.person(person_id)
    if person is None:
        raise NotFound(f"组织架构中没有此人 (unknown person) {person_id}")
    return dv.PERSON_OUT.dump(views.person_view(directory, person))


def list_people(directory: Directory, role: Any, project_id: Any, include_inactive: Any) -> Json:
    query = load_input(forms.PeopleQuery(), {"role": role, "project_id": project_id,
                                             "include_inactive": include_inactive})
    if query["project_id"] is not None and directory.project(query["project_id"]) is None:
        raise NotFound(f"项目不存在 (unknown project) {query['project_id']}")
    people = [p for p in directory.people
              if (p.active or query["include_inactive"])
              and (query["role"] is None or query["role"] in p.roles)
              and (query["project_id"] is None
                   or query["project_id"] in directory.project_ids_of(p.id))]
    return dv.PERSON_OUT.dump([views.person_view(directory, p) for p in people], many=True)


def get_project(directory: Directory, argument: object, today: Any) -> Json:
    project_id: str = load_input(forms.IdArgument(), {"id": argument})["id"]
    project = directory.project(project_id)
    if project is None:
        raise NotFound(f"项目不存在 (unknown project) {project_id}")
    return dv.PROJECT_OUT.dump(views.project_view(directory, project, today))


def list_projects(directory: Directory, today: Any) -> Json:
    return dv.PROJECT_OUT.dump([views.project_view(directory, p, today)
                                for p in directory.active_projects()], many=True)


def responsibility(directory: Directory, project_id: Any, department: Any, major: Any) -> Json:
    query = load_input(forms.ResponsibilityQuery(), {
        "project_id": project_id, "department": department, "major": major})
    found = resolve_responsibility(directory, **query)
    return dv.RESPONSIBILITY_OUT.dump(views.responsibility_view(directory, found))


def routing_table_info(table: Any) -> Json:
    return {"source": table.source, "sha256": table.sha256, "version": table.label,
            "categories": [{"category": r.category, "name": r.name, "first": r.first,
                            "cooperating": list(r.cooperating)}
                           for r in table.routes.values()]}


# -- a complaint's page and the worklists -------------------------------------------------

def complaint_view(cw: Casework, complaint_id: object, actor: Actor | None) -> Json:
    complaint_id = checked_id(complaint_id)
    staff = staff_of(cw.directory(), actor) if actor is not None else None
    with cw.db.transaction() as conn, conn.pipeline():
        # One snapshot, every read sent at once (page_repository).
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        found = page_repository.read_page(conn, complaint_id)()
    if found is None:
        raise NotFound(f"派单信息不存在：投诉 {complaint_id} 尚未签发派出 "
                       f"(no dispatch record for complaint {complaint_id})")
    case, page = found
    if staff is not None and not may_see(staff, case, page["routings"]):
        raise Forbidden(f"无权查看投诉 {complaint_id} (not a complaint you answer for)")
    view = views.complaint_view(case, **page, grace=cw.grace)
    return views.dump(cv.VIEW, view, cw.clock.zone)


PREVIEWERS = roles.CENTRE | {roles.ADMIN}


def preview(cw: Casework, actor: Actor, form: object) -> Json:
    """The centre's (and admins') look at the routing an order would get now."""
    if not isinstance(actor, dict) or not PREVIEWERS & set(actor.get("roles") or ()):
        raise Forbidden("只有售后服务中心可以预览派单 (the centre previews routings)")
    data = load_input(forms.RoutingPreviewForm(), form)
    found = routing_preview.preview_routing(cw.routing_table, cw.directory(), data["project_id"],
                                            data["category"], data["department"], data["major"],
                                            cw.clock.now())
    return views.dump(cv.RoutingPreviewOut(), found, cw.clock.zone)


def routing_errors(cw: Casework, open_only: object) -> Json:
    with cw.db.connection() as conn:
        rows = case_repository.routing_errors(conn, open_only=bool(open_only))
    return [views.dump(cv.ROUTING_ERROR_OUT, row, cw.clock.zone) for row in rows]


def verify_record_signature(cw: Casework, record_id: object) -> Json:
    record_id = checked_id(record_id)
    with cw.db.connection() as conn:
        record = (case_repository.get_record(conn, Visit, record_id)
                  or case_repository.get_record(conn, ClosureApplication, record_id))
    if record is None or record.signature_media_id is None:
        raise NotFound(f"没有签名的记录 (no signed record {record_id})")
    current = record_sha256(record.signed_record())
    result = cw.media.verify_signature(record.signature_media_id, current)
    return {"record_id": record.id, "media_id": record.signature_media_id,
            "intact": bool(result["intact"]), "record_sha256": current,
            "bound_record_sha256": result.get("bound_record_sha256")}


def retry_failed_routings(cw: Casework) -> int:
    """Route again every complaint whose routing failed on an older
    directory; returns how many were tried."""
    with cw.db.connection() as conn:
        head = repository.current_version(conn)
        if head is None:
            return 0
        pending = case_repository.complaints_to_reroute(conn, head["version"])
    for complaint_id in pending:
        directory = cw.directory()
        now = cw.clock.now()
        with cw.db.transaction() as conn:
            case = case_repository.lock_case(conn, complaint_id)
            if case is None:
                continue
            outcome = assignment.retry(case, cw.routing_table, directory, now,
                                       case_repository.next_id(conn, case, "routings"))
            if outcome.result is not None or outcome.resolve_routing_errors:
                cw.store(conn, outcome, now)
    return len(pending)


def health(cw: Casework, service: str) -> Json:
    try:
        with cw.db.connection() as conn:
            head = repository.current_version(conn)
            errors = case_repository.open_routing_error_count(conn)
            pending = case_repository.pending_binding_count(conn)
        backlog = outbox_backlog(cw.db, "dispatch")
    except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
        message = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
        return {"service": service, "status": "down", "error": message}
    work_state = {"routing_errors_open": errors, "pending_signature_bindings": pending,
                  "routing_table": {"categories": len(cw.routing_table.routes),
                                    "sha256": cw.routing_table.sha256}}
    if head is None:
        return {"service": service, "status": "degraded", "outbox_backlog": backlog,
                "directory": None, **work_state, "error": NO_DIRECTORY}
    return {"service": service, "status": "ok", "outbox_backlog": backlog,
            "directory": {"version": head["version"],
                          "loaded_at": head["loaded_at"].isoformat(),
                          "label": head["label"], "counts": head["counts"],
                          "vacancies": list(head["vacancies"])},
            **work_state}
