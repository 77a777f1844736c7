"""Issue bearer tokens for people of the directory.

`python -m services.gateway.tokens demo --out var/demo-tokens.json` gives
every active person of the organisation file a fresh token (the old ones of
those people are revoked) and writes the list a local run prints. Each
token expires after TOKEN_TTL_HOURS of real time (default 30 days).
"""
import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

import shared  # noqa: F401
from services.gateway.auth import TOKEN_TTL, TokenRepository
from shared.clock import clock_from_config, system_now
from shared.config import REPO_ROOT, load_config
from shared.db import Database, database_url
from shared.organisation_file import people_of, read_organisation


def issue_tokens(database, people, now, ttl=TOKEN_TTL):
    """One new token per person, valid for `ttl` of real time; returns
    [{person_id, name, roles, project_ids, token, expires_at}]."""
    issued = []
    expires_at = system_now() + ttl
    with database.transaction() as conn:
        tokens = TokenRepository(conn)
        for person in people:
            tokens.revoke_person_tokens(person["id"], now)
            issued.append({"person_id": person["id"], "name": person["name"],
                           "roles": list(person.get("roles") or ()),
                           "project_ids": list(person.get("project_ids") or ()),
                           "token": tokens.issue_person_token(person["id"], now,
                                                             expires_at=expires_at),
                           "expires_at": expires_at.isoformat()})
    return issued


def directory_people(path):
    """People of an organisation file, as the directory will hold them once
    loaded (read from the file: the command runs before any service does)."""
    path = Path(path)
    if not path.is_absolute():
        path = REPO_ROOT / path
    return people_of(read_organisation(path).document)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Issue CCRM bearer tokens.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="a token for every person of the organisation file")
    demo.add_argument("--file", help="organisation file (default: ORGANISATION_FILE)")
    demo.add_argument("--out", default="var/demo-tokens.json")
    demo.add_argument("--dsn", help="database URL (default: DATABASE_URL)")
    args = parser.parse_args(argv)

    config = load_config()
    database = Database(args.dsn or database_url(config, "gateway"), size=1)
    clock = clock_from_config(config, database)
    people = directory_people(args.file or config["ORGANISATION_FILE"])
    ttl = timedelta(hours=float(config.get("TOKEN_TTL_HOURS") or TOKEN_TTL / timedelta(hours=1)))
    issued = issue_tokens(database, people, clock.now(), ttl)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(issued, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"已为 {len(issued)} 人签发登录凭证 (tokens issued), written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
