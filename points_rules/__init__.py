"""The rules engine: facts in, certified grams CO2e and points out, with a full receipt.

Pure Python: it never imports flask or sqlalchemy (a test guards this). The core calls it.

    rulebook = load_rulebook_file("seeds/rulebook.yaml")
    result = evaluate(rulebook, Facts("bus_ride", {"distance_km": 6.2}, "resident", time), usage)
    result.points, result.grams, result.receipt.render("zh_CN")
"""

from points_rules.engine import NO_USAGE, CampaignUsage, Facts, Result, Status, Totals, Usage, evaluate
from points_rules.formula import Formula, FormulaError, compile_formula
from points_rules.periods import Period, expiry_for, period_bounds, period_key
from points_rules.receipt import Adjustment, Receipt
from points_rules.rulebook import Rulebook, RulebookError, load_rulebook, load_rulebook_file, parse_yaml

__all__ = [
    "NO_USAGE", "Adjustment", "CampaignUsage", "Facts", "Formula", "FormulaError", "Period", "Receipt", "Result",
    "Rulebook", "RulebookError", "Status", "Totals", "Usage", "compile_formula", "evaluate", "expiry_for",
    "load_rulebook", "load_rulebook_file", "parse_yaml", "period_bounds", "period_key",
]
