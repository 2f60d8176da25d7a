"""Generated green actions over the Tai'an rulebook: a deterministic, realistic mix for benchmarks.

    .venv/bin/python benchmarks/actions.py 1000 > /tmp/actions.csv    # a CSV for `rules simulate`
"""

from __future__ import annotations

import csv
import random
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from points_rules import CampaignUsage, Facts, Period, Totals, Usage, load_rulebook_file  # noqa: E402

BEIJING = timezone(timedelta(hours=8))
RULEBOOK_PATH = Path(__file__).resolve().parent.parent / "seeds" / "rulebook.yaml"
#: Share of each scenario in a day of the city's actions (a guess at a mature platform's mix).
MIX = {"bus_ride": 30, "walking": 20, "cycling": 14, "waste_sorting": 10, "brt_ride": 5, "clean_plate": 5,
       "own_bag": 5, "ev_charging": 3, "recyclables": 2, "nev_driving": 1, "pv_generation": 1,
       "electricity_saving": 1, "taishan_zero_waste": 1, "tree_planting": 1, "pv_installation": 1}
DISTRICTS = ["370902", "370911", "370982", "370983", "370921", "370923", None]
#: Typical values (low, high) where the rulebook's bounds are far wider than everyday life.
TYPICAL = {("bus_ride", "distance_km"): (0, 15), ("brt_ride", "distance_km"): (1, 20),
           ("cycling", "distance_km"): (0.5, 12), ("walking", "steps"): (1500, 22000),
           ("nev_driving", "km"): (200, 3000), ("ev_charging", "kwh"): (5, 70),
           ("waste_sorting", "weight_kg"): (0.3, 5), ("recyclables", "clothes_kg"): (0, 8),
           ("recyclables", "glass_kg"): (0, 8), ("pv_generation", "kwh"): (100, 700),
           ("electricity_saving", "baseline_kwh"): (150, 500), ("electricity_saving", "actual_kwh"): (120, 520),
           ("tree_planting", "trees"): (1, 4)}


def generate(count: int, seed: int = 2026) -> list[tuple[str, Facts, Usage]]:
    """(account, facts, usage) triples; the usage is what the account had already earned that period."""
    rulebook = load_rulebook_file(RULEBOOK_PATH)
    rng = random.Random(seed)
    names, weights = zip(*MIX.items(), strict=True)
    start = datetime(2026, 1, 1, tzinfo=BEIJING)
    out = []
    for _ in range(count):
        scenario = rulebook.scenarios[rng.choices(names, weights)[0]]
        inputs = {}
        for spec in scenario.inputs:
            low, high = TYPICAL.get((scenario.id, spec.name), (float(spec.min or 0), float(spec.max or 100)))
            inputs[spec.name] = Decimal(f"{rng.uniform(max(low, float(spec.min or 0)), high):.2f}")
        if scenario.id == "pv_generation":
            inputs.update(rated_kw=Decimal(5), hours=Decimal(720), certified_elsewhere=Decimal(0))
        if scenario.id == "cycling":
            inputs["minutes"] = max(inputs["minutes"], inputs["distance_km"] * 4)
        when = start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        account_type = sorted(scenario.account_types)[0]
        facts = Facts(scenario.id, inputs, account_type, when, channel=sorted(scenario.channels)[0],
                      district=rng.choice(DISTRICTS), in_household=rng.random() < 0.4,
                      received_at=when + timedelta(minutes=rng.randrange(0, 3000)))
        account = {(scenario.id, cap.per): Totals(rng.randrange(0, cap.limit + 2), rng.randrange(0, 3000),
                                                  rng.randrange(0, 3000)) for cap in scenario.caps}
        campaigns = {c.id: CampaignUsage(rng.randrange(0, c.budget_points), rng.randrange(0, 300),
                                         rng.randrange(0, 6), {Period.WEEK: rng.randrange(0, 6)})
                     for c in rulebook.campaigns}
        usage = Usage(account, account, rng.randrange(0, 150_000), campaigns)
        out.append((f"r{rng.randrange(5000)}", facts, usage))
    return out


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rows = generate(count)
    inputs = sorted({name for _a, facts, _u in rows for name in facts.inputs})
    writer = csv.writer(sys.stdout)
    columns = ["time", "account", "account_type", "scenario", "channel", "district"]
    writer.writerow(columns + [f"in.{n}" for n in inputs])
    for account, facts, _usage in rows:
        writer.writerow([facts.time.isoformat(), account, facts.account_type, facts.scenario, facts.channel,
                         facts.district or "", *[facts.inputs.get(n, "") for n in inputs]])


if __name__ == "__main__":
    main()
