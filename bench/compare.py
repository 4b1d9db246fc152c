"""v2 against legacy, the gateway against gunicorn, the shadow's cost: one run, ratios.

Starts real servers on loopback on one database seeded through the API (3 users, 30 articles
of 3 tags each, follows) and measures, each section against its baseline in the same run:

- endpoints: v2 against the legacy code it replaces, per endpoint, through the gateway
  (``gateway serve``, one uvicorn worker);
- gunicorn: the legacy app through the gateway (under /legacy, and at the root) against the
  same app alone on gunicorn (one sync worker; one gthread worker with 8 threads);
- probe: a low-rate /v2 probe idle and while wrk saturates a legacy view that waits on the
  database and one that burns CPU (argon2 login), with the legacy throughput reached; and
  the gateway's memory at rest and under load;
- shadow: the client's latency on three more gateways, the articles module unshadowed, then
  shadowed at 10 % and at 100 %, and the comparisons each shadow recorded.
- write-shadow: a write's latency on three more gateways, its writes not shadowed, then
  shadowed (``shadow_writes``) at 10 % and at 100 %.
- deployments: the gateway (``--workers`` 1 and 2, and again in its legacy process mode)
  against the two-service deployment it replaces, nginx in front of gunicorn (legacy, 4 sync
  workers) and uvicorn (v2, 2 workers): each list alone and both at once, the /v2 probe idle
  and with legacy saturated, a write burst, and the memory (PSS) of all their processes;
- control: what the live control plane costs a request on the article list, the snapshot
  lookup and the metrics, in isolation and through a gateway counting for ``/metrics``
  against one that is not;
- burst: 50 registrations and 50 article posts sent at once, through the gateway and to the
  legacy app alone on gunicorn with 4 sync workers: served, refused (503), time to the last.

wrk drives each measure; the sides of every ratio are measured alternately, in rounds, and
the median of the rounds is kept, so load on the machine moves them alike. Every table says
which of issue 9's targets its figures meet.

    make bench        # SQLite, then a throw-away PostgreSQL; writes bench/results/<date>-compare.md
    .venv/bin/python bench/compare.py --database sqlite --seconds 5 --rounds 2 --only shadow

Loopback only; every run of wrk is bounded by its duration, every wait by a deadline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from contextlib import ExitStack
from datetime import date
from pathlib import Path

from burst import burst_table
from control import control_table
from deployments import deployments_table
from load import WRK_CONNECTIONS
from sections import endpoints_table, gunicorn_table, probe_table
from seed import seed
from servers import ROOT, environment, gateway, gunicorn, upgrade_database
from shadow import shadow_table
from write_shadow import write_shadow_table

RESULTS = ROOT / "bench" / "results"
# In run order: the bursts write articles that would head the article list measured after.
SECTIONS = (
    "endpoints",
    "gunicorn",
    "probe",
    "shadow",
    "write-shadow",
    "deployments",
    "control",
    "burst",
)


def run(
    database_url: str,
    var_dir: Path,
    *,
    label: str,
    seconds: int,
    rounds: int,
    sections: tuple[str, ...],
) -> list[str]:
    """The run's tables, as Markdown lines, for the chosen sections."""
    env = environment(database_url, var_dir)
    upgrade_database(env)
    shown = "" if sections == SECTIONS else f" ({', '.join(sections)} only)"
    lines = [f"### {label}{shown}"]
    with ExitStack() as stack:
        main = stack.enter_context(gateway(env))
        seeded = seed(f"{main.base}/legacy/api")
        gthread_list_rps: float | None = None
        if "endpoints" in sections:
            lines += ["", *endpoints_table(main.base, seeded, seconds=seconds, rounds=rounds)]
        if "gunicorn" in sections:
            with (
                gunicorn(env, "sync") as sync,
                gunicorn(env, "gthread", threads=8) as gthread,
                gateway(env, at_root=True) as rooted,
            ):
                table, gthread_list_rps = gunicorn_table(
                    main.base, seeded.slug, sync, gthread, rooted, seconds=seconds, rounds=rounds
                )
            lines += ["", *table]
        if "probe" in sections:
            with gateway(env) as control:  # the same server, not carrying the load
                probes = probe_table(
                    main, control, seconds=seconds, rounds=rounds, gthread_list_rps=gthread_list_rps
                )
            lines += ["", *probes]
        if "shadow" in sections:
            lines += ["", *shadow_table(env, seconds=seconds, rounds=rounds)]
        if "write-shadow" in sections:
            lines += ["", *write_shadow_table(env, seeded, seconds=seconds, rounds=rounds)]
    # With the first gateway stopped: each deployment runs alone, on the cores and in PSS.
    if "deployments" in sections:
        lines += ["", *deployments_table(env, seeded.token, seconds=seconds, rounds=rounds)]
    if "control" in sections:
        lines += ["", *control_table(env, seconds=seconds, rounds=rounds)]
    if "burst" in sections:
        with gateway(env) as main, gunicorn(env, "sync", workers=4) as four:
            lines += ["", *burst_table(main, four, seeded.token)]
    return [*lines, ""]


def _sections(text: str) -> tuple[str, ...]:
    chosen = {name.strip() for name in text.split(",") if name.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {', '.join(SECTIONS)}; got {text!r}"
        )
    return tuple(name for name in SECTIONS if name in chosen)  # always in run order


def _header(seconds: int, rounds: int) -> str:
    return (
        f"# v2 against legacy, the gateway against gunicorn, the shadow's cost ({date.today()})"
        f"\n\nbench/compare.py: wrk, 1 thread, {WRK_CONNECTIONS} connections, {seconds} s "
        f"runs, median of {rounds} alternating rounds; 2 cores shared by servers and load "
        "generator. Ratios within one run; targets from issue 9.\n\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternations per ratio")
    parser.add_argument(
        "--only",
        type=_sections,
        default=SECTIONS,
        help=f"comma-separated sections to run (default: all of {','.join(SECTIONS)})",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / f"{date.today()}-compare.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk; `make bench` does)")
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:  # removed afterwards
        if args.database == "postgresql":
            url = os.environ.get("GATEWAY_TEST_DATABASE_URL")
            if not url:
                raise SystemExit("run under `python -m tests.postgres` for a PostgreSQL server")
            label = "PostgreSQL 15"
        else:
            url = f"sqlite:///{scratch}/bench.db"
            label = "SQLite (WAL)"
        lines = run(
            url,
            Path(scratch) / "var",
            label=label,
            seconds=args.seconds,
            rounds=args.rounds,
            sections=args.only,
        )
    print("\n".join(lines))
    new = not args.output.exists()
    with args.output.open("a", encoding="utf-8") as out:
        if new:
            out.write(_header(args.seconds, args.rounds))
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
