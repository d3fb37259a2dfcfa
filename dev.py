#!/usr/bin/env python3
"""The front door for developers and new users. Standard library only.

    python3 dev.py run [--port 8000] [--clients N] [--no-celery]
        Set everything up and run the product on the embedded default (SQLite, Celery over a
        file-system broker, no servers needed): migrate, load demo data, start a Celery worker
        and beat in the background and the dev server at http://127.0.0.1:8000/.
        Ctrl-C stops everything.
    python3 dev.py test [pytest args...]
        Set up, then run pytest with the given arguments. DATABASE_URL / REDIS_URL from the
        environment pass through (without them: SQLite, and tests needing services skip).
    python3 dev.py setup
        Only the set-up: find Python >= 3.12, create .venv, install the project into it.

Set-up is idempotent: the install is skipped while pyproject.toml is unchanged since the last
successful install (a hash is kept in .venv/). See docs/CONFIGURATION.md for the settings.
"""

from __future__ import annotations  # so an old python3 gets to the "too old" message

import argparse
import contextlib
import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

MIN_PYTHON = (3, 12)
ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
STAMP = VENV / ".ispcrm-install-stamp"
VAR_DIR = Path(os.environ.get("ISPCRM_VAR_DIR") or ROOT / "var")
DEMO_PASSWORD = "demo12345"


def say(message: str) -> None:
    print(f"\033[1m==> {message}\033[0m" if sys.stdout.isatty() else f"==> {message}", flush=True)


def die(message: str) -> None:
    print(f"dev.py: error: {message}", file=sys.stderr)
    sys.exit(1)


# --- Python and the virtualenv ----------------------------------------------------------------
def python_version(executable: str) -> tuple[int, int] | None:
    """The (major, minor) of an interpreter, or None if it does not run (e.g. a pyenv shim
    for a version that is not active)."""
    try:
        out = subprocess.run([executable, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
        major, minor = out.split()
        return int(major), int(minor)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def find_python() -> str | None:
    """A Python >= 3.12: python3.12/3.13 on PATH, then pyenv's versions (oldest first)."""
    candidates = [shutil.which(name) for name in ("python3.12", "python3.13")]
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")

    def version_key(path: str) -> tuple:
        parts = Path(path).parent.parent.name.split(".")
        return tuple(int(p) if p.isdigit() else 0 for p in parts)

    candidates += sorted(glob.glob(f"{pyenv_root}/versions/3.*/bin/python3"), key=version_key)
    for candidate in filter(None, candidates):
        version = python_version(candidate)
        if version and version >= MIN_PYTHON:
            return candidate
    return None


def ensure_python() -> None:
    """Re-exec this script under a Python >= 3.12 if the current one is older."""
    if sys.version_info >= MIN_PYTHON:
        return
    if os.environ.get("ISPCRM_DEV_REEXEC"):
        die("re-exec did not give a new enough Python")  # never loop
    python = find_python()
    if not python:
        die(f"Python >= 3.12 is needed (this is {sys.version.split()[0]}), and none was found "
            "as python3.12/python3.13 on PATH or under ~/.pyenv/versions. Install Python 3.12 "
            "(e.g. `apt install python3.12 python3.12-venv` or `pyenv install 3.12`).")
    print(f"dev.py: Python {sys.version.split()[0]} is too old, using {python}", flush=True)
    os.environ["ISPCRM_DEV_REEXEC"] = "1"
    os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])


def ensure_venv() -> None:
    if VENV.exists() and (python_version(str(VENV_PY)) or (0, 0)) < MIN_PYTHON:
        say(f"{VENV} is missing or uses an old Python: re-creating it")
        shutil.rmtree(VENV)
    if not VENV.exists():
        say(f"Creating {VENV} with Python {sys.version.split()[0]}")
        result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
        if result.returncode != 0:
            shutil.rmtree(VENV, ignore_errors=True)
            die("could not create the virtualenv; on Debian/Ubuntu install the venv package "
                "(e.g. `apt install python3.12-venv`) and try again.")

    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    say('Installing the project and its dependencies: pip install -e ".[dev]" '
        "(the first time takes a minute or two)")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    result = subprocess.run([str(VENV_PY), "-m", "pip", "install", "--quiet", "-e", ".[dev]"],
                            cwd=ROOT, env=env)
    if result.returncode != 0:
        die("pip install failed (see the messages above)")
    STAMP.write_text(wanted + "\n")


def bootstrap() -> None:
    ensure_python()
    ensure_venv()


def manage(*args: str) -> None:
    say("manage.py " + " ".join(args))
    if subprocess.run([str(VENV_PY), "manage.py", *args], cwd=ROOT).returncode != 0:
        die(f"`manage.py {' '.join(args)}` failed (see the messages above)")


