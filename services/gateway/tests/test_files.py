"""Files through their signed links (`GET /files/<token>`, routes/files.py):
the gateway, dispatch (who signs in) and media on the real broker, database
and stores.

- `make run`'s default store (the local directory, configured exactly as
  `make run` configures it) keeps a signature across a restart of media;
- a photo's link works when the console is reached under another host name
  than the store's (`localhost` against a store at `127.0.0.1`), on both
  stores, and never names the store's address;
- an expired or altered link is refused with SPEC §10's body;
- with a public endpoint configured, the link redirects there.
"""
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY

from scripts.storage_choice import choose_storage
from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.media import library
from services.media.service import MediaService
from services.media.tests import samples
from shared.clock import SimulationClock
from shared.config import REPO_ROOT, load_config
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
SPEC = {"id": "p01-spec-1", "name": "客服专员"}
STAFF = {"id": "centre-staff-1", "name": "客服人员"}


def make_run_storage_config(tmp_path, monkeypatch):
    """The MINIO and MEDIA sections `make run` gives the services when no
    MinIO is configured or installed: its storage choice's environment read
    through config.yaml, as `nameko run --config config.yaml` reads it."""
    storage = choose_storage({"MINIO_ENDPOINT": ""}, environ={}, which=lambda name: None,
                             var_dir=tmp_path / "var")
    assert storage.kind == "local-dir" and storage.survives_restart
    for name in ("MINIO_ENDPOINT", "MEDIA_LOCAL_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in storage.service_env.items():
        monkeypatch.setenv(name, value)
    config = load_config()
    storage.data_dir.mkdir(parents=True, exist_ok=True)
    return {"MINIO": config["MINIO"], "MEDIA": config["MEDIA"]}


class World:
    def __init__(self, config, container_factory, port):
        self.config = config
        self.container_factory = container_factory
        self.port = port
        self.media = None

    def start_media(self):
        self.media = self.container_factory(MediaService, self.config)
        self.media.start()

    def stop_media(self):
        self.media.stop()

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(params=["local", "s3"])
def storage_config(request, tmp_path, monkeypatch):
    if request.param == "local":
        return make_run_storage_config(tmp_path, monkeypatch)
    return {"MINIO": request.getfixturevalue("s3_config"), "MEDIA": {}}


def start_world(config, runner_factory, container_factory, web_config, database):
    SimulationClock(database, cache_seconds=0).set(NOW)
    load_organisation(database, DEMO_FILE, now=NOW, outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    runner_factory(dict(config, **{WEB_SERVER_CONFIG_KEY: address}),
                   GatewayService, DispatchService).start()
    world = World(config, container_factory, int(address.rsplit(":", 1)[1]))
    world.start_media()
    tokens = {entry["person_id"]: entry["token"]
              for entry in issue_tokens(database, [SPEC, STAFF], NOW)}
    world.headers = {key: {"Authorization": f"Bearer {tokens[person['id']]}"}
                     for key, person in (("spec", SPEC), ("staff", STAFF))}
    return world


def world_config(ccrm_config, storage_config, seconds=300):
    media = dict(storage_config["MEDIA"], signed_url_seconds=seconds)
    return dict(ccrm_config, MINIO=storage_config["MINIO"], MEDIA=media, RPC_TIMEOUT=10)


@pytest.fixture
def world(storage_config, ccrm_config, runner_factory, container_factory, web_config,
          clean_database):
    return start_world(world_config(ccrm_config, storage_config), runner_factory,
                       container_factory, web_config, clean_database)


def upload(world, kind, content, host="127.0.0.1", **fields):
    answer = requests.post(world.url("/api/media", host), headers=world.headers["spec"],
                           data={"kind": kind, **fields},
                           files={"file": ("文件.png", content, "application/octet-stream")},
                           timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def link_of(world, media_id, host="127.0.0.1", who="spec"):
    answer = requests.get(world.url(f"/api/media/{media_id}", host), headers=world.headers[who],
                          timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["url"]


def refused(answer, status=403):
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"].startswith("application/json")
    error = answer.json()["error"]
    assert set(error) <= {"code", "message", "fields", "field_errors"} and error["message"]
    return error


def test_a_signature_survives_a_restart_of_make_runs_default_storage(
        tmp_path, monkeypatch, ccrm_config, runner_factory, container_factory, web_config,
        clean_database):
    storage = make_run_storage_config(tmp_path, monkeypatch)
    assert not storage["MINIO"]["endpoint"]
    world = start_world(world_config(ccrm_config, storage), runner_factory, container_factory,
                        web_config, clean_database)
    signature = upload(world, "signature", samples.PNG)
    before = requests.get(link_of(world, signature["id"]), timeout=30)
    assert before.status_code == 200 and before.content == samples.PNG

    world.stop_media()               # what stopping `make run` does to media...
    world.start_media()              # ...and starting it again

    after = requests.get(link_of(world, signature["id"]), timeout=30)
    assert after.status_code == 200, after.text
    assert after.content == samples.PNG
    assert hashlib.sha256(after.content).hexdigest() == signature["sha256"]
    local = tmp_path / "var" / "media"
    assert [p.name for p in local.rglob("M-*")] == [signature["id"]]


def test_a_photo_link_works_from_another_host_name_and_never_names_the_store(world):
    photo = upload(world, "photo", samples.JPEG, host="localhost", stage="before")
    url = link_of(world, photo["id"], host="localhost")
    assert url.startswith(f"http://localhost:{world.port}/files/{photo['id']}.")
    store = world.config["MINIO"].get("endpoint")
    assert "127.0.0.1" not in url and (not store or store not in url)

    shown = requests.get(url, timeout=30)
    assert shown.status_code == 200, shown.text
    assert shown.content == samples.JPEG
    assert shown.headers["Content-Type"] == "image/jpeg"
    assert shown.headers["Content-Length"] == str(len(samples.JPEG))
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Disposition"].startswith("inline;")
    assert "private" in shown.headers["Cache-Control"]
    again = requests.get(url, headers={"If-None-Match": shown.headers["ETag"]}, timeout=30)
    assert again.status_code == 304 and again.content == b""
    head = requests.head(url, timeout=30)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(samples.JPEG))
    assert requests.get(url, timeout=30).content == samples.JPEG      # and again, whole

    # the same link under the address the page was reached at this time
    assert link_of(world, photo["id"]).startswith(f"http://127.0.0.1:{world.port}/files/")
    # a proxy in front says how the browser reached it
    proxied = requests.get(world.url(f"/api/media/{photo['id']}"),
                           headers={**world.headers["spec"], "X-Forwarded-Proto": "https",
                                    "X-Forwarded-Host": "ccrm.example.cn"}, timeout=30)
    assert proxied.json()["url"].startswith("https://ccrm.example.cn/files/")


def test_an_altered_link_is_refused(world):
    photo = upload(world, "photo", samples.PNG, stage="after")
    url = link_of(world, photo["id"])
    base, token = url.split("/files/")
    media_id, expires, signature = token.split(".")
    other = upload(world, "photo", samples.JPEG, stage="after")["id"]
    for changed in (f"{other}.{expires}.{signature}",
                    f"{media_id}.{int(expires) + 86400}.{signature}",
                    f"{media_id}.{expires}.{signature[::-1]}",
                    f"{media_id}.{expires}", "x", "...", token + "%00"):
        error = refused(requests.get(f"{base}/files/{changed}", timeout=30),
                        400 if changed.endswith("%00") else 403)
        assert error["code"] in ("forbidden", "invalid_input"), changed
    # a path is no token: no such URL
    refused(requests.get(f"{base}/files/..%2f..%2fetc%2fpasswd", timeout=30), 404)
    assert requests.get(url, timeout=30).content == samples.PNG


def test_an_expired_link_is_refused(world, monkeypatch):
    photo = upload(world, "photo", samples.PNG, stage="during")
    url = link_of(world, photo["id"])
    assert requests.get(url, timeout=30).status_code == 200
    # media runs in this process: move its real clock past the link's life
    later = datetime.now(UTC) + timedelta(seconds=301)
    monkeypatch.setattr(library, "system_now", lambda: later)
    error = refused(requests.get(url, timeout=30))
    assert error["code"] == "forbidden" and "过期" in error["message"]


def test_the_link_is_the_permission_the_api_that_makes_it_checks_who_asks(world):
    photo = upload(world, "photo", samples.PNG, stage="before")
    refused(requests.get(world.url(f"/api/media/{photo['id']}"), timeout=30), 401)
    url = link_of(world, photo["id"], who="staff")      # the centre sees every file
    assert requests.get(url, timeout=30).content == samples.PNG     # no sign-in needed


@pytest.fixture
def public_world(s3_config, ccrm_config, runner_factory, container_factory, web_config,
                 clean_database):
    storage = {"MINIO": dict(s3_config, public_endpoint="media.example.cn", public_secure=True),
               "MEDIA": {}}
    return start_world(world_config(ccrm_config, storage), runner_factory,
                       container_factory, web_config, clean_database)


def test_with_a_public_endpoint_the_link_redirects_there(public_world, s3_config):
    photo = upload(public_world, "photo", samples.PNG, stage="before")
    url = link_of(public_world, photo["id"])
    assert url.startswith(f"http://127.0.0.1:{public_world.port}/files/")
    answer = requests.get(url, allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(
        f"https://media.example.cn/{s3_config['bucket']}/GZ/")
    assert answer.headers["Cache-Control"] == "no-store"
