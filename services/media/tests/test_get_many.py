"""get_many: a complaint page's files in one call (issue 17: the page asked
media once per file). Real test database, in-memory store (worker_factory)."""
import pytest

from services.media.tests import samples
from services.media.tests.test_service_units import make_service, png_b64
from shared.db import Database
from shared.errors import InvalidInput


class CountingDatabase(Database):
    """The real database, counting the statements sent through it."""

    def __init__(self, dsn):
        super().__init__(dsn)
        self.statements = []

    def connection(self):
        outer = super().connection()
        counted = self.statements

        class Counted:
            def __enter__(self):
                self.conn = conn = outer.__enter__()
                execute = type(conn).execute

                def counting(query, *args, **kwargs):
                    counted.append(str(query))
                    return execute(conn, query, *args, **kwargs)
                conn.execute = counting
                return conn

            def __exit__(self, *exc):
                del self.conn.execute             # the pooled connection as it was
                return outer.__exit__(*exc)
        return Counted()


def test_each_id_in_its_order_with_none_for_what_names_nothing(clean_database):
    service = make_service(clean_database)
    first = service.upload(png_b64(), "a.png", "photo", stage="before")
    second = service.upload(png_b64(), "b.png", "signature")
    unknown = "M-SZ-" + "0" * 32
    got = service.get_many([second["id"], unknown, first["id"], "not-an-id", 7])
    assert [g and g["id"] for g in got] == [second["id"], None, first["id"], None, None]
    for one, alone in ((got[0], service.get(second["id"])), (got[2], service.get(first["id"]))):
        assert one["url"].startswith(f"/files/{one['id']}.")
        assert {k: v for k, v in one.items() if not k.startswith("url")} == \
            {k: v for k, v in alone.items() if not k.startswith("url")}
    assert got[2]["sha256"] == first["sha256"] and got[0]["kind"] == "signature"


def test_a_link_from_get_many_opens_its_file(clean_database):
    service = make_service(clean_database)
    uploaded = service.upload(png_b64(), "现场.png", "photo", stage="before")
    [got] = service.get_many([uploaded["id"]])
    assert service.open_link(got["url"].removeprefix("/files/"))["size"] == len(samples.PNG)


def test_the_files_are_read_in_one_statement_whatever_their_number(clean_database):
    ids = [make_service(clean_database).upload(png_b64(), f"{n}.png", "photo",
                                               stage="before")["id"] for n in range(6)]
    counting = CountingDatabase(clean_database.dsn)
    try:
        service = make_service(counting)
        service.get_many(ids[:1])                   # the link key made on first use
        counting.statements.clear()
        service.get_many(ids[:1])
        one = len(counting.statements)
        counting.statements.clear()
        got = service.get_many(ids)
        assert [g["id"] for g in got] == ids
        assert len(counting.statements) == one == 2       # the files, the link key
    finally:
        counting.close()


def test_nothing_found_reads_no_key_and_an_empty_list_answers_empty(clean_database):
    service = make_service(clean_database)
    assert service.get_many([]) == []
    assert service.get_many(["M-SZ-" + "1" * 32]) == [None]


@pytest.mark.parametrize("bad", ["M-SZ-" + "1" * 32, None, {"id": 1}, ["x"] * 101])
def test_anything_but_a_list_of_at_most_100_is_refused(clean_database, bad):
    with pytest.raises(InvalidInput) as refused:
        make_service(clean_database).get_many(bad)
    assert "media_ids" in refused.value.fields
