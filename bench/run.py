"""The benchmark: the hub against a bare python-socketio relay, in one run, on this machine.

    python -m bench.run            # full: 500 chat consoles, 1,000 wallboards, 200-console storm, 10 min of load
    python -m bench.run --quick    # the same shape, smaller and shorter (under 2 minutes)
    python -m bench.run --scale    # K hubs on one Redis and one MongoDB with 10,000 consoles (bench/scale.py)

It starts a fresh hub (embedded MongoDB-compatible server and a local redis-server, or the URIs
given), the bare relay (bench/baseline.py), console fleets (bench/fleet.py) and load generators
(bench/loadgen.py) in processes of their own; measures both servers alternately under identical
load; and writes bench/results/<mode>.json and .png. CPU is each server process's own
(utime + stime from /proc), memory its resident set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.embedded_rate import measure as write_rate
from hub import embedded
from hub.auth import Principal, issue_token
from hub.clock import SystemClock
from hub.runtime import Runtime
from hub.settings import Settings
from schemas.directory import Role
from tests.servers import HubProcess, RedisServer, free_port, hub_env, wait_until

SECRET = "bench-secret-" + "x" * 40
RESULTS = Path(__file__).resolve().parent / "results"
TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """A process and its descendants (`hub serve --workers N` serves from its children)."""
    found = [pid]
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile
            continue
        for child in children:
            found += _tree(int(child))
    return found


def cpu_us(pid: int) -> float:
    """CPU time of the process and its descendants, as long as they live."""
    total = 0.0
    for each in _tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) * 1e6 / TICK
    return total


def rss_kb(pid: int) -> int:
    total = 0
    for each in _tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def mongo_ops(uri: str) -> int:
    """Operations the MongoDB server has answered so far (serverStatus opcounters, commands included)."""
    from pymongo import MongoClient

    with MongoClient(uri) as client:
        return sum(client.admin.command("serverStatus")["opcounters"].values())


def redis_commands(url: str) -> int:
    import redis

    with redis.Redis.from_url(url) as client:
        return int(client.info("stats")["total_commands_processed"])


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


class FleetProcess:
    """bench/fleet.py in a process of its own, spoken to in JSON lines."""

    async def start(self) -> FleetProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.fleet", stdin=subprocess.PIPE, stdout=subprocess.PIPE, limit=2**24
        )
        return self

    async def ask(self, **command: Any) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write((json.dumps(command) + "\n").encode())
        await self.proc.stdin.drain()
        line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the console fleet died during {command['cmd']}")
        return json.loads(line)

    async def settle(self, phase: str, expected: int, timeout: float = 30) -> dict[str, Any]:
        """The phase's report once `expected` deliveries arrived, or once they stop coming."""
        deadline, last, last_change = time.monotonic() + timeout, -1, time.monotonic()
        while True:
            report = await self.ask(cmd="report", phase=phase)
            if report["deliveries"] != last:
                last, last_change = report["deliveries"], time.monotonic()
            if report["deliveries"] >= expected or time.monotonic() > deadline or time.monotonic() - last_change > 3:
                return report
            await asyncio.sleep(0.2)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.ask(cmd="quit"), 30)
        except Exception:
            pass
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()


