"""Real servers for the tests: the embedded MongoDB-compatible server, Redis, and hub processes under uvicorn."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TEST_JWT_SECRET = "test-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, process: subprocess.Popen | None = None, log: Path | None = None):
    """Poll `check` until it returns truthy; fail with the process log when it dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{tail}")
        try:
            result = check()
            if result:
                return result
        except Exception:
            pass
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    raise TimeoutError(f"{what} not ready after {timeout} s\n{tail}")


@dataclass
class RedisServer:
    process: subprocess.Popen
    url: str

    @classmethod
    def start(cls, workdir: Path, port: int | None = None) -> RedisServer:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed: `apt-get install redis-server` (make test does it)")
        port = port or free_port()
        log = workdir / "redis.log"
        process = subprocess.Popen(
            [
                exe,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        url = f"redis://127.0.0.1:{port}/0"
        import redis

        wait_until(lambda: redis.Redis.from_url(url).ping(), 15, "redis-server", process, log)
        return cls(process, url)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class HubProcess:
    """`python -m hub serve` in a child process, as an operator would run it."""

    port: int
    env: dict[str, str]
    log: Path
    cwd: Path
    process: subprocess.Popen | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> HubProcess:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "serve", "--port", str(self.port), *self.extra_args],
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_until(
            lambda: httpx.get(self.url + "/readyz", timeout=2).status_code == 200,
            timeout,
            f"hub on port {self.port}",
            self.process,
            self.log,
        )
        return self

    def stop(self) -> int:
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def hub_env(**settings: str) -> dict[str, str]:
    """The test process's environment without any HUB_ setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_") and k != "PORT"}
    env.update({"HUB_LOG_LEVEL": "INFO", "HUB_JWT_SECRET": TEST_JWT_SECRET, "HUB_VALIDATE_EVENTS": "true"})
    env.update({f"HUB_{k.upper()}": v for k, v in settings.items()})
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hub", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
