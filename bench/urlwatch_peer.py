"""Peer benchmark: the CPU cost of urlwatch 2.29 checking a list of URLs served on 127.0.0.1.

    python -m bench.urlwatch_peer        # self-test: 200 generated ~50 KB pages, 2 rounds

urlwatch lives in its own virtualenv (`ensure_urlwatch`), so its dependencies never meet ours.
Each round measures two cycles, each one `urlwatch` subprocess over the whole job list:
  - first: an empty cache (a fresh sqlite file): every page is fetched, stored and reported NEW;
  - recheck: the same cache again, nothing changed on the server: urlwatch sends its stored ETag
    (If-None-Match) and the time of its last fetch (If-Modified-Since) and gets 304s.
CPU is user+sys of that one child, read from os.wait4's rusage, so neither this process nor any
other child (a server process, say) leaks into the figure. Wall time is around spawn-to-reap and
therefore includes interpreter start-up and imports, as any cron run of urlwatch would.

Choices that touch fairness:
  - Concurrency: urlwatch's thread pool is left at its built-in size (worker.MAX_WORKERS = 10, not
    a config setting). It changes wall time far more than CPU; shrinking it would only make the
    peer slower on the clock without making it cheaper.
  - Reporting: every reporter except stdout is off (they are off by default too), stdout's output
    goes to a temporary file. `display.unchanged` is turned on with `report.text.minimal`, so each
    job gets exactly one "VERB: location" line; that is how the verdicts are counted. It costs
    one short print per job; the default non-minimal report would have printed whole pages.
  - Proxies: proxy variables are removed from the child's environment and NO_PROXY covers
    127.0.0.1 (urlwatch passes $HTTP_PROXY to requests explicitly, which NO_PROXY alone would
    not override). HOME and the XDG directories point into the work directory, so urlwatch never
    reads or migrates a real ~/.urlwatch.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import IO

from scheduler.demo.sites import Route, SiteServer

URLWATCH_REQUIREMENT = "urlwatch==2.29"
URLWATCH_VERSION = "2.29"
DEFAULT_VENV = Path(__file__).resolve().parents[1] / ".bench-venv-urlwatch"
CYCLE_TIMEOUT = 900.0  # seconds; a hung peer should fail the rows, not the whole benchmark
INSTALL_TIMEOUT = 900.0

# Every reporter 2.29 knows besides stdout; all default to off, pinned here so a user-level
# default can never send mail or webhooks from a benchmark.
_SILENT_REPORTERS = (
    "email",
    "ifttt",
    "webservice",
    "pushover",
    "pushbullet",
    "mailgun",
    "telegram",
    "slack",
    "mattermost",
    "discord",
    "matrix",
    "xmpp",
    "prowl",
    "shell",
    "gotify",
)
_VERBS = ("NEW", "CHANGED", "UNCHANGED", "ERROR")
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy")


@dataclass(frozen=True)
class UrlwatchFiles:
    urls: Path  # multi-document YAML, one `url` job per document
    config: Path  # urlwatch.yaml
    hooks: Path  # empty hooks.py
    cache: Path  # sqlite database (minidb); absent until the first cycle
    home: Path  # HOME for the child, so no real ~/.urlwatch is touched
    jobs: int


@dataclass(frozen=True)
class CycleSample:
    cpu: float  # user+sys seconds of the urlwatch process
    wall: float
    new: int
    changed: int
    unchanged: int
    errors: int

    @property
    def jobs(self) -> int:
        """Jobs urlwatch reported a verdict for."""
        return self.new + self.changed + self.unchanged + self.errors


# --- the peer's virtualenv ---------------------------------------------------------------------


def ensure_urlwatch(venv_dir: Path = DEFAULT_VENV) -> Path:
    """Return venv_dir's `urlwatch` executable, creating the venv and installing it if needed."""
    exe = venv_dir / "bin" / "urlwatch"
    if _installed_version(exe) == URLWATCH_VERSION:
        return exe
    _run_setup([sys.executable, "-m", "venv", "--clear", str(venv_dir)], "create venv")
    pip = [str(venv_dir / "bin" / "python"), "-m", "pip", "install", "-q"]
    _run_setup([*pip, URLWATCH_REQUIREMENT], f"pip install {URLWATCH_REQUIREMENT}")
    found = _installed_version(exe)
    if found != URLWATCH_VERSION:
        raise RuntimeError(f"urlwatch: {exe} reports version {found!r} after install")
    return exe