# --- run ---------------------------------------------------------------------------------------
def demo_logins() -> str:
    roles = subprocess.run(
        [str(VENV_PY), "-c", "from ispcrm.roles import ALL_ROLES; print(*ALL_ROLES)"],
        cwd=ROOT, capture_output=True, text=True).stdout.split()
    lines = [f"    admin / {DEMO_PASSWORD}   (superuser, also for /admin/)"]
    if roles:
        lines.append(f"    one login per role, password {DEMO_PASSWORD}:")
        lines += [f"      {', '.join(roles[i:i + 6])}" for i in range(0, len(roles), 6)]
        lines.append("    (seed_demo's table above lists every demo account)")
    lines.append(f"    personal cabinet /my/login/: a demo client's account number (listed by "
                 f"seed_demo above), password {DEMO_PASSWORD}")
    return "\n".join(lines)


def start(name: str, args: list[str], log: Path | None = None) -> subprocess.Popen:
    """A child in its own session, so we (not the terminal) stop it, with its children."""
    out = open(log, "ab") if log else None  # noqa: SIM115 - closed when dev.py exits
    return subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT if out else None, start_new_session=True)


def stop_all(children: dict[str, subprocess.Popen]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"dev.py: {name} did not stop in time, killing it", file=sys.stderr)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left in its group
        proc.wait()


def interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_run(opts: argparse.Namespace) -> int:
    bootstrap()
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", opts.port)) == 0:
            die(f"port {opts.port} is in use; stop what runs there or pass --port")
    (VAR_DIR / "log").mkdir(parents=True, exist_ok=True)
    manage("migrate", "--noinput")
    manage("seed_demo", *([] if opts.clients is None else ["--clients", str(opts.clients)]))

    celery = [str(VENV / "bin" / "celery"), "-A", "ispcrm"]
    logs = {"celery worker": VAR_DIR / "log" / "celery-worker.log",
            "celery beat": VAR_DIR / "log" / "celery-beat.log"}
    children: dict[str, subprocess.Popen] = {}
    # kill, a closed terminal and Ctrl-C all stop the children the same way (SIGINT even when
    # started in the background, where shells ignore it; SIGHUP unless nohup ignores it).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if sig != signal.SIGHUP or signal.getsignal(sig) != signal.SIG_IGN:
            signal.signal(sig, interrupt)
    try:
        if not opts.no_celery:
            # solo pool: one task at a time in the worker process; the file-system broker
            # and SQLite are both happiest without concurrent writers.
            children["celery worker"] = start("celery worker", [
                *celery, "worker", "-l", "info", "--pool", "solo"], logs["celery worker"])
            children["celery beat"] = start("celery beat", [
                *celery, "beat", "-l", "info"], logs["celery beat"])
        url = f"http://127.0.0.1:{opts.port}/"
        print(f"\n{'=' * 72}\n  ispcrm is starting at {url}\n\n  Demo logins:\n"
              f"{demo_logins()}\n")
        if opts.no_celery:
            print("  Celery is off (--no-celery): background jobs will not run.")
        else:
            print("  Celery worker and beat log to:\n" +
                  "\n".join(f"    {path}" for path in logs.values()))
        print(f"\n  Press Ctrl-C to stop everything.\n{'=' * 72}\n", flush=True)
        children["web server"] = start("web server", [
            str(VENV_PY), "manage.py", "runserver", f"127.0.0.1:{opts.port}"])
        while True:
            for name, proc in children.items():
                if proc.poll() is not None:
                    print(f"\ndev.py: the {name} exited with code {proc.returncode}; "
                          "stopping the rest.", file=sys.stderr)
                    if name in logs:
                        print(f"dev.py: see {logs[name]}", file=sys.stderr)
                    return proc.returncode if proc.returncode > 0 else 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\ndev.py: stopping...", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan
        stop_all(children)


# --- test, setup ---------------------------------------------------------------------------
def cmd_test(pytest_args: list[str]) -> int:
    bootstrap()
    os.chdir(ROOT)
    os.execv(str(VENV_PY), [str(VENV_PY), "-m", "pytest", *pytest_args])


def cmd_setup(opts: argparse.Namespace) -> int:
    bootstrap()
    say(f"Ready: {VENV_PY}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="set up and run the product with demo data")
    run.add_argument("--port", type=int, default=8000, help="dev server port (default 8000)")
    run.add_argument("--clients", type=int, metavar="N", help="demo clients for seed_demo")
    run.add_argument("--no-celery", action="store_true", help="do not start worker and beat")
    run.set_defaults(func=cmd_run)
    sub.add_parser("test", help="set up and run pytest (all further arguments go to pytest)")
    sub.add_parser("setup", help="only create .venv and install").set_defaults(func=cmd_setup)
    if sys.argv[1:2] == ["test"]:  # not through argparse: pytest's own options pass untouched
        return cmd_test(sys.argv[2:])
    opts = parser.parse_args()
    return opts.func(opts)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
