import psycopg

from shared.migrate import migrate


def test_applying_twice_is_a_no_op(test_dsn):
    assert migrate(test_dsn) == []


def test_every_service_schema_has_outbox_and_inbox(test_dsn):
    with psycopg.connect(test_dsn) as conn:
        rows = conn.execute(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_name IN ('outbox', 'inbox')""").fetchall()
    found = {(schema, table) for schema, table in rows}
    for schema in ("media", "dispatch", "intake", "sla", "penalty", "gateway"):
        assert (schema, "outbox") in found and (schema, "inbox") in found


def test_new_migration_file_is_applied_once(test_dsn, tmp_path, monkeypatch):
    import shared.migrate as m
    (tmp_path / "001_first.sql").write_text("CREATE TABLE scratch_mig.t (n int);")
    monkeypatch.setattr(m, "migration_dir", lambda schema: tmp_path)
    with psycopg.connect(test_dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS scratch_mig CASCADE")
        assert m.migrate_schema(conn, "scratch_mig", tmp_path) == ["scratch_mig/001_first.sql"]
        (tmp_path / "002_second.sql").write_text("INSERT INTO scratch_mig.t VALUES (2);")
        assert m.migrate_schema(conn, "scratch_mig", tmp_path) == ["scratch_mig/002_second.sql"]
        assert m.migrate_schema(conn, "scratch_mig", tmp_path) == []
        assert conn.execute("SELECT count(*) FROM scratch_mig.t").fetchone()[0] == 1
        conn.execute("DROP SCHEMA scratch_mig CASCADE")