def _installed_version(exe: Path) -> str | None:
    if not exe.exists():
        return None
    try:
        done = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    words = done.stdout.split()  # "urlwatch 2.29"
    return words[-1] if done.returncode == 0 and words else None


def _run_setup(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"urlwatch: {what} timed out after {INSTALL_TIMEOUT:.0f} s") from None
    except OSError as exc:
        raise RuntimeError(f"urlwatch: {what} failed to start: {exc}") from None
    if done.returncode != 0:
        raise RuntimeError(f"urlwatch: {what} failed: {_reason(done.stderr)}")


def _reason(stderr: str) -> str:
    # pip prints warnings (unreachable find-links and the like) before the real error line.
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["no output"])[-1]


# --- job list and configuration ----------------------------------------------------------------


def write_urlwatch_files(work: Path, urls: list[str]) -> UrlwatchFiles:
    """Write urls.yaml, urlwatch.yaml and an empty hooks.py under `work`; the cache is left out."""
    work.mkdir(parents=True, exist_ok=True)
    files = UrlwatchFiles(
        urls=work / "urls.yaml",
        config=work / "urlwatch.yaml",
        hooks=work / "hooks.py",
        cache=work / "cache.db",
        home=work / "home",
        jobs=len(urls),
    )
    files.home.mkdir(exist_ok=True)
    files.urls.write_text(_jobs_yaml(urls), "utf-8")
    # JSON is valid YAML, and it spares us a YAML writer in this environment.
    files.config.write_text(json.dumps(_config(), indent=2) + "\n", "utf-8")
    files.hooks.write_text("", "utf-8")
    return files


def _jobs_yaml(urls: list[str]) -> str:
    # JSON-quoted strings are valid YAML scalars, whatever characters the URL holds.
    docs = [
        f"name: {json.dumps(f'page {i}')}\nurl: {json.dumps(url)}\n" for i, url in enumerate(urls)
    ]
    return "---\n".join(docs)


def _config() -> dict[str, object]:
    reporters: dict[str, object] = {name: {"enabled": False} for name in _SILENT_REPORTERS}
    reporters["stdout"] = {"enabled": True, "color": False}
    reporters["text"] = {"minimal": True}
    return {
        "display": {"new": True, "error": True, "unchanged": True, "empty-diff": True},
        "report": reporters,
    }


# --- one cycle -----------------------------------------------------------------------------------


