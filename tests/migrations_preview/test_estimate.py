"""Statement times: three sizes (at least), three runs at each, the median and range of each
size, a growth model fitted to them and named, and a basis that says all of it."""

import math

from apps.migrations_preview.engine.estimate import (
    NOT_HEAVY,
    Estimate,
    Timing,
    calibration_sizes,
    extrapolate,
    median_timing,
    total,
)
from apps.sandbox import engine as sandbox
from tests.migrations_preview.conftest import design_model, preview


def measured(*points: tuple[int, float]) -> list[Timing]:
    return [Timing(rows, seconds, runs=(seconds * 0.9, seconds, seconds * 1.2)) for rows, seconds in points]


def test_a_line_through_the_medians_gives_the_time_at_the_declared_rows() -> None:
    # Exact points: the fitted fixed cost (10 ms) is under half the smallest median, so it is kept.
    estimate = extrapolate(measured((10_000, 0.05), (20_000, 0.09), (40_000, 0.17)), 40_000_000)
    # slope 4e-6 s/row, intercept 0.01 s
    assert estimate.seconds == 160.01
    assert estimate.basis == (
        "measured at 10,000, 20,000 and 40,000 rows, the median of 3 runs each (range): "
        "50.0 ms (45.0 ms to 60.0 ms), 90.0 ms (81.0 ms to 0.11 s), 0.17 s (0.15 s to 0.20 s); "
        "growth fitted as linear (a scan or rewrite reads each row once), through the 40,000-row median with "
        "10.0 ms of fixed cost; ≈ 160 s at 40,000,000 rows (linear extrapolation)"
    )


def test_an_index_build_is_fitted_as_n_log_n_when_that_fits_better() -> None:
    def sort(n: int) -> float:
        return 0.002 + 1e-7 * n * math.log(n)

    sizes = (2_000, 4_000, 8_000, 16_000)
    estimate = extrapolate(measured(*((n, sort(n)) for n in sizes)), 10_000_000, sorts=True)
    assert "growth fitted as n log n (an index build sorts; linear fits the medians worse)" in estimate.basis
    assert estimate.basis.endswith("(n log n extrapolation)")
    # within 2 %: at most half the smallest size's time is taken as fixed cost (1.8 ms, not 2 ms)
    assert estimate.seconds is not None and math.isclose(estimate.seconds, sort(10_000_000), rel_tol=0.02)
    linear = extrapolate(measured(*((n, 0.001 + 2e-6 * n) for n in sizes)), 10_000_000, sorts=True)
    assert "growth fitted as linear (an index build sorts; n log n fits the medians worse)" in linear.basis


def test_the_median_and_range_of_the_runs_are_kept() -> None:
    timing = median_timing(2_000, [Timing(2_000, 0.004), Timing(2_000, 0.009), Timing(2_000, 0.005)])
    assert (timing.seconds, timing.runs) == (0.005, (0.004, 0.005, 0.009))
    failed = median_timing(2_000, [Timing(2_000, 0.004), Timing(2_000, None, "boom")])
    assert failed.seconds is None and failed.error == "boom"


def test_two_settings_give_three_sizes() -> None:
    assert calibration_sizes((2_000, 8_000)) == [2_000, 4_000, 8_000]
    assert calibration_sizes((100, 400, 200)) == [100, 200, 400]
    assert calibration_sizes((2_000, 0, 8_000)) == [2_000, 4_000, 8_000]  # MIGRATION_CALIBRATION_MIDDLE_ROWS unset


def test_noise_never_predicts_negative_or_shrinking_time() -> None:
    estimate = extrapolate(measured((10_000, 0.004), (20_000, 0.0035), (40_000, 0.003)), 4_000_000)
    assert estimate.seconds == 0.3  # falls back to the largest measurement's rate
    assert estimate.seconds > 0


def test_without_a_declared_volume_there_is_a_measurement_but_no_estimate() -> None:
    estimate = extrapolate(measured((2_000, 0.002), (4_000, 0.004), (8_000, 0.008)), None)
    assert estimate.seconds is None
    assert estimate.basis.startswith(
        "measured at 2,000, 4,000 and 8,000 rows, the median of 3 runs each (range): 2.0 ms"
    )
    assert estimate.basis.endswith("declare the table's row volume to get an estimate")


def test_a_statement_that_fails_in_the_sandbox_says_why() -> None:
    failing = Timing(2_000, None, 'column "channel" of relation "orders" contains null values')
    estimate = extrapolate([failing, Timing(4_000, None, "same"), Timing(8_000, None, "same")], 40_000_000)
    assert estimate == Estimate(
        None,
        'fails in the sandbox on a table of 2,000 synthetic rows: column "channel" of relation "orders" contains null values',
    )


def test_concurrent_statements_are_timed_in_their_plain_form_and_say_so() -> None:
    estimate = extrapolate(measured((2_000, 0.01), (4_000, 0.02), (8_000, 0.04)), 8_000_000, plain_form=True)
    assert "timed without CONCURRENTLY" in estimate.basis


