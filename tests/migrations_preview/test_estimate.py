"""Statement times: two measurements, a straight line, and a basis that says so."""

from apps.migrations_preview.engine.estimate import NOT_HEAVY, Estimate, Timing, extrapolate, total


def test_a_line_through_two_measurements_gives_the_time_at_the_declared_rows() -> None:
    estimate = extrapolate(Timing(10_000, 0.05), Timing(40_000, 0.17), 40_000_000)
    # slope 4e-6 s/row, intercept 0.01 s
    assert estimate.seconds == 160.01
    assert estimate.basis == (
        "measured 0.05 s at 10,000 rows and 0.17 s at 40,000 rows; ≈ 160 s at 40,000,000 rows (linear extrapolation)"
    )


def test_noise_never_predicts_negative_or_shrinking_time() -> None:
    estimate = extrapolate(Timing(10_000, 0.004), Timing(40_000, 0.003), 4_000_000)
    assert estimate.seconds == 0.3  # falls back to the larger measurement's rate
    assert estimate.seconds > 0


def test_without_a_declared_volume_there_is_a_measurement_but_no_estimate() -> None:
    estimate = extrapolate(Timing(2_000, 0.002), Timing(8_000, 0.008), None)
    assert estimate.seconds is None
    assert estimate.basis.startswith("measured 2.0 ms at 2,000 rows and 8.0 ms at 8,000 rows")
    assert estimate.basis.endswith("declare the table's row volume to get an estimate")


def test_a_statement_that_fails_in_the_sandbox_says_why() -> None:
    failing = Timing(2_000, None, 'column "channel" of relation "orders" contains null values')
    estimate = extrapolate(failing, Timing(8_000, None, "same"), 40_000_000)
    assert estimate == Estimate(
        None,
        'fails in the sandbox on a table of 2,000 synthetic rows: column "channel" of relation "orders" contains null values',
    )


def test_concurrent_statements_are_timed_in_their_plain_form_and_say_so() -> None:
    estimate = extrapolate(Timing(2_000, 0.01), Timing(8_000, 0.04), 8_000_000, plain_form=True)
    assert "timed without CONCURRENTLY" in estimate.basis


def test_light_statements_are_not_extrapolated() -> None:
    estimate = extrapolate(Timing(2_000, 0.0003), Timing(8_000, 0.0004), 40_000_000, heavy=False)
    assert estimate.seconds == 0.0
    assert "does not grow with the rows" in estimate.basis


def test_the_headers_total_sums_what_was_measured_and_counts_what_was_not() -> None:
    assert total([Estimate(None, NOT_HEAVY)]).startswith("no statement rewrites or scans")
    text = total([Estimate(80.0, "a"), Estimate(45.5, "b"), Estimate(None, "fails ..."), Estimate(None, NOT_HEAVY)])
    assert (
        text
        == "≈ 126 s in all, from statement times measured in the sandbox; 1 statement(s) without an estimate (see their basis)"
    )