def run_urlwatch_cycle(
    exe: Path, files: UrlwatchFiles, timeout: float = CYCLE_TIMEOUT
) -> CycleSample:
    """Run urlwatch once over every job; CPU is the child's own rusage."""
    command = [
        str(exe),
        *("--urls", str(files.urls)),
        *("--config", str(files.config)),
        *("--hooks", str(files.hooks)),
        *("--cache", str(files.cache)),
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        status, cpu, wall = _spawn_and_reap(command, _child_env(files.home), out, err, timeout)
        out.seek(0)
        err.seek(0)
        stdout, stderr = (f.read().decode("utf-8", "replace") for f in (out, err))
    if status != 0:
        tail = " | ".join(stderr.strip().splitlines()[-5:]) or "no stderr"
        why = f"timed out after {timeout:.0f} s" if wall >= timeout else f"exited with {status}"
        raise RuntimeError(f"urlwatch {why}: {tail}")
    counts = _count_verdicts(stdout)
    return CycleSample(
        cpu, wall, counts["NEW"], counts["CHANGED"], counts["UNCHANGED"], counts["ERROR"]
    )


def _spawn_and_reap(
    command: list[str], env: dict[str, str], out: IO[bytes], err: IO[bytes], timeout: float
) -> tuple[int, float, float]:
    """Return (exit code, CPU seconds, wall seconds) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        # wait4 rather than RUSAGE_CHILDREN deltas: it is this child's usage and nothing else's.
        _, raw_status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(raw_status)  # reaped here; tell Popen so
    return proc.returncode, usage.ru_utime + usage.ru_stime, wall


def _child_env(home: Path) -> dict[str, str]:
    drop = {*_PROXY_VARS, *(name.upper() for name in _PROXY_VARS), "PYTHONPATH", "PYTHONHOME"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    local = "127.0.0.1,localhost"
    env.update(NO_PROXY=local, no_proxy=local, HOME=str(home))
    env.update(XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"))
    return env


def _count_verdicts(stdout: str) -> dict[str, int]:
    counts = dict.fromkeys(_VERBS, 0)
    for line in stdout.splitlines():
        verb = line.split(":", 1)[0]
        if verb in counts:
            counts[verb] += 1
    return counts


# --- rounds --------------------------------------------------------------------------------------


def measure_urlwatch(
    urls: list[str], work: Path, venv_dir: Path, rounds: int
) -> dict[str, list[CycleSample]]:
    """Per round: a first check on a fresh cache, then a re-check on the cache it filled."""
    exe = ensure_urlwatch(venv_dir)
    samples: dict[str, list[CycleSample]] = {"first": [], "recheck": []}
    for number in range(1, rounds + 1):
        round_dir = work / f"round-{number}"
        shutil.rmtree(round_dir, ignore_errors=True)  # a stale cache would make "first" a recheck
        files = write_urlwatch_files(round_dir, urls)
        samples["first"].append(run_urlwatch_cycle(exe, files))
        samples["recheck"].append(run_urlwatch_cycle(exe, files))
    return samples


# --- self-test -----------------------------------------------------------------------------------

_WORDS = (
    "council", "children", "services", "inspection", "judgement", "leadership", "improvement",
    "outcome", "report", "safeguarding", "partnership", "social", "care", "families", "placement",
    "monitoring", "visit", "requires", "good", "outstanding", "inadequate", "overall", "effective",
    "practice", "young", "people", "leavers", "fostering", "adoption", "early", "help", "plan",
)  # fmt: skip


def _page(number: int, size: int = 50_000) -> bytes:
    rng = random.Random(number)  # seeded per page: distinct pages, identical between runs
    parts = [f"<!doctype html><html><head><title>Page {number}</title></head><body><main>"]
    length = len(parts[0])
    while length < size:
        sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 30)))
        parts.append(f"<p>{sentence.capitalize()}.</p>\n")
        length += len(parts[-1])
    parts.append("</main></body></html>")
    return "".join(parts).encode("utf-8")


def _request_summary(site: SiteServer) -> str:
    plain = conditional = not_modified = 0
    for _, path, headers in site.requests:
        route = site.route(path)
        etag, since = headers.get("if-none-match"), headers.get("if-modified-since")
        if route is None or not (etag or since):
            plain += 1
            continue
        conditional += 1
        # SiteServer's own rule: If-None-Match decides when present, else an exact date match.
        modified = formatdate(route.modified, usegmt=True)
        not_modified += (etag == route.etag) if etag else (since == modified)
    return f"{plain} plain GETs, {conditional} conditional GETs, {not_modified} of them 304"


def _self_test(pages: int = 200, rounds: int = 2) -> None:
    routes = {f"/p/{i}": Route(body=_page(i)) for i in range(pages)}
    mean_kb = statistics.mean(len(route.body) for route in routes.values()) / 1000
    site = SiteServer(routes).start()
    try:
        urls = [site.url + path for path in routes]
        with tempfile.TemporaryDirectory(prefix="urlwatch-peer-") as tmp:
            start = time.perf_counter()
            exe = ensure_urlwatch(DEFAULT_VENV)
            print(f"urlwatch ready at {exe} ({time.perf_counter() - start:.1f} s)")
            samples = measure_urlwatch(urls, Path(tmp), DEFAULT_VENV, rounds)
        print(f"{pages} pages of {mean_kb:.1f} KB, {rounds} rounds (medians):")
        for cycle, runs in samples.items():
            cpu_ms = statistics.median(s.cpu for s in runs) * 1000 / pages
            wall = statistics.median(s.wall for s in runs)
            verdicts = ", ".join(
                f"new {s.new} unchanged {s.unchanged} errors {s.errors}" for s in runs
            )
            print(f"  {cycle:8} {cpu_ms:6.2f} CPU ms/URL  wall {wall:5.2f} s  [{verdicts}]")
        print("server:", _request_summary(site))
    finally:
        site.stop()


if __name__ == "__main__":
    _self_test()
