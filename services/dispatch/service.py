"""The dispatch service: the departments' side (ARCHITECTURE). Today it
answers for the organisation directory and for who is responsible for a
complaint (SPEC §1, §3). Entrypoints only: load -> decide -> dump."""
import shared  # noqa: F401  (psycopg wait function before psycopg is imported)
from nameko.rpc import rpc

from services.dispatch import repository
from services.dispatch.responsibility import resolve_responsibility
from services.dispatch.schemas import (PERSON_OUT, PROJECT_OUT, RESPONSIBILITY_OUT, IdArgument,
                                       PeopleQuery, ResponsibilityQuery, load, person_view,
                                       project_view, responsibility_view)
from shared.clock import ClockProvider
from shared.db import DatabaseProvider
from shared.errors import CCRMError, NotFound
from shared.outbox import OutboxRelay, outbox_backlog


class DispatchService:
    name = "dispatch"

    db = DatabaseProvider("dispatch")
    clock = ClockProvider()
    outbox = OutboxRelay("dispatch")

    def _directory(self):
        return repository.read_directory(self.db)

    def _today(self):
        return self.clock.local_now().date()

    @rpc
    def get_person(self, person_id):
        person_id = load(IdArgument(), {"id": person_id})["id"]
        directory = self._directory()
        person = directory.person(person_id)
        if person is None:
            raise NotFound(f"组织架构中没有此人 (unknown person) {person_id}")
        return PERSON_OUT.dump(person_view(directory, person))

    @rpc
    def list_people(self, role=None, project_id=None, include_inactive=False):
        query = load(PeopleQuery(), {"role": role, "project_id": project_id,
                                     "include_inactive": include_inactive})
        directory = self._directory()
        if query["project_id"] is not None and directory.project(query["project_id"]) is None:
            raise NotFound(f"项目不存在 (unknown project) {query['project_id']}")
        people = [p for p in directory.people
                  if (p.active or query["include_inactive"])
                  and (query["role"] is None or query["role"] in p.roles)
                  and (query["project_id"] is None
                       or query["project_id"] in directory.project_ids_of(p.id))]
        return PERSON_OUT.dump([person_view(directory, p) for p in people], many=True)

    @rpc
    def get_project(self, project_id):
        project_id = load(IdArgument(), {"id": project_id})["id"]
        directory = self._directory()
        project = directory.project(project_id)
        if project is None:
            raise NotFound(f"项目不存在 (unknown project) {project_id}")
        return PROJECT_OUT.dump(project_view(directory, project, self._today()))

    @rpc
    def list_projects(self):
        directory, today = self._directory(), self._today()
        return PROJECT_OUT.dump([project_view(directory, p, today)
                                 for p in directory.active_projects()], many=True)

    @rpc
    def resolve_responsibility(self, project_id, department, major=False):
        query = load(ResponsibilityQuery(), {"project_id": project_id, "department": department,
                                             "major": major})
        directory = self._directory()
        responsibility = resolve_responsibility(directory, **query)
        return RESPONSIBILITY_OUT.dump(responsibility_view(directory, responsibility))

    @rpc
    def health(self):
        try:
            with self.db.connection() as conn:
                head = repository.current_version(conn)
            backlog = outbox_backlog(self.db, "dispatch")
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            message = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
            return {"service": self.name, "status": "down", "error": message}
        if head is None:
            return {"service": self.name, "status": "degraded", "outbox_backlog": backlog,
                    "directory": None,
                    "error": "组织架构尚未加载 (no directory loaded: "
                             "python -m services.dispatch.load_directory)"}
        return {"service": self.name, "status": "ok", "outbox_backlog": backlog,
                "directory": {"version": head["version"],
                              "loaded_at": head["loaded_at"].isoformat(),
                              "label": head["label"], "counts": head["counts"],
                              "vacancies": list(head["vacancies"])}}
