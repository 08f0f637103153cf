"""``make demo``: one Tunisian aid day through the platform, from an empty database to a trace.

Every step is a ``jessr`` command, run as a user would type it (each in its own
process, in the working directory), and printed with a short header:

1. remove the demo database ``var/jessr.db`` of an earlier run and ``jessr db
   upgrade`` a fresh one;
2. write the day's import files (:mod:`engine.demo_data`) under ``var/demo/`` and
   ``jessr import`` them with ``--commit``: organizations, sites, inventory,
   requests, volunteers;
3. ``jessr user add`` an admin, a coordinator and a staff member;
4. ``jessr batch run --date D --iterations N --json``, then ``jessr batch publish``;
5. read the published plan (``jessr batch show ID --plan``), take the route with the
   most deliveries, give its volunteer an account, and record what the volunteer
   reports (``jessr delivery ID/A… picked-up|delivered|failed --by EMAIL``): two
   baskets delivered, one door where nobody was home;
6. ``jessr audit verify`` and ``jessr audit head``;
7. ``jessr batch show ID`` (the summary) and ``jessr trace request ORG/REF`` of a
   delivered request;
8. the web interface: print one account per role (admin, coordinator, staff, and
   the volunteer of step 5, whose route is on the published day), all with the
   password ``jessr-demo``, then ``jessr serve`` on http://127.0.0.1:5000 in the
   foreground until Ctrl-C (``--no-serve`` or ``JESSR_DEMO_NO_SERVE=1``: print the
   accounts and stop).

The day is today by default, so that the volunteer's page (``/volunteer/``, the
route of today) shows the route at once; for another ``--date`` the demo prints
the ``/volunteer/?date=D`` link.

The demo always works on the SQLite file ``var/jessr.db`` under the working
directory: ``JESSR_DATABASE_URL`` is removed from the commands' environment, so a
configured production database is never touched (nor deleted). The household key
(``JESSR_HOUSEHOLD_KEY`` or ``var/household.key``) is used as configured.

A failing step stops the demo with that command's exit status (its message is on
stderr). Entry point: ``python -m engine.demo [--workdir DIR] [--date D]
[--requests N] [--supplies N] [--volunteers N] [--seed N] [--iterations N]
[--port N] [--no-serve]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from engine.cli import iso_date, positive_int
from engine.demo_data import DemoDay, write_demo_day

DEMO_PASSWORD = "jessr-demo"  # the demo accounts' password (for the web pages)
ADMIN = "admin@jessr.example"
COORDINATOR = ("coordination@crt.example", "crt")
STAFF = ("accueil@crt.example", "crt")
DEMO_HOST = "127.0.0.1"
DEMO_PORT = 5000
DELIVERED = 2  # deliveries reported done; one more is reported failed
FAILED_REASON = "nobody home"


class DemoFailed(Exception):
    """A step failed; ``code`` is the exit status the demo ends with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _jessr_command() -> list[str]:
    # The interpreter running the demo, so the commands run the same code (the
    # venv's, or a worktree's on PYTHONPATH), whatever `jessr` is first on PATH.
    return [sys.executable, "-m", "engine.cli"]


