"""Where `make run` keeps media objects: a configured MinIO (`MINIO_ENDPOINT`),
else an installed `minio` binary (data in var/minio), else a directory on this
machine (var/media, `MEDIA_LOCAL_DIR`). Each of them keeps signatures and
photos across restarts. Standard library only.
"""
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from scripts.local_settings import VAR_DIR
from scripts.probes import Check, storage_ready

# Where an installed `minio` binary listens when MINIO_ENDPOINT is not set.
LOCAL_MINIO_ENDPOINT = "127.0.0.1:9000"


class Storage:
    """Where media objects go, the process to start for it (if any), and what
    every service must be told about it (`service_env`)."""

    def __init__(self, kind: str, endpoint: str, survives_restart: bool,
                 argv: list[str] | None = None, env: Mapping[str, str] | None = None,
                 data_dir: Path | None = None,
                 service_env: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.survives_restart = survives_restart
        self.argv = argv
        self.env = env or {}
        self.data_dir = data_dir
        self.service_env = dict(service_env or {})

    def ready_check(self) -> Check | None:
        """How to tell the store answers (None: a directory, nothing to wait for)."""
        return storage_ready(self.endpoint) if self.endpoint else None

    def describe(self) -> str:
        if self.kind == "external":
            where = f"the configured MinIO at {self.endpoint} (MINIO_ENDPOINT)"
            fate = "its objects are kept by that server"
        elif self.kind == "minio":
            where = f"a MinIO server at {self.endpoint}, data in {self.data_dir}"
            fate = "objects SURVIVE a restart"
        else:
            where = f"a local directory {self.data_dir} (MEDIA_LOCAL_DIR)"
            fate = ("objects SURVIVE a restart; set MINIO_ENDPOINT to use MinIO. Files are "
                    "read through the gateway's /files/ links")
        return f"media storage: {where}; {fate}"


def choose_storage(settings: Mapping[str, str], environ: Mapping[str, str] | None = None,
                   which: Callable[[str], str | None] = shutil.which,
                   var_dir: str | Path = VAR_DIR) -> Storage:
    """A configured MinIO, else an installed `minio` binary, else a local directory."""
    environ = os.environ if environ is None else environ
    if environ.get("MINIO_ENDPOINT"):
        return Storage("external", settings["MINIO_ENDPOINT"], survives_restart=True)
    minio = which("minio")
    if minio:
        data_dir = Path(var_dir) / "minio"
        endpoint = LOCAL_MINIO_ENDPOINT
        return Storage(
            "minio", endpoint, survives_restart=True, data_dir=data_dir,
            argv=[minio, "server", str(data_dir), "--address", endpoint, "--quiet"],
            env={"MINIO_ROOT_USER": settings["MINIO_ACCESS_KEY"],
                 "MINIO_ROOT_PASSWORD": settings["MINIO_SECRET_KEY"]},
            service_env={"MINIO_ENDPOINT": endpoint})
    data_dir = Path(environ.get("MEDIA_LOCAL_DIR") or Path(var_dir) / "media").resolve()
    return Storage("local-dir", "", survives_restart=True, data_dir=data_dir,
                   service_env={"MEDIA_LOCAL_DIR": str(data_dir), "MINIO_ENDPOINT": ""})
