"""Where `make run` keeps media objects: a configured MinIO, else an installed
`minio` binary, else a local in-memory S3 server (scripts.local_s3).
Standard library only.
"""
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from scripts.local_settings import VAR_DIR
from scripts.probes import host_port


class Storage:
    """Where media objects go, and the process to start for it, if any."""

    def __init__(self, kind: str, endpoint: str, survives_restart: bool,
                 argv: list[str] | None = None, env: Mapping[str, str] | None = None,
                 data_dir: Path | None = None) -> None:
        self.kind = kind
        self.endpoint = endpoint
        self.survives_restart = survives_restart
        self.argv = argv
        self.env = env or {}
        self.data_dir = data_dir

    def describe(self) -> str:
        if self.argv is None:
            where = f"the configured MinIO at {self.endpoint} (MINIO_ENDPOINT)"
            fate = "its objects are kept by that server"
        elif self.kind == "minio":
            where = f"a MinIO server at {self.endpoint}, data in {self.data_dir}"
            fate = "objects SURVIVE a restart"
        else:
            where = f"a local S3-compatible server (moto) at {self.endpoint}, in memory"
            fate = "objects DO NOT survive a restart: uploads are lost when `make run` stops"
        return f"media storage: {where}; {fate}"


def choose_storage(settings: Mapping[str, str], environ: Mapping[str, str] | None = None,
                   which: Callable[[str], str | None] = shutil.which,
                   python: str = sys.executable, var_dir: str | Path = VAR_DIR) -> Storage:
    """A configured MinIO, else an installed `minio` binary, else a local moto server."""
    environ = os.environ if environ is None else environ
    endpoint = settings["MINIO_ENDPOINT"]
    if environ.get("MINIO_ENDPOINT"):
        return Storage("external", endpoint, survives_restart=True)
    minio = which("minio")
    if minio:
        data_dir = Path(var_dir) / "minio"
        return Storage(
            "minio", endpoint, survives_restart=True, data_dir=data_dir,
            argv=[minio, "server", str(data_dir), "--address", endpoint, "--quiet"],
            env={"MINIO_ROOT_USER": settings["MINIO_ACCESS_KEY"],
                 "MINIO_ROOT_PASSWORD": settings["MINIO_SECRET_KEY"]})
    host, port = host_port(endpoint, 9000)
    return Storage("local-s3", endpoint, survives_restart=False,
                   argv=[python, "-m", "scripts.local_s3", "--host", host, "--port", str(port),
                         "--request-log", str(Path(var_dir) / "log" / "s3-requests.log")])
