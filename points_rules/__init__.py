"""The rules engine: facts in, certified grams CO2e and points out, with a full receipt.

Pure Python: it never imports flask or sqlalchemy (a test guards this). The core calls it.

    rulebook = load_rulebook_file("seeds/rulebook.yaml")
    result = evaluate(rulebook, Facts("bus_ride", {"distance_km": 6.2}, "resident", time), usage)
    result.points, result.grams, result.receipt.render("zh_CN")

``evaluate`` (``engine``) judges one action's ``Facts`` given its ``Usage`` (both in ``facts``). A ``UsageBook``
(``usage``) keeps usage for a stream of actions evaluated one after another: the core seeds one from the ledger
for each batch it awards, and the simulator (``simulate``) starts one empty to replay history under a rulebook,
or two.
"""

from points_rules.engine import Refused, Result, Status, evaluate
from points_rules.facts import NO_USAGE, CampaignUsage, Facts, Totals, Usage
from points_rules.formula import Formula, FormulaError, compile_formula
from points_rules.loading import load_rulebook, load_rulebook_file, parse_yaml
from points_rules.periods import Period, expiry_for, period_bounds, period_key
from points_rules.receipt import Adjustment, Receipt
from points_rules.rulebook import Rulebook, RulebookError
from points_rules.simulate import ActionFileError, Comparison, Report, compare, read_actions, simulate
from points_rules.usage import Action, CampaignStops, Need, Tally, UsageBook

__all__ = [
    "NO_USAGE", "Action", "ActionFileError", "Adjustment", "CampaignStops", "CampaignUsage", "Comparison", "Facts",
    "Formula", "FormulaError", "Need", "Period", "Receipt", "Refused", "Report", "Result", "Rulebook",
    "RulebookError", "Status", "Tally", "Totals", "Usage", "UsageBook", "compare", "compile_formula", "evaluate",
    "expiry_for", "load_rulebook", "load_rulebook_file", "parse_yaml", "period_bounds", "period_key",
    "read_actions", "simulate",
]