def test_light_statements_are_not_extrapolated() -> None:
    estimate = extrapolate(measured((2_000, 0.0003), (4_000, 0.0003), (8_000, 0.0004)), 40_000_000, heavy=False)
    assert estimate.seconds == 0.0
    assert "does not grow with the rows" in estimate.basis


def test_the_headers_total_sums_what_was_measured_and_counts_what_was_not() -> None:
    assert total([Estimate(None, NOT_HEAVY)]).startswith("no statement rewrites or scans")
    text = total([Estimate(80.0, "a"), Estimate(45.5, "b"), Estimate(None, "fails ..."), Estimate(None, NOT_HEAVY)])
    assert (
        text
        == "≈ 126 s in all, from statement times measured in the sandbox; 1 statement(s) without an estimate (see their basis)"
    )


BASE = """
CREATE TABLE bookings (
  id bigint PRIMARY KEY,
  room text NOT NULL,
  status text NOT NULL CHECK (status IN ('held', 'paid')),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  guests integer NOT NULL,
  note text,
  CONSTRAINT ordered CHECK (ends_at > starts_at),
  CONSTRAINT not_both CHECK (note IS NULL OR guests > 0),
  CONSTRAINT distinct_words CHECK (room <> status)
);
COMMENT ON TABLE bookings IS 'rows: 5M';
"""
CHANGE = (
    BASE.replace("  note text,\n", "  note text,\n  CONSTRAINT one_room UNIQUE (room, starts_at),\n").replace(
        "CREATE TABLE bookings", "CREATE TABLE bookings"
    )
    + "CREATE INDEX bookings_room ON bookings (room, ends_at);\n"
)


def test_synthetic_rows_keep_cross_column_checks_and_added_uniques(config: sandbox.SandboxConfig) -> None:
    _, section = preview(design_model(data_model=CHANGE), design_model(data_model=BASE), config)
    heavy = [s for s in section["statements"] if s["scans_table"] or s["rewrites_table"]]
    assert {s["sql"][:40] for s in heavy} == {
        'ALTER TABLE "bookings" ADD CONSTRAINT "o',
        'CREATE INDEX "bookings_room" ON "booking',
    }
    for statement in heavy:
        assert statement["estimate_seconds"] is not None, statement["estimate_basis"]
        assert "the median of 5 runs each" in statement["estimate_basis"]
        assert (
            "(n log n extrapolation)" in statement["estimate_basis"]
            or "(linear extrapolation)" in statement["estimate_basis"]
        )


def test_the_same_change_is_estimated_within_twice_across_runs(config: sandbox.SandboxConfig) -> None:
    base = design_model(data_model=BASE.replace(" CHECK (status IN ('held', 'paid'))", ""))
    new = design_model(
        data_model=BASE.replace(" CHECK (status IN ('held', 'paid'))", "").replace(
            "  guests integer", "  guests bigint"
        )
        + "CREATE INDEX bookings_room ON bookings (room, ends_at);\n"
    )
    first, second = (
        {
            s["sql"]: s["estimate_seconds"]
            for s in preview(new, base, config, calibration_rows=(5_000, 20_000))[1]["statements"]
        }
        for _ in range(2)
    )
    timed = [sql for sql, seconds in first.items() if seconds]
    assert len(timed) == 2  # the rewrite of guests, the index build
    for sql in timed:
        assert second[sql] is not None
        assert max(first[sql], second[sql]) <= 2 * min(first[sql], second[sql]), (sql, first[sql], second[sql])


def test_rows_drawn_through_checks_keep_their_foreign_keys(config: sandbox.SandboxConfig) -> None:
    base = """
CREATE TABLE orders (id bigint PRIMARY KEY, placed_at timestamptz NOT NULL);
CREATE TABLE lines (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES orders (id),
  quantity integer NOT NULL CHECK (quantity % 2 = 0)
);
COMMENT ON TABLE lines IS 'rows: 2M';
COMMENT ON TABLE orders IS 'rows: 1M';
"""
    new = base + "CREATE INDEX lines_order ON lines (order_id);\n"
    _, section = preview(design_model(data_model=new), design_model(data_model=base), config)
    (index,) = section["statements"]
    # half the candidates fail the check, so rows come from twice as many: their order_id still
    # finds an order
    assert index["estimate_seconds"] is not None, index["estimate_basis"]


def test_a_column_the_migration_makes_not_null_holds_no_null_in_the_sample(config: sandbox.SandboxConfig) -> None:
    # Synthetic rows leave a tenth of a nullable column NULL, as real rows may; a column the
    # migration makes NOT NULL keeps it in the sample, as an added check would be kept.
    base = """
CREATE TABLE customers (id bigint PRIMARY KEY, phone varchar(20), note text);
COMMENT ON TABLE customers IS 'rows: 1M';
"""
    new = base.replace("phone varchar(20)", "phone varchar(20) NOT NULL")
    _, section = preview(design_model(data_model=new), design_model(data_model=base), config)
    (statement,) = [s for s in section["statements"] if "SET NOT NULL" in s["sql"]]
    assert statement["estimate_seconds"] is not None, statement["estimate_basis"]
