"""The complaint's page, put together by the gateway (GET /api/complaints/{id}):
intake's record, dispatch's view of the work, sla's deadlines and the media the
record names, each asked with a bounded wait (COMPLAINT_PAGE_TIMEOUT, 3 s by
default). A part whose service does not answer is `{"unavailable": true,
"reason": ...}` and the rest still shows; the people it names get their names
from dispatch's directory, kept briefly. Media is asked for the complaint's
files beside the others (files_of_complaint), so the files the record names
need no second round unless one does not carry the complaint's id (get_many).
A mixin of ComplaintRoutes."""
import logging
import time

import eventlet
from nameko.exceptions import RemoteError

from shared.contracts.dispatch import DispatchClient
from shared.contracts.media import MAX_COMPLAINT_FILES, MAX_IDS_AT_ONCE, MediaClient
from shared.errors import CCRMError, NotFound, Unavailable

log = logging.getLogger(__name__)

PAGE_PART_SECONDS = 3.0      # the page's bounded wait for each service (COMPLAINT_PAGE_TIMEOUT)
PAGE_MAX_MEDIA = MAX_IDS_AT_ONCE          # the files a page shows: one get_many


def unavailable(reason):
    return {"unavailable": True, "reason": reason}


NAMES_CACHE_SECONDS = 60
_names = [0.0, {}]      # [read_at, {person_id: name}]: the directory's names, kept briefly


def people_named(value, names):
    """{person_id: name} of every string in the page that is a person's id."""
    found = {}
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and item in names:
            found[item] = names[item]
    return found


def media_ids_of(complaint, work):
    """The media the record and the departments' work name, in order, once."""
    ids = [(complaint.get("signature") or {}).get("media_id")]
    for application in complaint.get("closures") or ():
        ids += list(application.get("material_media_ids") or ())
        ids.append(application.get("signature_media_id"))
    if isinstance(work, dict) and not work.get("unavailable"):
        for visit in work.get("visits") or ():
            ids += list(visit.get("photo_media_ids") or ()) + [visit.get("signature_media_id")]
        for note in work.get("progress") or ():
            ids += list(note.get("photo_media_ids") or ())
        for application in work.get("applications") or ():
            ids += list(application.get("material_media_ids") or ())
            ids.append(application.get("signature_media_id"))
        ids += [claim.get("report_media_id") for claim in work.get("claims") or ()]
        ids += [meeting.get("minutes_media_id") for meeting in work.get("meetings") or ()]
    return list(dict.fromkeys(i for i in ids if isinstance(i, str) and i))



class ComplaintPageParts:
    """The page's parts; needs `self.dispatch`, `self.media`, `self.config` and
    `rpc_timeout()` (GatewayService's)."""

    def _page_timeout(self):
        return float(self.config.get("COMPLAINT_PAGE_TIMEOUT",
                                     min(self.rpc_timeout(), PAGE_PART_SECONDS)))

    @staticmethod
    def _part(ask, *args, missing=None):
        """One service's part of the page: `ask(*args)` (a method of a typed
        client with the page's bounded wait), `missing` when the service has
        nothing on this complaint (404), or why it is unavailable."""
        service = getattr(getattr(ask, "__self__", None), "service", "?")
        try:
            return ask(*args)
        except NotFound:
            return missing
        except Unavailable as exc:   # no answer in time, not running, broker down
            return unavailable(exc.message)
        except CCRMError as exc:
            log.warning("%s.%s failed for the complaint page: %s", service, ask.__name__, exc)
            return unavailable(exc.message)
        except RemoteError as exc:   # an error of the service's own, not one of ours
            log.warning("%s.%s failed for the complaint page: %s", service, ask.__name__, exc)
            return unavailable("服务出错 (the service failed)")
        except Exception as exc:     # noqa: BLE001 - broker trouble: still a page
            return unavailable(f"{service} 服务不可用 ({type(exc).__name__})")

    def _directory_names(self, timeout):
        """{person_id: name} of the directory (dispatch's), kept NAMES_CACHE_SECONDS;
        the last names known (or none) if dispatch does not answer."""
        read_at, names = _names
        if names and time.monotonic() - read_at < NAMES_CACHE_SECONDS:
            return names
        try:
            people = DispatchClient(self.dispatch, timeout).list_people(include_inactive=True)
        except Exception as exc:  # noqa: BLE001 - names are a courtesy: the page shows ids
            log.warning("dispatch.list_people failed for the complaint page: %s", exc)
            return names
        names = {p["id"]: p["name"] for p in people if p.get("id") and p.get("name")}
        _names[:] = [time.monotonic(), names]
        return names

    def _complaint_files(self, media, complaint_id):
        """media's newest files of the complaint (files_of_complaint), asked
        beside intake and dispatch so that the page's files need no second
        round; None when media cannot say (one older than the method, or an
        error of its own): the page then asks for its files as before."""
        try:
            return media.files_of_complaint(complaint_id, MAX_COMPLAINT_FILES)
        except Unavailable:         # no answer in time: the part is unavailable, as before
            raise
        except (CCRMError, RemoteError) as exc:
            if getattr(exc, "exc_type", None) != "MethodNotFound":
                log.warning("media.files_of_complaint failed for the complaint page: %s", exc)
            return None

    def _media_answers(self, media, ids):
        """get_many of `ids`; one get per file from a media without get_many."""
        try:
            return media.get_many(ids)
        except RemoteError as exc:
            if exc.exc_type != "MethodNotFound":
                raise
        pool = eventlet.GreenPool(min(len(ids), 20))
        return list(pool.imap(lambda media_id: self._part(media.get, media_id), ids))

    def _page_media(self, ids, timeout, files=None):
        """The files the page names, in its order: from `files` (what
        _complaint_files answered beside the other parts), the others (named
        but not carrying the complaint's id, or with no `files`) asked of
        media in one call (get_many); one call per file only from a media
        that does not know get_many yet (deployed before this gateway)."""
        if not ids:
            return {"items": [], "missing": []}
        if isinstance(files, dict):                 # media unavailable: the part says why
            return files
        shown = ids[:PAGE_MAX_MEDIA]
        known = {f["id"]: f for f in files or () if isinstance(f, dict) and f.get("id")}
        ask = [i for i in shown if i not in known]
        asked = self._part(self._media_answers, MediaClient(self.media, timeout), ask,
                           missing=[None] * len(ask)) if ask else []
        if isinstance(asked, dict):                 # media unavailable: the part says why
            return asked
        asked = dict(zip(ask, asked, strict=True))
        answers = [known[i] if i in known else asked[i] for i in shown]
        items = [a for a in answers if isinstance(a, dict) and not a.get("unavailable")]
        pairs = list(zip(shown, answers, strict=True))
        failed = [i for i, a in pairs if isinstance(a, dict) and a.get("unavailable")]
        if failed and not items:
            return unavailable(next(a for a in answers if a)["reason"])
        page = {"items": items, "missing": [i for i, a in pairs if a is None]}
        if failed:
            page["unavailable_ids"] = failed
        if len(ids) > len(shown):
            page["more"] = len(ids) - len(shown)
        return page
