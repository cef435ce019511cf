"""Time the sandbox's synthetic rows (`apps.sandbox.synthetic.fill_table`) beside a bare INSERT ...
SELECT over generate_series into an identical table, on the same server in the same run.

    .venv/bin/python bench/synthetic.py [--runs 3] [--rows 1000000]

A shop-like `orders` table of 8 columns (a bigint key, a foreign key to `customers`, a status
under a CHECK, a unique reference, an amount, a nullable note, two timestamps) is filled with
--rows rows, in one sandbox session (its own role and database, with the statement timeout
lifted for the run): ours with skewed foreign keys and labels, varied text, NULLs and the CHECK
filtering; the bare one with the simplest values that keep the same constraints (`g`, customer
1, one status, `g::text`, constants, now()). `customers` (a tenth of the rows) is filled once,
before. Each run empties both tables and fills them, alternating which goes first so that a
busy machine slows both alike; the medians are printed as rows per second, with the ratio ours
÷ bare (goal: at least 0.5). Needs the sandbox (SANDBOX_DATABASE_URL, `manage.py sandbox_setup`).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

print = functools.partial(print, flush=True)  # each line as soon as it is measured
GOAL = 0.5

ORDERS = """
CREATE TABLE {name} (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  status varchar(16) NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled')),
  reference varchar(32) NOT NULL UNIQUE,
  total numeric(10, 2) NOT NULL,
  note text,
  placed_at timestamptz NOT NULL,
  shipped_at timestamptz
)
"""
CUSTOMERS = """
CREATE TABLE customers (
  id bigint PRIMARY KEY,
  email varchar(254) NOT NULL UNIQUE,
  name varchar(120) NOT NULL,
  created_at timestamptz NOT NULL
)
"""
BARE = (
    "INSERT INTO orders_bare SELECT g, 1, 'placed', g::text, 1, NULL, now(), NULL FROM generate_series(1, {rows}) AS g"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
    import django

    django.setup()
    from apps.sandbox import engine as sandbox
    from apps.sandbox.services import sandbox_config
    from apps.sandbox.synthetic import fill_table

    config = dataclasses.replace(
        sandbox_config(), statement_timeout_ms=0, temp_file_limit="4GB", session_max_seconds=3_600
    )
    ours: list[float] = []
    bare: list[float] = []
    with sandbox.session(config) as box:
        box.execute(CUSTOMERS)
        box.execute(ORDERS.format(name="orders"))
        box.execute(ORDERS.format(name="orders_bare"))
        fill_table(box, "customers", max(1, args.rows // 10))
        box.execute("ANALYZE customers")

        def timed(fill: str) -> float:
            box.execute(f"TRUNCATE {fill}")
            started = time.perf_counter()
            if fill == "orders":
                fill_table(box, "orders", args.rows)
            else:
                box.execute(BARE.format(rows=int(args.rows)))
            seconds = time.perf_counter() - started
            count = box.execute(f"SELECT count(*) FROM {fill}")[0][0]  # noqa: S608 - our own table names
            assert count == args.rows, (fill, count)  # noqa: S101 - a run that made other rows is no measure
            return seconds

        for run in range(args.runs):
            order = ("orders", "orders_bare") if run % 2 == 0 else ("orders_bare", "orders")
            for fill in order:
                (ours if fill == "orders" else bare).append(timed(fill))
    mine, theirs = statistics.median(ours), statistics.median(bare)
    ratio = (args.rows / mine) / (args.rows / theirs)
    print(f"{args.rows:,} rows of orders (8 columns, FK, CHECK, unique); medians of {args.runs} runs, same session")
    print(f"{'fill':14} {'seconds':>9} {'rows/s':>12} {'ratio':>7} {'goal':>6}")
    print(f"{'bare INSERT':14} {theirs:9.2f} {args.rows / theirs:12,.0f} {1.0:7.2f} {'':>6}")
    print(
        f"{'fill_table':14} {mine:9.2f} {args.rows / mine:12,.0f} {ratio:7.2f} "
        f"{'>=0.5' if ratio >= GOAL else 'MISSED':>6}"
    )
    print(f"runs (s): ours {', '.join(f'{s:.2f}' for s in ours)}; bare {', '.join(f'{s:.2f}' for s in bare)}")


if __name__ == "__main__":
    main()