async def loadgen(spec: dict[str, Any]) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.loadgen", stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    out, _ = await proc.communicate(json.dumps(spec).encode())
    return json.loads(out)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.sizes = (
            {"chat": 100, "wallboard": 200, "storm": 50, "rates": [50, 100], "seconds": 4, "ramp": [150, 200]}
            if self.quick
            else {
                "chat": 500,
                "wallboard": 1000,
                "storm": 200,
                "rates": [50, 100],
                "seconds": 10,
                "ramp": [150, 200, 300, 400, 600],
            }
        )
        self.results: dict[str, Any] = {
            "mode": "quick" if self.quick else "full",
            "machine": machine(),
            "started_at": datetime.now(UTC).isoformat(),
        }
        self.began = time.monotonic()

    def log(self, message: str) -> None:
        print(f"[{time.monotonic() - self.began:6.1f}s] {message}", file=sys.stderr, flush=True)

    # -- servers ----------------------------------------------------------------------------------

    def start_servers(self, workdir: Path) -> None:
        self.mongo = None
        self.mongo_uri = self.args.mongodb_uri
        if not self.mongo_uri:
            self.mongo = embedded.start(workdir / "mongo")
            self.mongo_uri = self.mongo.uri
        self.redis = None
        self.redis_url = self.args.redis_url
        if not self.redis_url:
            self.redis = RedisServer.start(workdir)
            self.redis_url = self.redis.url
        extra = dict(item.split("=", 1) for item in self.args.hub_setting)
        env = hub_env(
            mongodb_uri=self.mongo_uri,
            mongodb_db="bench",
            redis_url=self.redis_url,
            log_level="WARNING",
            zalo_openapi_url="http://127.0.0.1:9",
            jwt_secret=SECRET,
            catchup_interval_s="30",
            validate_events="false",  # as in production: the tests' catalogue check costs CPU per event
            **extra,
        )
        self.results["hub_settings"] = extra
        self.hub = HubProcess(port=free_port(), env=env, log=workdir / "hub.log", cwd=workdir).start()
        port = free_port()
        self.baseline = subprocess.Popen(
            [sys.executable, "-m", "bench.baseline", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self.baseline_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(self.baseline_url + "/healthz").status_code == 200, 30, "baseline", self.baseline)
        self.log(f"hub on {self.hub.url}, baseline on {self.baseline_url}, MongoDB {self.mongo_uri}")

    def stop_servers(self) -> None:
        self.hub.stop()
        self.baseline.terminate()
        self.baseline.wait()
        if self.redis:
            self.redis.stop()
        if self.mongo:
            self.mongo.stop()

    def storage_counters(self) -> dict[str, float | None]:
        return {
            "embedded_cpu_us": cpu_us(self.mongo.process.pid) if self.mongo else None,
            "mongo_ops": mongo_ops(self.mongo_uri),
            "redis_commands": redis_commands(self.redis_url),
        }

    # -- data -------------------------------------------------------------------------------------

    async def setup(self, agents: int, users: int) -> None:
        runtime = await Runtime.open(
            Settings(mongodb_uri=self.mongo_uri, mongodb_db="bench", jwt_secret=SECRET, redis_url=self.redis_url),
            SystemClock(),
        )
        try:
            company, owner, _ = await runtime.directory.bootstrap("bench", "Bench", "0900000000", "Owner", "pw-bench-1")
            now = runtime.clock.now()
            members = [
                {
                    "_id": f"agent{i:04d}",
                    "company_id": company.id,
                    "account_id": f"acc{i}",
                    "name": f"A{i}",
                    "phone": f"09{i:08d}",
                    "role": "user",
                    "department_id": None,
                    "extension": None,
                    "open_threads": 0,
                    "last_assigned_at": None,
                    "created_at": now,
                }
                for i in range(agents)
            ]
            await runtime.store.members.insert_many(members)
            self.company_id, self.owner_id = company.id, owner.id
            self.owner_token = issue_token(SECRET, Principal(owner.id, company.id, Role.owner), now, 86400)
            self.agent_tokens = {
                m["_id"]: issue_token(SECRET, Principal(m["_id"], company.id, Role.user), now, 86400) for m in members
            }
            self.oa = {"app_id": "9" * 19, "oa_id": "8" * 19, "key": "bench-oa-key"}
            await runtime.store.oa_links.insert_one(
                {
                    "_id": "benchlink",
                    "company_id": company.id,
                    "name": "Bench OA",
                    "app_id": self.oa["app_id"],
                    "oa_id": self.oa["oa_id"],
                    "oa_secret_key": self.oa["key"],
                    "app_secret": "s",
                    "access_token": "a",
                    "refresh_token": "r",
                    "status": "active",
                    "department_id": None,
                    "created_at": now,
                    "refresh_lease_until": None,
                }
            )
            owner_principal = Principal(owner.id, company.id, Role.owner)
            self.pbx_secret = await runtime.telephony.rotate_pbx_secret(owner_principal)
            self.wallboard_token = (await runtime.wallboards.issue(owner_principal, "bench"))["token"]
        finally:
            await runtime.close()
        self.users = [str(10**18 + i) for i in range(users)]
        agent_ids = list(self.agent_tokens)
        self.thread_of = {user: agent_ids[i % len(agent_ids)] for i, user in enumerate(self.users)}
        if not self.users:  # the scale mode makes its threads itself (bench/scale.py)
            return
        # one first message per customer makes the thread; then each goes to its agent
        await loadgen(
            {
                "url": f"{self.hub.url}/webhooks/zalo",
                "kind": "zalo",
                "phase": "setup",
                "rate": 50,
                "seconds": len(self.users) / 50,
                "sign": self.oa,
                "users": self.users,
            }
        )
        async with httpx.AsyncClient(timeout=30) as http:
            threads = (
                await http.get(
                    f"{self.hub.url}/api/threads?limit=200", headers={"Authorization": f"Bearer {self.owner_token}"}
                )
            ).json()["threads"]
            for thread in threads:
                await http.post(
                    f"{self.hub.url}/api/threads/{thread['id']}/assign",
                    headers={"Authorization": f"Bearer {self.owner_token}"},
                    json={"member_id": self.thread_of[thread["user_id"]]},
                )
            await http.post(f"{self.baseline_url}/setup", json={"threads": self.thread_of, "owner": self.owner_id})
        self.log(f"set up: {agents} agents, {len(threads)} threads")

    # -- scenarios --------------------------------------------------------------------------------

    def targets(self) -> dict[str, dict[str, Any]]:
        return {
            "hub": {"url": self.hub.url, "pid": self.hub.process.pid, "sign": self.oa},
            "baseline": {"url": self.baseline_url, "pid": self.baseline.pid, "sign": None},
        }

    async def chat(self) -> None:
        consoles = self.sizes["chat"]
        agents = list(self.agent_tokens)[: consoles - 1]
        fleets: dict[str, FleetProcess] = {}
        idle: dict[str, Any] = {}
        for name, target in self.targets().items():
            before = rss_kb(target["pid"])
            fleets[name] = await FleetProcess().start()
            auths = (
                [{"token": self.owner_token}] + [{"token": self.agent_tokens[a]} for a in agents]
                if name == "hub"
                else [{"room": self.owner_id}] + [{"room": a} for a in agents]
            )
            connected = await fleets[name].ask(cmd="connect", url=target["url"], auths=auths)
            await asyncio.sleep(3)  # let connection set-up garbage settle before reading memory
            after = rss_kb(target["pid"])
            idle[name] = {
                "consoles": connected,
                "rss_before_kb": before,
                "rss_after_kb": after,
                "kb_per_idle_console": round((after - before) / max(1, connected["connected"]), 1),
            }
            self.log(f"{name}: {connected} consoles, {idle[name]['kb_per_idle_console']} KB each")
        self.results["idle_memory"] = idle
        # only customers whose agent has a console here, so every webhook reaches owner + assignee
        users = [u for u, agent in self.thread_of.items() if agent in set(agents)]
        self.chat_fleets, self.chat_users = fleets, users
        fixed = []
        for rate in self.sizes["rates"]:
            for name in self.targets():  # alternately, under the same load
                fixed.append(await self._chat_phase(name, f"rate{rate}", rate))
        self.results["chat_fixed_rates"] = fixed

    async def _chat_phase(self, name: str, label: str, rate: int) -> dict[str, Any]:
        target = self.targets()[name]
        phase = f"chat-{name}-{label}"
        cpu0 = cpu_us(target["pid"])
        storage0 = self.storage_counters() if name == "hub" else None
        profiler = None
        if self.args.profile and name == "hub" and label == f"rate{max(self.sizes['rates'])}":
            spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
            profiler = subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(target["pid"]),
                    "--format",
                    "raw",
                    "--duration",
                    str(int(self.sizes["seconds"])),
                    "--rate",
                    "200",
                    "--subprocesses",
                    "--output",
                    str(self.args.out / f"{self.results['mode']}-hub-profile.txt"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        sent = await loadgen(
            {
                "url": f"{target['url']}/webhooks/zalo",
                "kind": "zalo",
                "phase": phase,
                "rate": rate,
                "seconds": self.sizes["seconds"],
                "sign": target["sign"],
                "users": self.chat_users,
            }
        )
        per_webhook = 4 if name == "hub" else 2  # hub: message.created + thread.updated, x2 consoles
        report = await self.chat_fleets[name].settle(phase, sent["ok"] * per_webhook)
        cpu = cpu_us(target["pid"]) - cpu0
        if profiler:
            profiler.wait()
        row = {
            "target": name,
            "rate": rate,
            **sent,
            **report,
            "cpu_us_per_webhook": round(cpu / max(1, sent["ok"]), 1),
            "cpu_us_per_delivery": round(cpu / max(1, report["deliveries"]), 1),
        }
        if storage0 is not None:
            # What one webhook costs the storage behind the hub: the embedded server's own CPU (when the
            # bench started it) and the MongoDB operations and Redis commands the hub sent.
            storage = self.storage_counters()
            per = max(1, sent["ok"])
            row["storage_per_webhook"] = {
                key: round((storage[key] - storage0[key]) / per, 1) for key in storage if storage[key] is not None
            }
            if row["storage_per_webhook"].get("embedded_cpu_us") is not None:
                row["hub_and_embedded_cpu_us_per_webhook"] = round(
                    row["cpu_us_per_webhook"] + row["storage_per_webhook"]["embedded_cpu_us"], 1
                )
        self.log(
            f"{phase}: p50 {report['p50_ms']} p99 {report['p99_ms']} ms, "
            f"{row['cpu_us_per_webhook']} us/webhook, {row['cpu_us_per_delivery']} us/delivery"
            + (f", storage {row['storage_per_webhook']}" if storage0 is not None else "")
        )
        return row

    async def ramp(self) -> None:
        """Rates rising until a server's p99 passes 100 ms (last, as an overload leaves a backlog)."""
        rows, stopped = [], set()
        for rate in self.sizes["ramp"]:
            for name in self.targets():
                if name in stopped:
                    continue
                row = await self._chat_phase(name, f"ramp{rate}", rate)
                rows.append(row)
                if rate >= 200 and (row["errors"] or row["p99_ms"] is None or row["p99_ms"] >= 100):
                    stopped.add(name)  # 200/s is always measured: the issue's latency target is set there
        self.results["chat_ramp"] = rows
        for name in self.targets():
            ok = [
                r["rate"]
                for r in self.results["chat_fixed_rates"] + rows
                if r["target"] == name and r["errors"] == {} and r["p99_ms"] is not None and r["p99_ms"] < 100
            ]
            self.results.setdefault("sustained_webhooks_per_s_p99_under_100ms", {})[name] = max(ok) if ok else None
        for fleet in self.chat_fleets.values():
            await fleet.stop()

    async def wallboard(self) -> None:
        consoles = self.sizes["wallboard"]
        rate, rows = 20, []
        for name, target in self.targets().items():
            fleet = await FleetProcess().start()
            auths = (
                [{"token": self.wallboard_token}] * consoles if name == "hub" else [{"room": "wallboards"}] * consoles
            )
            connected = await fleet.ask(cmd="connect", url=target["url"], auths=auths)
            phase = f"wall-{name}"
            cpu0 = cpu_us(target["pid"])
            sent = await loadgen(
                {
                    "url": f"{target['url']}/webhooks/pbx" + ("/bench" if name == "hub" else ""),
                    "kind": "pbx",
                    "phase": phase,
                    "rate": rate,
                    "seconds": self.sizes["seconds"],
                    "sign": {"secret": self.pbx_secret} if name == "hub" else None,
                }
            )
            report = await fleet.settle(phase, sent["ok"] * consoles)
            cpu = cpu_us(target["pid"]) - cpu0
            rows.append(
                {
                    "target": name,
                    "consoles": connected,
                    "rate": rate,
                    **sent,
                    **report,
                    "cpu_us_per_webhook": round(cpu / max(1, sent["ok"]), 1),
                    "cpu_us_per_delivery": round(cpu / max(1, report["deliveries"]), 1),
                }
            )
            self.log(
                f"{phase}: {connected}, p50 {report['p50_ms']} p99 {report['p99_ms']} ms, "
                f"{rows[-1]['cpu_us_per_delivery']} us/delivery"
            )
            await fleet.stop()
        self.results["wallboard"] = rows

    async def storm(self) -> None:
        consoles = self.sizes["storm"]
        fleet = await FleetProcess().start()
        await fleet.ask(cmd="connect", url=self.hub.url, auths=[{"token": self.owner_token}] * consoles)
        await asyncio.sleep(1)
        await fleet.ask(cmd="disconnect")
        # 100 webhooks while they are away: 200 events each (message.created + thread.updated)
        await loadgen(
            {
                "url": f"{self.hub.url}/webhooks/zalo",
                "kind": "zalo",
                "phase": "storm",
                "rate": 100,
                "seconds": 1,
                "sign": self.oa,
                "users": self.users,
            }
        )
        result = await fleet.ask(cmd="storm", url=self.hub.url)
        self.results["reconnect_storm"] = result
        self.log(f"storm: {result}")
        await fleet.stop()

    async def soak(self, until_s: float) -> None:
        """Keep a moderate chat load on until `until_s` seconds into the run (for the write-rate drift)."""
        while time.monotonic() - self.began < until_s:
            left = until_s - (time.monotonic() - self.began)
            await loadgen(
                {
                    "url": f"{self.hub.url}/webhooks/zalo",
                    "kind": "zalo",
                    "phase": "soak",
                    "rate": 50,
                    "seconds": min(60.0, max(1.0, left)),
                    "sign": self.oa,
                    "users": self.users,
                }
            )
            self.log("soak: a minute more of 50 webhooks/s")

    async def run(self) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            self.start_servers(Path(tmp))
            try:
                self.results["embedded_write_rate_start"] = await write_rate(self.mongo_uri, 1000)
                await self.setup(agents=self.sizes["chat"] - 1, users=min(200, 2 * self.sizes["chat"]))
                await self.chat()
                await self.storm()
                await self.wallboard()
                if not self.quick:
                    await self.soak(until_s=600)
                await self.ramp()
                self.results["embedded_write_rate_end"] = {
                    **await write_rate(self.mongo_uri, 1000),
                    "after_s_of_load": round(time.monotonic() - self.began),
                }
            except BaseException:
                kept = Path(tempfile.gettempdir()) / "bench-hub.log"
                kept.write_text((Path(tmp) / "hub.log").read_text(errors="replace"))
                print(f"bench failed; the hub's log is kept in {kept}", file=sys.stderr)
                raise
            finally:
                self.stop_servers()
        self.results["finished_at"] = datetime.now(UTC).isoformat()
        self.results["targets"] = self.verdict()
        return self.results

    def verdict(self) -> dict[str, Any]:
        """Each figure of issue 17 beside its goal (README, "Benchmark")."""
        r = self.results
        fixed = {(row["target"], row["rate"]): row for row in r.get("chat_fixed_rates", []) + r.get("chat_ramp", [])}
        top = max(self.sizes["rates"])
        hub, base = fixed.get(("hub", top)), fixed.get(("baseline", top))
        at200 = fixed.get(("hub", 200))
        walls = {row["target"]: row for row in r.get("wallboard", [])}

        def ratio(a: float | None, b: float | None) -> float | None:
            return round(a / b, 2) if a is not None and b else None

        return {
            "hub_cpu_us_per_webhook": hub["cpu_us_per_webhook"] if hub else None,
            "goal_hub_cpu_us_per_webhook": 1500,
            "hub_vs_relay_cpu_per_webhook": ratio(
                hub and hub["cpu_us_per_webhook"], base and base["cpu_us_per_webhook"]
            ),
            "goal_hub_vs_relay_cpu_per_webhook": 1.7,
            "hub_and_embedded_cpu_us_per_webhook": hub.get("hub_and_embedded_cpu_us_per_webhook") if hub else None,
            "goal_hub_and_embedded_cpu_us_per_webhook": 3000,
            "fan_out_cpu_per_delivery_vs_relay": ratio(
                walls.get("hub", {}).get("cpu_us_per_delivery"), walls.get("baseline", {}).get("cpu_us_per_delivery")
            ),
            "goal_fan_out_cpu_per_delivery_vs_relay": 1.1,
            "p99_ms_at_200_per_s": at200["p99_ms"] if at200 else None,
            "errors_at_200_per_s": at200["errors"] if at200 else None,
            "goal_p99_ms_at_200": 50,
            "wallboard_p99_ms": walls.get("hub", {}).get("p99_ms"),
            "goal_wallboard_p99_ms": 100,
            "kb_per_idle_console": r["idle_memory"]["hub"]["kb_per_idle_console"],
            "goal_kb_per_idle_console": 46,
            "reconnect_storm_s": r.get("reconnect_storm", {}).get("storm_s"),
            "goal_storm_s": 3.3,
        }


def summarize_profile(raw: Path) -> str:
    """py-spy's collapsed stacks -> the frames holding the most time (inclusive), as text."""
    from collections import Counter

    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        total += int(count)
        for frame in dict.fromkeys(f.rsplit(":", 1)[0] for f in stack.split(";")):
            inclusive[frame] += int(count)
    rows = [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(60)]
    return f"py-spy samples: {total} (200 Hz; the rest of the time the hub's loop was idle)\n" + "\n".join(rows)


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["chat_fixed_rates"] + results["chat_ramp"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for target, color in (("hub", "tab:blue"), ("baseline", "tab:gray")):
        mine = sorted((r for r in rows if r["target"] == target and r["p99_ms"] is not None), key=lambda r: r["rate"])
        rates = [r["rate"] for r in mine]
        left.plot(rates, [r["p50_ms"] for r in mine], "o-", color=color, label=f"{target} p50")
        left.plot(rates, [r["p99_ms"] for r in mine], "s--", color=color, label=f"{target} p99")
    left.axhline(100, color="tab:red", lw=0.8)
    left.set_yscale("log")
    left.set(
        xlabel="webhooks/s",
        ylabel="webhook -> console (ms)",
        title=f"Chat, {results['idle_memory']['hub']['consoles']['connected']} consoles",
    )
    left.legend(fontsize=8)
    fixed = results["chat_fixed_rates"]
    labels = sorted({r["rate"] for r in fixed})
    width = 0.38
    for i, target in enumerate(("hub", "baseline")):
        values = [
            next((r["cpu_us_per_delivery"] for r in fixed if r["target"] == target and r["rate"] == rate), 0)
            for rate in labels
        ]
        right.bar(
            [x + i * width for x in range(len(labels))], values, width, label=target, color=("tab:blue", "tab:gray")[i]
        )
    right.set_xticks([x + width / 2 for x in range(len(labels))], [f"{rate}/s" for rate in labels])
    right.set(ylabel="server CPU µs per delivered event", title="CPU per delivery")
    right.legend(fontsize=8)
    m = results["machine"]
    fig.suptitle(
        f"{m['cpu']} · {m['cores']} cores · {m['memory_gib']} GiB · Python {m['python']} · {results['mode']} run",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller and shorter: under 2 minutes")
    parser.add_argument("--mongodb-uri", help="measure against this MongoDB instead of a fresh embedded server")
    parser.add_argument("--redis-url", help="use this Redis instead of starting a local redis-server")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--profile", action="store_true", help="py-spy the hub during the top fixed rate")
    parser.add_argument(
        "--hub-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra hub setting (without HUB_), e.g. fast_json=false, to measure its effect",
    )
    parser.add_argument("--scale", action="store_true", help="K hubs, one Redis, one MongoDB, many consoles")
    parser.add_argument("--hubs", type=int, default=2, help="--scale: hub processes")
    parser.add_argument("--consoles", type=int, default=10_000, help="--scale: connected consoles")
    parser.add_argument("--rate", type=float, default=100, help="--scale: chat webhooks per second, all hubs")
    parser.add_argument("--seconds", type=float, default=20, help="--scale: how long the load lasts")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.scale:
        from bench.scale import Scale

        async def scale() -> dict[str, Any]:
            with tempfile.TemporaryDirectory() as tmp:
                bench = Scale(args)
                return {"machine": bench.results["machine"], **await bench.run_scale(Path(tmp))}

        result = asyncio.run(scale())
        (args.out / "scale.json").write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
        return
    results = asyncio.run(Bench(args).run())
    name = results["mode"] + "".join(f"-{k}-{v}" for k, v in results["hub_settings"].items())
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=2))
    chart(results, args.out / f"{name}.png")
    raw = args.out / f"{name}-hub-profile.txt"
    if raw.exists():
        (args.out / f"{name}-hub-profile-top.txt").write_text(summarize_profile(raw))
        raw.unlink()
    print(json.dumps(results["targets"], indent=2))
    print(f"wrote {args.out / (name + '.json')} and {args.out / (name + '.png')}", file=sys.stderr)


if __name__ == "__main__":
    main()
