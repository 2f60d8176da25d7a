"""``carbon-platform rules check`` and ``rules simulate`` (no database involved)."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from carbon_platform.cli.rules import group

SEED = Path(__file__).resolve().parents[2] / "seeds" / "rulebook.yaml"


def invoke(*args):
    return CliRunner().invoke(group, list(map(str, args)))


def test_check_passes_the_tai_an_rulebook():
    result = invoke("check", SEED)
    assert result.exit_code == 0 and "taian 2026.1: 15 scenarios" in result.output


def test_check_lists_every_problem_with_its_line_and_fails(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SEED.read_text("utf-8").replace("grams_per_point: 5", "grams_per_point: 0"), "utf-8")
    result = invoke("check", bad)
    assert result.exit_code == 1
    line = next(n for n, row in enumerate(bad.read_text("utf-8").splitlines(), 1) if "grams_per_point: 0" in row)
    assert f"line {line}: points.grams_per_point: Must be greater than or equal to 1." in result.output


def write_actions(path: Path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "account", "account_type", "scenario", "district", "in.distance_km", "in.steps"])
        writer.writerows(rows)


def test_simulate_summarises_and_compares(tmp_path):
    actions = tmp_path / "actions.csv"
    write_actions(actions, [
        ["2026-06-16T07:00:00+08:00", "r1", "resident", "bus_ride", "370902", "6.2", ""],
        ["2026-06-16T18:00:00+08:00", "r1", "resident", "walking", "370902", "", "12345"],
        ["2026-06-30T07:00:00+08:00", "r2", "resident", "bus_ride", "370911", "6.2", ""],
    ])
    result = invoke("simulate", SEED, "--actions", actions)
    assert result.exit_code == 0, result.output
    # low-carbon week doubles r1's two actions: (33 + 40) × 2; r2 rides after the week: 33
    assert "points issued 179 (base 106, campaigns 73)" in result.output
    assert "campaign low_carbon_day_2026: 73 of 2,000,000 points" in result.output
    other = tmp_path / "other.yaml"
    other.write_text(SEED.read_text("utf-8").replace("factor: 2}", "factor: 3}"), "utf-8")
    diff = invoke("simulate", SEED, "--actions", actions, "--against", other)
    assert diff.exit_code == 0, diff.output
    assert "points +73" in diff.output and "accounts moving most: r1 +73" in diff.output


def test_simulate_names_a_bad_row(tmp_path):
    actions = tmp_path / "actions.csv"
    write_actions(actions, [["yesterday", "r1", "resident", "bus_ride", "", "1", ""]])
    result = invoke("simulate", SEED, "--actions", actions)
    assert result.exit_code == 1 and "line 2" in result.output
