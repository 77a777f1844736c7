"""Load the organisation file into the directory.

    python -m services.dispatch.load_directory [FILE] [--dsn DSN] [--config CONFIG]

FILE defaults to the config's ORGANISATION_FILE (relative paths from the repo
root), DSN to its DATABASE_URL. A valid file replaces the directory in one
transaction with its `directory.loaded` event; a bad one is refused with every
problem listed and nothing loaded (exit status 1).
"""
import argparse
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

import shared  # noqa: F401  (psycopg wait function before psycopg is imported)
from services.dispatch import repository
from services.dispatch.directory import from_document
from services.dispatch.views import directory_loaded_data
from shared.clock import clock_from_config
from shared.config import REPO_ROOT, load_config
from shared.db import Database, database_url
from shared.errors import CCRMError
from shared.organisation_file import invalid, read_organisation
from shared.outbox import Outbox

EVENT = "directory.loaded"


def load_organisation(database, path, *, now, outbox, expected_region=None):
    """Validate `path`, then replace the directory and record its event in one
    transaction. Returns the repository's LoadResult; raises InvalidInput."""
    org_file = read_organisation(path)
    directory = from_document(org_file.document)
    if expected_region and directory.region_code != expected_region:
        raise invalid({"region.code": [
            f"文件属于 {directory.region_code} 区域，本部署服务 {expected_region} "
            f"(file is for region {directory.region_code}, "
            f"this deployment serves {expected_region})"]})
    with database.transaction() as conn:
        result = repository.replace_directory(
            conn, directory, loaded_at=now, source=org_file.source, sha256=org_file.sha256,
            label=org_file.document.get("label"))
        snapshot = repository.load_snapshot(conn)
        outbox.add(conn, EVENT, directory_loaded_data(snapshot, result, now), occurred_at=now)
    return result


def summary(result, path):
    counts = result.counts
    lines = [
        f"组织架构已加载: {counts['people']} 人, {counts['projects']} 个项目, "
        f"{counts['region_companies']} 个地区公司, {counts['property_companies']} 个物业公司, "
        f"{counts['departments']} 个部门, {counts['specialists']} 名客服专员 "
        f"(版本 {result.version}, 文件 {path})",
        f"Directory loaded: {counts['people']} people, {counts['projects']} projects "
        f"(version {result.version}).",
    ]
    if result.joined and result.version > 1:
        lines.append(f"新增 {len(result.joined)} 人 (joined): {_ids(result.joined)}")
    if result.left:
        lines.append(f"离开 {len(result.left)} 人，已标记为停用 (left, now inactive): "
                     f"{_ids(result.left)}")
    if result.vacancies:
        lines.append(f"空缺 {len(result.vacancies)} 个岗位，派单时会被拒绝 (vacant posts):")
        lines += [f"  - {vacancy}" for vacancy in result.vacancies]
    return "\n".join(lines)


def _ids(ids, shown=20):
    more = f" … (+{len(ids) - shown})" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def main(argv=None, out=sys.stdout, err=sys.stderr):
    parser = argparse.ArgumentParser(description="加载组织架构文件 (load the organisation file)")
    parser.add_argument("file", nargs="?", help="organisation YAML (default: ORGANISATION_FILE)")
    parser.add_argument("--dsn", help="database URL (default: DATABASE_URL of the config)")
    parser.add_argument("--config", help="deployment config (default: CCRM_CONFIG or config.yaml)")
    args = parser.parse_args(argv)

    config = load_config(args.config)
    path = Path(args.file or config.get("ORGANISATION_FILE") or "data/organisation/demo.yaml")
    if not path.is_absolute() and not path.exists():
        path = REPO_ROOT / path
    dsn = args.dsn or database_url(config, "dispatch")
    database = Database(dsn, size=2)
    try:
        clock = clock_from_config(config, database)
        outbox = Outbox("dispatch", "dispatch", config.get("REGION_CODE", "GZ"),
                        ZoneInfo(config.get("TIME_ZONE", "Asia/Shanghai")))
        result = load_organisation(database, path, now=clock.now(), outbox=outbox,
                                   expected_region=config.get("REGION_CODE"))
    except CCRMError as exc:
        print(f"组织架构未加载 (directory NOT loaded): {exc.message}", file=err)
        for place, messages in exc.fields.items():
            for message in messages:
                print(f"  - {place}: {message}", file=err)
        return 1
    except psycopg.errors.UndefinedTable:
        print("数据库尚未迁移，请先运行 python -m shared.migrate "
              "(run the migrations first)", file=err)
        return 2
    except psycopg.OperationalError as exc:
        print(f"数据库无法连接 (cannot reach the database): {exc}", file=err)
        return 2
    finally:
        database.close()
    print(summary(result, path), file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