class Demo:
    """The demo's steps, in order (:meth:`run`); each step also callable alone.

    ``environ`` is the commands' environment (default: this process's, without
    ``JESSR_DATABASE_URL``); ``command`` the program run as ``jessr`` (default: this
    interpreter's ``-m engine.cli``).
    """

    def __init__(
        self,
        workdir: str | Path,
        *,
        day: date,
        requests: int = 2000,
        supplies: int = 300,
        volunteers: int = 60,
        seed: int = 7,
        iterations: int = 1000,
        out: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        serve: bool = False,
        port: int = DEMO_PORT,
    ) -> None:
        self.workdir = Path(workdir).resolve()
        self.day = day
        self.counts = {"requests": requests, "supplies": supplies, "volunteers": volunteers}
        self.seed = seed
        self.iterations = iterations
        self.out = out or sys.stdout
        env = dict(os.environ if environ is None else environ)
        self.ignored_url = env.pop("JESSR_DATABASE_URL", None)
        self.env = env
        self.command = list(command) if command is not None else _jessr_command()
        self.serve_after = serve
        self.port = port
        self.steps = 0
        self.volunteer_email: str | None = None
        self.volunteer_ref: str | None = None

    # -- output and commands

    def say(self, text: str = "") -> None:
        """Print a line of the demo's own narration."""
        print(text, file=self.out, flush=True)

    def header(self, title: str) -> None:
        """Print a step's header."""
        self.steps += 1
        self.say(f"\n== {self.steps}. {title}")

    def jessr(self, *args: str, capture: bool = False, stdin: str | None = None) -> str:
        """Run ``jessr ARGS`` in the working directory; its output, when captured.

        Standard error goes straight to the terminal (progress, error messages); the
        output is shown, or returned when ``capture``. Raises :class:`DemoFailed` with
        the command's exit status when it fails.
        """
        self.say("$ jessr " + shlex.join(args))
        started = time.monotonic()
        try:
            done = subprocess.run(
                [*self.command, *args],
                cwd=self.workdir,
                env=self.env,
                input=stdin,
                stdout=subprocess.PIPE,  # shown below unless the caller reads it
                text=True,
                check=False,
            )
        except OSError as exc:
            raise DemoFailed(f"cannot run jessr: {exc}") from None
        if not capture and done.stdout:
            self.out.write(done.stdout)
            self.out.flush()
        if done.returncode != 0:
            raise DemoFailed(
                f"`jessr {shlex.join(args)}` failed (exit {done.returncode})",
                done.returncode,
            )
        elapsed = time.monotonic() - started
        if elapsed >= 1.0:
            self.say(f"   ({elapsed:.1f} s)")
        return done.stdout if capture else ""

    def jessr_json(self, *args: str) -> Any:
        """Run a command that prints one JSON document; the document."""
        text = self.jessr(*args, capture=True)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
        # Tolerate a line of text before the document (a progress or summary line).
        start = text.find("{")
        try:
            return json.loads(text[start:]) if start >= 0 else None
        except json.JSONDecodeError:
            pass
        raise DemoFailed(f"`jessr {shlex.join(args)}` did not print JSON")

    # -- the steps

    @property
    def database(self) -> Path:
        """The demo's SQLite file."""
        return self.workdir / "var" / "jessr.db"

    def fresh_database(self) -> None:
        """Remove an earlier demo database, migrate a new one."""
        self.header("A fresh database")
        if self.ignored_url:
            self.say(f"(JESSR_DATABASE_URL is ignored: the demo uses its own {self.database})")
        removed = False
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = self.database.with_name(self.database.name + suffix)
            if path.is_file():
                path.unlink()
                removed = True
        if removed:
            self.say(f"removed the earlier demo database {self.database}")
        self.jessr("db", "upgrade")

    def write_files(self) -> DemoDay:
        """Write the day's import files under ``var/demo/``."""
        self.header(f"The import files of a Tunisian aid day, {self.day.isoformat()}")
        demo = write_demo_day(
            self.workdir / "var" / "demo", seed=self.seed, day=self.day, **self.counts
        )
        for kind, path in demo.files.items():
            self.say(f"{path.relative_to(self.workdir)}: {demo.rows[kind]} rows")
        return demo

    def import_files(self, demo: DemoDay) -> None:
        """``jessr import KIND FILE --commit`` for each file, in order."""
        self.header("Imports: organizations, sites, inventory, requests, volunteers")
        for kind, path in demo.files.items():
            self.jessr("import", kind.value, str(path.relative_to(self.workdir)), "--commit")

    def add_staff(self) -> None:
        """An admin, a coordinator and a staff member of the Red Crescent."""
        self.header(f"Accounts (demo password: {DEMO_PASSWORD})")
        self.jessr("user", "add", ADMIN, "--role", "admin", "--password-stdin", stdin=DEMO_PASSWORD)
        for role, (email, org) in (("coordinator", COORDINATOR), ("staff", STAFF)):
            self.jessr(
                "user",
                "add",
                email,
                "--role",
                role,
                "--org",
                org,
                "--password-stdin",
                stdin=DEMO_PASSWORD,
            )

    def run_batch(self) -> str:
        """Run the day's batch; its id."""
        self.header(f"The daily batch: solve the day ({self.iterations} iterations)")
        result = self.jessr_json(
            "batch",
            "run",
            "--date",
            self.day.isoformat(),
            "--iterations",
            str(self.iterations),
            "--seed",
            str(self.seed),
            "--json",
        )
        if not isinstance(result, dict) or "id" not in result:
            raise DemoFailed("`jessr batch run --json` printed no batch id")
        batch = str(result["id"])
        metrics = result.get("metrics") or {}
        shown = ", ".join(
            f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
            for key, value in metrics.items()
            if isinstance(value, int | float | str)  # breakdowns: `batch show` has them
        )
        self.say(
            f"draft batch {batch} ({result.get('status', '?')}){': ' + shown if shown else ''}"
        )
        return batch

    def publish(self, batch: str) -> None:
        """Publish the draft: stock reserved, routes visible."""
        self.header("Publish the batch")
        self.jessr("batch", "publish", batch)

    def deliveries(self, batch: str) -> str:
        """Record a volunteer's reports on one route; the ``ORG/REF`` of a delivered request."""
        self.header("Deliveries reported by a volunteer")
        plan = self.jessr_json("batch", "show", batch, "--plan")
        volunteer, chosen, request_of = choose_deliveries(plan)
        org, _, ref = volunteer.partition("/")
        email = f"{ref.lower()}@{org}.example"
        self.volunteer_email, self.volunteer_ref = email, volunteer
        self.say(f"route of volunteer {volunteer}: {len(chosen)} deliveries reported")
        self.jessr(
            "user",
            "add",
            email,
            "--role",
            "volunteer",
            "--volunteer",
            volunteer,
            "--password-stdin",
            stdin=DEMO_PASSWORD,
        )
        for allocation in chosen:
            self.jessr("delivery", f"{batch}/{allocation}", "picked-up", "--by", email)
        done, failed = chosen[:DELIVERED], chosen[DELIVERED:]
        if not failed and len(done) > 1:  # a short route: still show one failure
            done, failed = done[:-1], done[-1:]
        for allocation in done:
            self.jessr("delivery", f"{batch}/{allocation}", "delivered", "--by", email)
        for allocation in failed:
            self.jessr(
                "delivery",
                f"{batch}/{allocation}",
                "failed",
                "--reason",
                FAILED_REASON,
                "--by",
                email,
            )
        return request_of[done[0]]

    def verify(self) -> None:
        """The archive holds: verify the chain, show its head."""
        self.header("The archive: verify the hash chain")
        self.jessr("audit", "verify")
        self.jessr("audit", "head")

    def summary(self, batch: str, request: str) -> None:
        """The batch's summary and the story of one delivered request."""
        self.header(f"Batch {batch}")
        self.jessr("batch", "show", batch)
        self.header(f"The story of request {request}")
        self.jessr("trace", "request", request)

    @property
    def base_url(self) -> str:
        """Where ``jessr serve`` answers."""
        return f"http://{DEMO_HOST}:{self.port}"

    def web(self) -> int:
        """Print one account per role; serve the web interface until Ctrl-C (when asked)."""
        self.header(f"The web interface: one account per role, password {DEMO_PASSWORD}")
        volunteer = self.volunteer_email or "(none: no route)"
        route = "/volunteer/" if self.day == date.today() else f"/volunteer/?date={self.day}"
        rows = [
            ("admin", ADMIN, "every organization, imports, archive"),
            ("coordinator", COORDINATOR[0], f"runs and publishes the batch ({COORDINATOR[1]})"),
            ("staff", STAFF[0], f"registers requests and donations ({STAFF[1]})"),
            ("volunteer", volunteer, f"route of {self.volunteer_ref} on {self.day} ({route})"),
        ]
        for role, email, what in rows:
            self.say(f"  {role:<12} {email:<28} {what}")
        self.say(f"Sign in at {self.base_url}/login; the volunteer's route: {self.base_url}{route}")
        if not self.serve_after:
            self.say(f"(not serving; start it with `jessr serve --port {self.port}` here)")
            return 0
        self.say("Serving until Ctrl-C.")
        args = ["serve", "--host", DEMO_HOST, "--port", str(self.port)]
        self.say("$ jessr " + shlex.join(args))
        try:
            process = subprocess.Popen([*self.command, *args], cwd=self.workdir, env=self.env)
        except OSError as exc:
            raise DemoFailed(f"cannot run jessr: {exc}") from None
        try:
            code = process.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached gunicorn too (same process group): let it stop cleanly.
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            self.say("\nthe demo server stopped")
            return 0
        if code != 0:
            raise DemoFailed(f"`jessr {shlex.join(args)}` failed (exit {code})", code)
        return 0

    def run(self) -> int:
        """Every step in order; 0, or the failing command's exit status."""
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self.fresh_database()
            demo = self.write_files()
            self.import_files(demo)
            self.add_staff()
            batch = self.run_batch()
            self.publish(batch)
            request = self.deliveries(batch)
            self.verify()
            self.summary(batch, request)
            self.say(
                f"\nThe day took {time.monotonic() - started:.0f} s. It is in "
                f"{self.database.relative_to(self.workdir)}; try `jessr batch list`, "
                f"`jessr trace request {request}`."
            )
            return self.web()
        except DemoFailed as exc:
            self.say(f"\ndemo stopped: {exc}")
            return exc.code or 1


