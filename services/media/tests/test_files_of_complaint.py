"""files_of_complaint: a complaint's files in one call, asked by the complaint
page beside intake and dispatch (issue 17: the page asked media only after
they answered, a second round). Real test database, in-memory store."""
from dataclasses import replace
from datetime import timedelta

import pytest

from services.media import domain, repository
from services.media.tests.test_get_many import CountingDatabase
from services.media.tests.test_service_units import NOW, make_service, png_b64
from shared.clock import FixedClock
from shared.errors import InvalidInput

CID, OTHER = "C-SZ-2026-000001", "C-SZ-2026-000002"
SHA = "a" * 64


def uploaded(service, minutes, **form):
    """A photo uploaded `minutes` after NOW (the shared clock's time)."""
    service.clock = FixedClock(NOW + timedelta(minutes=minutes))
    return service.upload(png_b64(), f"{minutes}.png", "photo", stage="before", **form)


def without_link(view):
    return {k: v for k, v in view.items() if not k.startswith("url")}


def test_the_complaint_files_newest_first_as_get_answers_them(clean_database):
    service = make_service(clean_database)
    first = uploaded(service, 1, complaint_id=CID)
    uploaded(service, 2, complaint_id=OTHER)
    uploaded(service, 3)                                      # no complaint named
    service.clock = FixedClock(NOW + timedelta(minutes=4))
    signature = service.upload(png_b64(), "sig.png", "signature")    # at the desk: none yet
    pending = service.upload(png_b64(), "sig2.png", "signature")     # its bind still pending
    last = uploaded(service, 5, complaint_id=CID)
    assert [f["id"] for f in service.files_of_complaint(CID)] == [last["id"], first["id"]]

    service.bind_signature(signature["id"], "complaint", CID, SHA, complaint_id=CID)
    got = service.files_of_complaint(CID)
    assert [f["id"] for f in got] == [last["id"], signature["id"], first["id"]]
    assert pending["id"] not in {f["id"] for f in got}       # get_many still finds it
    for one in got:
        alone = service.get(one["id"])
        assert without_link(one) == without_link(alone)
        assert one["url"].startswith(f"/files/{one['id']}.") and one["url_expires_at"]
        assert service.open_link(one["url"].removeprefix("/files/"))["media_id"] == one["id"]
    assert got[1]["binding"]["record_id"] == CID


def test_at_most_the_newest_limit_and_by_default_200(clean_database):
    service = make_service(clean_database)
    template = domain.Media(
        id="", key="", region="SZ", kind="photo", stage="before", content_type="image/png",
        size=1, sha256=SHA, original_filename=None, complaint_id=CID, step=None,
        uploaded_by=None, created_at=NOW)
    made = [replace(template, id=f"M-SZ-{n:032x}", key=f"SZ/2026/11/M-SZ-{n:032x}",
                    created_at=NOW + timedelta(seconds=n)) for n in range(205)]
    with clean_database.transaction() as conn:
        for media in made:
            repository.insert(conn, media)
    newest = [m.id for m in reversed(made)]
    assert [f["id"] for f in service.files_of_complaint(CID)] == newest[:200]
    assert [f["id"] for f in service.files_of_complaint(CID, 3)] == newest[:3]


def test_one_statement_for_the_files_and_none_for_an_unknown_complaint(clean_database):
    for minutes in range(5):
        uploaded(make_service(clean_database), minutes, complaint_id=CID)
    counting = CountingDatabase(clean_database.dsn)
    try:
        service = make_service(counting)
        service.files_of_complaint(CID)                   # the link key made on first use
        counting.statements.clear()
        assert len(service.files_of_complaint(CID)) == 5
        assert len(counting.statements) == 2              # the files, the link key
        counting.statements.clear()
        assert service.files_of_complaint("C-SZ-2026-999999") == []
        assert len(counting.statements) == 1              # no files: no key read
    finally:
        counting.close()


@pytest.mark.parametrize("complaint_id, limit, field", [
    ("M-SZ-" + "1" * 32, 10, "complaint_id"), ("", 10, "complaint_id"),
    (None, 10, "complaint_id"), (["C-SZ-2026-000001"], 10, "complaint_id"),
    (CID, 0, "limit"), (CID, 201, "limit"), (CID, "10", "limit"), (CID, True, "limit"),
    (CID, None, "limit")])
def test_anything_but_a_complaint_id_and_a_limit_of_1_to_200_is_refused(
        clean_database, complaint_id, limit, field):
    with pytest.raises(InvalidInput) as refused:
        make_service(clean_database).files_of_complaint(complaint_id, limit)
    assert list(refused.value.fields) == [field]
    assert refused.value.fields[field][0]
