"""``carbon-platform rules …``: check a rulebook file; simulate it (or a change) over historical actions."""

from __future__ import annotations

import click

from points_rules import (
    ActionFileError,
    Comparison,
    Report,
    RulebookError,
    compare,
    load_rulebook_file,
    read_actions,
    simulate,
)

group = click.Group("rules", help="Rulebooks: check and simulate.")


def _load(path: str):
    try:
        return load_rulebook_file(path)
    except RulebookError as exc:
        for line in exc.describe():
            click.echo(f"{path}: {line}", err=True)
        raise click.ClickException(f"{len(exc.errors)} problem(s) in {path}") from None


@group.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def check_command(file: str):
    """Validate FILE; print every problem with its path and line, exit 1 if there is any."""
    rulebook = _load(file)
    factors = sum(len(v) for v in rulebook.factors.values())
    click.echo(f"{file}: ok — {rulebook.id} {rulebook.version}: {len(rulebook.scenarios)} scenarios, "
               f"{factors} factor values, {len(rulebook.campaigns)} campaigns")


@group.command("simulate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--actions", "actions_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV of historical actions (see points_rules/simulate.py for the columns).")
@click.option("--against", "other_file", type=click.Path(exists=True, dir_okay=False),
              help="A second rulebook: report the difference it would make.")
@click.option("--top", default=5, show_default=True, help="How many moving accounts and scenarios to list.")
def simulate_command(file: str, actions_file: str, other_file: str | None, top: int):
    """Run FILE over the actions and summarise points, reduction and campaign budget burn."""
    rulebook = _load(file)
    other = _load(other_file) if other_file else None
    try:
        actions = list(read_actions(actions_file))
    except ActionFileError as exc:
        raise click.ClickException(str(exc)) from None
    runs = 2 if other else 1
    with click.progressbar(length=len(actions) * runs, label="simulating", show_pos=True) as bar:
        if other is None:
            _print_report(simulate(rulebook, actions, progress=lambda _a: bar.update(1)), top)
            return
        comparison = compare(rulebook, other, actions, progress=lambda _a: bar.update(1))
    _print_comparison(comparison, top)


def _print_report(report: Report, top: int) -> None:
    click.echo(f"\n{report.rulebook}: {report.actions} actions "
               f"({', '.join(f'{n} {s}' for s, n in sorted(report.statuses.items()))})")
    click.echo(f"  points issued {report.points:,} (base {report.base_points:,}, campaigns "
               f"{sum(report.campaign_points.values()):,}); reduction {report.grams / 1e6:,.3f} t CO2e")
    if report.rejections:
        click.echo("  rejected: " + ", ".join(f"{r} {n}" for r, n in report.rejections.most_common()))
    click.echo(f"  {'scenario':<22}{'actions':>9}{'grams':>14}{'points':>12}")
    for name, (count, grams, points) in sorted(report.by_scenario.items(), key=lambda kv: -kv[1][2])[:top]:
        click.echo(f"  {name:<22}{count:>9,}{grams:>14,}{points:>12,}")
    for cid, (paid, budget) in report.budget_burn().items():
        share = paid / budget * 100 if budget else 0
        click.echo(f"  campaign {cid}: {paid:,} of {budget:,} points ({share:.1f}% of budget)")
    click.echo("  top accounts: " + ", ".join(f"{a} {p:,}" for a, p in report.by_account.most_common(top)))


def _print_comparison(comparison: Comparison, top: int) -> None:
    for report in (comparison.base, comparison.other):
        _print_report(report, top)
    click.echo(f"\n{comparison.other.rulebook} vs {comparison.base.rulebook}: points {comparison.points_delta:+,}, "
               f"reduction {comparison.grams_delta:+,} g")
    click.echo("  scenarios moving most: " + (", ".join(f"{s} {d:+,}" for s, d in comparison.scenario_moves(top))
                                              or "none"))
    click.echo("  accounts moving most: " + (", ".join(f"{a} {d:+,}" for a, d in comparison.account_moves(top))
                                             or "none"))