def choose_deliveries(plan: Mapping[str, Any]) -> tuple[str, list[str], dict[str, str]]:
    """The route with the most deliveries: its volunteer, up to three of its deliveries
    in route order, and each allocation's request.

    Raises :class:`DemoFailed` when no route delivers anything.
    """
    request_of = {str(a["id"]): str(a["request"]) for a in plan.get("allocations", ())}
    best: tuple[str, list[str]] | None = None
    for route in plan.get("routes", ()):
        delivered = [
            str(allocation)
            for visit in route.get("visits", ())
            for allocation in visit.get("deliveries", ())
        ]
        if delivered and (best is None or len(delivered) > len(best[1])):
            best = (str(route["volunteer"]), delivered)
    if best is None:
        raise DemoFailed("the published plan has no route with a delivery: nothing to report")
    volunteer, delivered = best
    return volunteer, delivered[: DELIVERED + 1], request_of


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m engine.demo``: the whole demo (``make demo``)."""
    parser = argparse.ArgumentParser(
        prog="python -m engine.demo",
        description="Build a fresh demo database under var/ and run one aid day through it.",
    )
    parser.add_argument("--workdir", type=Path, default=Path.cwd(), help="default: here")
    parser.add_argument("--date", type=iso_date, default=None, help="the day (default: today)")
    parser.add_argument("--requests", type=positive_int, default=2000)
    parser.add_argument("--supplies", type=positive_int, default=300)
    parser.add_argument("--volunteers", type=positive_int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--iterations", type=positive_int, default=1000)
    parser.add_argument(
        "--port", type=positive_int, default=DEMO_PORT, help="the web server's port (5000)"
    )
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="print the accounts and stop (also JESSR_DEMO_NO_SERVE=1)",
    )
    ns = parser.parse_args(argv)
    serve = not (ns.no_serve or os.environ.get("JESSR_DEMO_NO_SERVE") == "1")
    demo = Demo(
        ns.workdir,
        day=ns.date or date.today(),
        requests=ns.requests,
        supplies=ns.supplies,
        volunteers=ns.volunteers,
        seed=ns.seed,
        iterations=ns.iterations,
        serve=serve,
        port=ns.port,
    )
    try:
        return demo.run()
    except KeyboardInterrupt:
        demo.say("\ndemo interrupted")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
