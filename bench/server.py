"""The API under test: gunicorn started as ``make run`` starts it (config/gunicorn.py: the balanced gthread
worker of api/workers.py; ANXUN_WORKERS × ANXUN_THREADS, access log on), on its own port and the benchmark database; and what the kernel says about its workers'
memory (``/proc/<pid>/status``: VmRSS now, VmHWM the peak, which ``clear_refs`` resets)."""

from __future__ import annotations

import os
import runpy
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import urllib3

from bench.config import ROOT

GUNICORN_CONFIG = ROOT / "config" / "gunicorn.py"


class Server:
    """``photo_root=None`` leaves ANXUN_PHOTO_ROOT unset (the default, relative to ``cwd``); ``cwd`` is where
    gunicorn runs (the checkout, as ``make run``; the code is imported from the checkout wherever that is);
    ``env`` adds settings."""

    def __init__(
        self,
        database_url: str,
        *,
        port: int,
        workers: int,
        threads: int,
        photo_root: Path | None,
        log_path: Path,
        cwd: Path = ROOT,
        env: dict | None = None,
        app: str = "wsgi:app",
    ):
        self.database_url = database_url
        self.port = port
        self.workers = workers
        self.threads = threads
        self.photo_root = photo_root
        self.log_path = log_path
        self.cwd = cwd
        self.env = env or {}
        self.app = app
        self.process: subprocess.Popen | None = None

    @property
    def worker_class(self) -> str:
        """The worker class config/gunicorn.py names, or what GUNICORN_CMD_ARGS puts in its place."""
        override = shlex.split((os.environ | self.env).get("GUNICORN_CMD_ARGS", ""))
        for flag in ("--worker-class", "-k"):
            if flag in override[:-1]:
                return override[override.index(flag) + 1]
        return runpy.run_path(str(GUNICORN_CONFIG))["worker_class"]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        env = dict(
            os.environ,
            DATABASE_URL=self.database_url,
            ANXUN_LOG_LEVEL=os.environ.get("ANXUN_BENCH_LOG_LEVEL", "WARNING"),
            **self.env,
        )
        env.pop("ANXUN_PHOTO_ROOT", None)
        if self.photo_root is not None:
            env["ANXUN_PHOTO_ROOT"] = str(self.photo_root)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        # The same command line as scripts/run.sh.
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(GUNICORN_CONFIG),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--access-logfile",
                "-",
                "--pythonpath",
                str(ROOT),
                self.app,
            ],
            cwd=self.cwd,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        http = urllib3.PoolManager(retries=False, timeout=2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if (
                    http.request("GET", f"{self.base}/api/v1/health").status == 200
                    and len(self.worker_pids()) >= self.workers
                ):
                    return
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /api/v1/health within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def reset_peaks(self) -> bool:
        """Reset every worker's VmHWM to its current RSS; False where the kernel refuses."""
        ok = True
        for pid in self.worker_pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def memory(self) -> dict[int, dict[str, float]]:
        """{pid: {"rss_mb", "peak_mb"}} for every worker."""
        return {pid: proc_memory(pid) for pid in self.worker_pids()}


def proc_memory(pid: int) -> dict[str, float]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        return {"rss_mb": 0.0, "peak_mb": 0.0}
    return {"rss_mb": round(values.get("VmRSS", 0.0), 1), "peak_mb": round(values.get("VmHWM", 0.0), 1)}
