"""The embedded MongoDB-compatible server (SecantusDB's secantusd-py) run as a child process.

Used when HUB_MONGODB_URI is unset. WiredTiger allows one process per data directory, so the
running server records itself in `<data_dir>/embedded.json`; another hub process or a CLI
command on the same directory finds it there and connects instead of starting a second one.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)

STATE_FILE = "embedded.json"
# Standalone: no oplog. As a one-node replica set (its default) the server's write rate falls from
# ~1,000 to ~100 inserts/s after ~10,000 writes (README, "The embedded server"); the hub needs neither
# transactions nor change streams.
STANDALONE = True


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started; the message says what to do instead."""


def uri_for(port: int) -> str:
    # Talk to the one server directly, whatever topology it advertises.
    return f"mongodb://127.0.0.1:{port}/?directConnection=true"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(uri: str, timeout_ms: int = 1000) -> bool:
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_uri(data_dir: Path) -> str | None:
    """The URI of an embedded server already serving `data_dir`, if one is."""
    state = data_dir / STATE_FILE
    try:
        info = json.loads(state.read_text())
    except (OSError, ValueError):
        return None
    uri = uri_for(int(info["port"]))
    if _pid_alive(int(info["pid"])) and _answers(uri):
        return uri
    return None


@dataclass
class EmbeddedServer:
    """A secantusd-py child process this process started and must stop."""

    process: subprocess.Popen
    uri: str
    data_dir: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        state = self.data_dir / STATE_FILE
        try:
            if json.loads(state.read_text()).get("pid") == self.process.pid:
                state.unlink()
        except (OSError, ValueError):
            pass


def _command() -> list[str]:
    exe = shutil.which("secantusd-py") or str(Path(sys.executable).with_name("secantusd-py"))
    if not Path(exe).exists():
        raise EmbeddedServerError(
            "the embedded MongoDB-compatible server (secantusd-py from the SecantusDB package) is not "
            "installed. Install the hub with `pip install -e .` (or `make run`), or set HUB_MONGODB_URI "
            "to a MongoDB server."
        )
    return [exe]


def start(
    data_dir: Path, timeout_s: float = 30.0, standalone: bool = STANDALONE, port: int | None = None
) -> EmbeddedServer:
    """Start secantusd-py on a free loopback port with data in `data_dir` and wait until it answers."""
    data_dir = data_dir.resolve()
    storage = data_dir / "mongo"
    try:
        storage.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmbeddedServerError(
            f"cannot create the data directory {storage}: {exc.strerror}. Set HUB_DATA_DIR to a writable "
            "directory, or HUB_MONGODB_URI to a MongoDB server."
        ) from exc
    port = port or _free_port()
    log_path = data_dir / "embedded.log"
    cmd = _command() + [
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(storage),
        "--log-level",
        "WARNING",
        *(["--standalone"] if standalone else []),
    ]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    uri = uri_for(port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-1500:]
            raise EmbeddedServerError(
                f"the embedded MongoDB-compatible server exited with code {process.returncode} before it "
                f"answered. Its log ({log_path}) ends with:\n{tail}\nIf another process holds {storage}, stop "
                "it or set HUB_DATA_DIR to another directory; or set HUB_MONGODB_URI to a MongoDB server."
            )
        if _answers(uri, timeout_ms=300):
            (data_dir / STATE_FILE).write_text(json.dumps({"pid": process.pid, "port": port}))
            log.info("embedded server ready", extra={"uri": uri, "data_dir": str(data_dir)})
            return EmbeddedServer(process=process, uri=uri, data_dir=data_dir)
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise EmbeddedServerError(
        f"the embedded MongoDB-compatible server did not answer within {timeout_s:.0f} s (log: {log_path}). "
        "Raise HUB_EMBEDDED_START_TIMEOUT_S on a slow machine, or set HUB_MONGODB_URI to a MongoDB server."
    )


def attach_or_start(data_dir: Path, timeout_s: float = 30.0) -> tuple[str, EmbeddedServer | None]:
    """Use the embedded server already serving `data_dir`, or start one (returned so the caller stops it)."""
    uri = running_uri(data_dir.resolve())
    if uri:
        return uri, None
    server = start(data_dir, timeout_s)
    return server.uri, server
