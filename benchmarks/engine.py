"""Time the sync engine at school, trust and district scale, on SQLite and PostgreSQL, and print a table.

    .venv/bin/python benchmarks/engine.py [--sizes 1000,10000,100000] [--databases sqlite,postgresql]

Each (size, database) runs in its own process on a fresh database, so peak memory (max RSS) is that run's
own. Steps: generate a school of N pupils and write it as a SIMS-style CSV (not timed); `preview` (read
the CSV, load the empty school, plan); first `apply` (write it all); `resync` (read, load the full school,
plan: nothing to write). Not a test: the machines are shared and noisy, so the figures go in README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POSTGRES = os.environ.get("MISSYNC_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/missync_bench")


def measure(size: int, database: str, workdir: Path) -> dict[str, float]:
    """One run, inside a child process whose DATABASE_URL is already set."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from missync.accounts.apply import apply_plan
    from missync.accounts.models import Account, School
    from missync.accounts.services import preview
    from missync.sample import generate_pupils_school, write_spreadsheet

    sample = generate_pupils_school(seed=size, pupils=size, staff=max(20, size // 25))
    paths = [str(p) for p in write_spreadsheet(sample, workdir / f"school-{size}.csv")]
    school = School.objects.create(slug=f"bench-{size}", name="Benchmark School")

    started = time.perf_counter()
    plan = preview(school, paths).plan
    preview_s = time.perf_counter() - started

    started = time.perf_counter()
    apply_plan(school, plan)
    apply_s = time.perf_counter() - started

    started = time.perf_counter()
    again = preview(school, paths).plan
    resync_s = time.perf_counter() - started
    assert not again.has_changes, again.summary()
    accounts = Account.objects.filter(school=school).count()
    return {
        "pupils": len(sample.pupils),
        "accounts": accounts,
        "preview_s": preview_s,
        "apply_s": apply_s,
        "resync_s": resync_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def fresh_database(database: str, workdir: Path) -> str:
    if database == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    import psycopg

    base, _, name = POSTGRES.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", nargs=3, metavar=("SIZE", "DATABASE", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        size, database, workdir = args.child
        print(json.dumps(measure(int(size), database, Path(workdir))))
        return

    rows = []
    for database in args.databases.split(","):
        for size in (int(s) for s in args.sizes.split(",")):
            with tempfile.TemporaryDirectory(prefix="missync-bench-") as workdir:
                env = {
                    **os.environ,
                    "DJANGO_SETTINGS_MODULE": "missync.settings",
                    "MISSYNC_HOME": workdir,
                    "DATABASE_URL": fresh_database(database, Path(workdir)),
                }
                done = subprocess.run(
                    [sys.executable, __file__, "--child", str(size), database, workdir],
                    env=env, capture_output=True, text=True, check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    sys.exit(f"benchmark failed for {size} pupils on {database}:\n{done.stderr[-3000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append((database, size, result))
                print(f"  done: {database} {size}", file=sys.stderr)

    print(
        "| database | pupils | accounts | preview (s) | first apply (s) | no-change resync (s) "
        "| peak memory (MB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for database, size, r in rows:
        print(
            f"| {database} | {size:,} | {r['accounts']:,} | {r['preview_s']:.2f} | {r['apply_s']:.2f} "
            f"| {r['resync_s']:.2f} | {r['peak_mb']:.0f} |"
        )


if __name__ == "__main__":
    main()
