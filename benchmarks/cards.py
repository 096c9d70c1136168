"""Time login cards for 2,000 pupils (target: under 10 s on the 2-core machine) and print a small table.

    .venv/bin/python benchmarks/cards.py [--pupils 2000] [--no-qr] [--out cards.pdf]

Two measurements: `render` draws the PDF from ready-made cards (reportlab and segno only); `from the
database` is what a teacher's click does: load the pupils, decrypt their credentials, make or renew
their QR states, sign the QR tokens and draw. `cpu s` is this process's own CPU time, steadier than the
wall clock when other work shares the machine. A fresh SQLite database in a temporary MISSYNC_HOME is
filled by a real sync of a generated school (not timed). Not a test: the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--no-qr", action="store_true", help="Leave out the QR codes.")
    parser.add_argument("--out", type=Path, help="Also keep the PDF here.")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="missync-bench-cards-")
    os.environ["MISSYNC_HOME"] = home
    os.environ["DATABASE_URL"] = f"sqlite:///{home}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "missync.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from missync.accounts.apply import apply_plan
    from missync.accounts.models import Account, School
    from missync.accounts.services import preview
    from missync.credentials.cards import LoginCard, render_cards
    from missync.credentials.printing import cards_for_accounts
    from missync.sample import generate_pupils_school, write_spreadsheet

    # Early years and infants have picture PINs, juniors typed passwords: a realistic mix.
    sample = generate_pupils_school(seed=args.pupils, pupils=args.pupils, staff=max(20, args.pupils // 25))
    paths = [str(p) for p in write_spreadsheet(sample, Path(home) / "school.csv")]
    school = School.objects.create(slug="bench", name="Benchmark Primary School")
    apply_plan(school, preview(school, paths).plan)
    pupils = list(
        Account.objects.filter(school=school, role="pupil", status="active").select_related(
            "registration_class"
        )
    )
    qr = not args.no_qr

    ready = [
        LoginCard(
            f"{p.forename} {p.surname}",
            p.username,
            p.registration_class.name if p.registration_class else "",
            p.year_group or "",
            "0412" if (p.year_group or "") in ("Reception", "Year 1", "Year 2") else "Dog33",
            qr_url=f"http://127.0.0.1:8000/bench/qr/{p.pk}.AbCdEfGhIjKlMnOp:{'x' * 43}/" if qr else None,
        )
        for p in pupils
    ]
    started, cpu = time.perf_counter(), time.process_time()
    content, pages = render_cards(ready, school_name=school.name, sign_in_url="http://127.0.0.1:8000/bench/")
    render_s, render_cpu = time.perf_counter() - started, time.process_time() - cpu

    started, cpu = time.perf_counter(), time.process_time()
    pdf = cards_for_accounts(school, pupils, base="http://127.0.0.1:8000", qr=qr)
    full_s, full_cpu = time.perf_counter() - started, time.process_time() - cpu
    if args.out:
        args.out.write_bytes(pdf.content)

    rows = [
        ("render only", len(ready), render_s, render_cpu, pages, len(content)),
        ("from the database", pdf.cards, full_s, full_cpu, pdf.pages, len(pdf.content)),
    ]
    print(f"Login cards, {'with' if qr else 'without'} QR codes, Python {sys.version.split()[0]}")
    print(f"{'step':<20} {'cards':>6} {'seconds':>8} {'cpu s':>6} {'pages':>6} {'bytes':>11}")
    for step, cards, seconds, cpu_s, page_count, size in rows:
        print(f"{step:<20} {cards:>6} {seconds:>8.2f} {cpu_s:>6.2f} {page_count:>6} {size:>11,}")
    target = 10.0 * args.pupils / 2000
    verdict = "within" if full_s < target else "OVER"
    print(f"{verdict} the target of {target:.0f} s for {args.pupils} pupils")


if __name__ == "__main__":
    main()
