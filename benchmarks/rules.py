"""Rules engine figures: 100,000 generated actions over the Tai'an rulebook, side by side with
a hand-written if/else of the same arithmetic (the lower bound) and two third-party engines.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/rules.py [--actions 100000] [--rounds 3]

"Doing the same work": every engine gets the same (facts, usage) pairs and must produce grams,
base points, campaign points and the total, with a receipt available. Each third-party run holds
the whole decision in that engine's expressions, translated from the rulebook's formulas: the
methodology, eligibility and plausibility rules, every cap, campaign targeting and effects, and the
annual cap. Only input checking, the data it is given and the receipt are Python. Two figures are
printed per engine: receipts on demand (as ours are: built when first read) and every receipt
materialised. The medians of ``--rounds`` runs are compared within this one run.
"""

from __future__ import annotations

import argparse
import ast
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from actions import RULEBOOK_PATH, generate  # noqa: E402

from points_rules import Period, Status, evaluate, load_rulebook_file  # noqa: E402
from points_rules.engine import Refused, read_inputs  # noqa: E402
from points_rules.facts import ZERO  # noqa: E402
from points_rules.periods import as_utc, expiry_for  # noqa: E402

RULEBOOK = load_rulebook_file(RULEBOOK_PATH)
GPP = RULEBOOK.grams_per_point


# -- ours ------------------------------------------------------------------------------------------


def ours(facts, usage, materialise):
    result = evaluate(RULEBOOK, facts, usage)
    receipt = result.receipt.as_dict() if materialise else None
    return result.grams, result.points, receipt


# -- the lower bound: the same arithmetic written out by hand --------------------------------------

D = Decimal


def _factor(name, when):
    return RULEBOOK.factor_on(name, when).value  # hand-written code would hard-code these; same cost class


def hand_written(facts, usage, materialise):
    s, x, when = facts.scenario, facts.inputs, as_utc(facts.time)  # UTC: the cheapest comparisons
    f = {name: _factor(name, when) for name in RULEBOOK.scenarios[s].factor_ids}
    review = False
    if s == "bus_ride":
        km = D(x.get("distance_km", 0))
        raw = km * f["er_bus_per_pkm"] if km > 0 else f["er_bus_per_ride"]
    elif s == "brt_ride":
        raw = D(x["distance_km"]) * f["er_brt_per_pkm"]
    elif s == "cycling":
        km, minutes = D(x["distance_km"]), D(x["minutes"])
        raw = km * f["er_cycling_per_km"]
        review = km / minutes * 60 > 30
    elif s == "walking":
        raw = min(D(x["steps"]), D(20000)) / 1000 * f["er_walk_per_1000_steps"]
    elif s == "nev_driving":
        km = D(x["km"])
        raw, review = km * f["er_nev_per_km"], km > 6000
    elif s == "ev_charging":
        kwh = D(x["kwh"])
        if usage.account.get(("nev_driving", Period.MONTH), ZERO).count:
            return 0, 0, None
        raw, review = kwh * f["nev_km_per_kwh"] * f["er_nev_per_km"], kwh > 120
    elif s == "waste_sorting":
        kg = D(x["weight_kg"])
        raw, review = kg * f["er_msw_recovery_per_kg"], kg > 15
    elif s == "recyclables":
        raw = D(x.get("clothes_kg", 0)) * f["er_used_clothes_per_kg"] + D(x.get("glass_kg", 0)) * f["er_glass_per_kg"]
    elif s == "pv_generation":
        kwh = D(x["kwh"])
        if D(x.get("certified_elsewhere", 0)) == 1:
            return 0, 0, None
        raw, review = kwh * f["ef_grid_shandong"], kwh > D(x["rated_kw"]) * D(x["hours"]) * D("1.1")
    elif s == "electricity_saving":
        base, actual = D(x["baseline_kwh"]), D(x["actual_kwh"])
        raw, review = max(D(0), base - actual) * f["ef_grid_shandong"], actual < base * D("0.3")
    elif s == "clean_plate":
        raw = f["er_clean_plate"]
    elif s == "own_bag":
        raw = f["er_own_bag"]
    elif s == "pv_installation":
        raw, review = D(2000), True
    elif s == "taishan_zero_waste":
        raw = D(40)
    elif s == "tree_planting":
        raw = min(D(x["trees"]), D(5)) * 100
    else:
        return 0, 0, None
    incentive = s in ("pv_installation", "taishan_zero_waste", "tree_planting")
    whole = int(raw) if raw > 0 else 0
    grams, base = (0, whole) if incentive else (whole, whole // GPP)
    for cap in RULEBOOK.scenarios[s].caps:  # the caps, in order
        if cap.scope == "household" and not facts.in_household:
            continue
        used = (usage.account if cap.scope == "account" else usage.household).get((s, cap.per), ZERO)
        if cap.unit == "count":
            if used.count >= cap.limit:
                grams = base = 0
        elif cap.unit == "grams":
            room = max(0, cap.limit - used.grams)
            if grams > room:
                grams, base = room, (min(base, room // GPP) if not incentive else base)
        else:
            base = min(base, max(0, cap.limit - used.points))
    extra = {}
    if grams or base:
        for c in RULEBOOK.campaigns:
            if c.targets(s, facts.district, facts.account_type, when):
                u = usage.campaigns.get(c.id)
                e = 0
                for effect in c.effects:
                    if effect.type == "multiplier":
                        e += int(base * (effect.factor - 1))
                    elif effect.type == "fixed_bonus":
                        e += effect.points
                    elif effect.type == "first_time_bonus" and u.participant_actions == 0:
                        e += effect.points
                    elif effect.type == "streak_bonus" and u.streak_actions.get(effect.per, 0) + 1 == effect.actions:
                        e += effect.points
                e = min(e, max(0, c.budget_points - u.spent), max(0, c.per_participant_points - u.participant_points))
                if e:
                    extra[c.id] = e
    total = base + sum(extra.values())
    room = max(0, RULEBOOK.annual_cap_points - usage.account_year_points)
    if total > room:
        total = room
    received = as_utc(facts.received_at) if facts.received_at else when
    expires = expiry_for(received, RULEBOOK.expiry_months)
    receipt = None
    if materialise:
        receipt = {"scenario": s, "inputs": {k: str(v) for k, v in x.items()}, "factors": {k: str(v) for k, v in
                   f.items()}, "raw": str(raw), "grams": grams, "base": base, "campaigns": extra, "points": total,
                   "review": review, "expires": expires.isoformat()}
    return grams, total, receipt


# -- third-party engines, holding the same decision in their own expressions ------------------------


class Translator(ast.NodeVisitor):
    """Our formula language (a Python expression) into another engine's syntax."""

    def __init__(self, backend):
        self.b = backend

    def visit_Expression(self, node):
        return self.visit(node.body)

    def visit_Name(self, node):
        return self.b.name(node.id)

    def visit_Constant(self, node):
        return self.b.constant(node.value)

    def visit_BinOp(self, node):
        op = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}[type(node.op)]
        return self.b.binary(op, self.visit(node.left), self.visit(node.right))

    def visit_Compare(self, node):
        ops = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==", ast.NotEq: "!="}
        parts, left = [], node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(self.b.binary(ops[type(op)], self.visit(left), self.visit(right)))
            left = right
        return parts[0] if len(parts) == 1 else self.b.logical("and", parts)

    def visit_BoolOp(self, node):
        return self.b.logical("and" if isinstance(node.op, ast.And) else "or", [self.visit(v) for v in node.values])

    def visit_UnaryOp(self, node):
        return self.b.unary("-" if isinstance(node.op, ast.USub) else "not", self.visit(node.operand))

    def visit_IfExp(self, node):
        return self.b.conditional(self.visit(node.test), self.visit(node.body), self.visit(node.orelse))

    def visit_Call(self, node):
        return self.b.call(node.func.id, [self.visit(a) for a in node.args])


class Zen:
    name_ = "zen-engine (compiled expressions)"

    def __init__(self):
        import zen

        self.zen = zen

    def name(self, n):
        return n

    def constant(self, v):
        return repr(float(v)) if not isinstance(v, bool) else ("true" if v else "false")

    def binary(self, op, a, b):
        return f"({a} {op} {b})"

    def logical(self, op, parts):
        return "(" + f" {op} ".join(parts) + ")"

    def unary(self, op, a):
        return f"(-{a})" if op == "-" else f"(not {a})"

    def conditional(self, c, a, b):
        return f"({c} ? {a} : {b})"

    def call(self, fn, args):
        return f"{fn}([{', '.join(args)}])" if fn in ("min", "max") else f"{fn}({args[0]})"

    def compile(self, text):
        return self.zen.compile_expression(text).evaluate


class JsonLogic:
    name_ = "json-logic-qubit"

    def __init__(self):
        import json_logic

        json_logic.add_operation("floor", lambda x: float(int(x // 1)))
        json_logic.add_operation("max", lambda *xs: max(xs))
        json_logic.add_operation("min", lambda *xs: min(xs))
        self.run = json_logic.jsonLogic

    def name(self, n):
        return {"var": n}

    def constant(self, v):
        return float(v) if not isinstance(v, bool) else v

    def binary(self, op, a, b):
        return {{"==": "==", "!=": "!="}.get(op, op): [a, b]}

    def logical(self, op, parts):
        return {op: parts}

    def unary(self, op, a):
        return {"-": [0, a]} if op == "-" else {"!": [a]}

    def conditional(self, c, a, b):
        return {"if": [c, a, b]}

    def call(self, fn, args):
        return {fn: args}

    def compile(self, rule):
        run = self.run
        return lambda data: run(rule, data)


class Pipeline:
    """Our engine's steps, with every rule decided by a third-party engine's expressions."""

    def __init__(self, backend):
        self.b = backend
        translate = Translator(backend).visit
        expr = lambda text: backend.compile(translate(ast.parse(text, mode="eval")))  # noqa: E731
        self.formula, self.eligible, self.plausible, self.caps = {}, {}, {}, {}
        for s in RULEBOOK.scenarios.values():
            self.formula[s.id] = expr(s.formula.source)
            self.eligible[s.id] = [expr(c.formula.source) for c in s.eligibility]
            self.plausible[s.id] = [expr(c.formula.source) for c in s.plausibility]
        self.whole = expr("max(0, floor(raw))")
        self.points_of = expr(f"floor(grams / {GPP})")
        self.count_cap = expr("used >= limit")
        self.room = expr("max(0, limit - used)")
        self.smaller = expr("min(a, b)")
        self.window = expr("start <= t and t < end")
        self.multiplier = expr("floor(base * (factor - 1))")
        self.first = expr("actions == 0")
        self.streak = expr("streak + 1 == needed")
        self.campaign_windows = [(c, c.starts_at.timestamp(), c.ends_at.timestamp()) for c in RULEBOOK.campaigns]

    def __call__(self, facts, usage, materialise):
        scenario = RULEBOOK.scenarios[facts.scenario]
        try:
            values = read_inputs(scenario, facts.inputs)
        except Refused:
            return 0, 0, None
        when = as_utc(facts.time)  # the same UTC comparisons ours and the hand-written code make
        for factor_id in scenario.factor_ids:
            values[factor_id] = RULEBOOK.factor_on(factor_id, when).value
        data = {k: float(v) for k, v in values.items()}
        for other in scenario.excludes:
            if usage.account.get((other, Period.MONTH), ZERO).count:
                return 0, 0, None
        if any(rule(data) for rule in self.eligible[scenario.id]):
            return 0, 0, None
        raw = self.formula[scenario.id](data)
        review = any(rule(data) for rule in self.plausible[scenario.id])
        whole = int(self.whole({"raw": raw}))
        grams, base = (whole, int(self.points_of({"grams": whole}))) if scenario.certifies_grams else (0, whole)
        for cap in scenario.caps:
            if cap.scope == "household" and not facts.in_household:
                continue
            used = (usage.account if cap.scope == "account" else usage.household).get((scenario.id, cap.per), ZERO)
            if cap.unit == "count":
                if self.count_cap({"used": used.count, "limit": cap.limit}) and (grams or base):
                    grams = base = 0
            elif cap.unit == "grams":
                room = int(self.room({"limit": cap.limit, "used": used.grams}))
                if grams > room:
                    grams = room
                    if scenario.certifies_grams:
                        base = int(self.smaller({"a": base, "b": int(self.points_of({"grams": room}))}))
            else:
                base = int(self.smaller({"a": base, "b": int(self.room({"limit": cap.limit, "used": used.points}))}))
        extra = {}
        t = when.timestamp()
        if grams or base:
            for c, start, end in self.campaign_windows:  # timestamps worked out once, not per action
                if not self.window({"start": start, "end": end, "t": t}):
                    continue
                if (c.scenarios and facts.scenario not in c.scenarios) or (c.districts and facts.district not in
                        c.districts) or (c.account_types and facts.account_type not in c.account_types):
                    continue
                u = usage.campaigns[c.id]
                e = 0
                for effect in c.effects:
                    if effect.type == "multiplier":
                        e += int(self.multiplier({"base": base, "factor": float(effect.factor)}))
                    elif effect.type == "fixed_bonus":
                        e += effect.points
                    elif effect.type == "first_time_bonus" and self.first({"actions": u.participant_actions}):
                        e += effect.points
                    elif effect.type == "streak_bonus" and self.streak({"streak": u.streak_actions.get(effect.per, 0),
                                                                        "needed": effect.actions}):
                        e += effect.points
                e = int(self.smaller({"a": e, "b": self.room({"limit": c.budget_points, "used": u.spent})}))
                e = int(self.smaller({"a": e, "b": self.room({"limit": c.per_participant_points,
                                                              "used": u.participant_points})}))
                if e:
                    extra[c.id] = e
        total = base + sum(extra.values())
        total = int(self.smaller({"a": total, "b": self.room({"limit": RULEBOOK.annual_cap_points,
                                                              "used": usage.account_year_points})}))
        expires = expiry_for(as_utc(facts.received_at) if facts.received_at else when, RULEBOOK.expiry_months)
        receipt = None
        if materialise:
            receipt = {"scenario": scenario.id, "inputs": {k: str(v) for k, v in values.items()}, "raw": raw,
                       "grams": grams, "base": base, "campaigns": extra, "points": total, "review": review,
                       "expires": expires.isoformat()}
        return grams, total, receipt


def measure(run, data, rounds, materialise):
    rates, outputs = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        outputs = [run(facts, usage, materialise) for _account, facts, usage in data]
        rates.append(len(data) / (time.perf_counter() - start))
    return statistics.median(rates), [(g, p) for g, p, _r in outputs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = generate(args.actions)
    engines = [("points_rules (ours)", ours), ("hand-written if/else", hand_written)]
    for backend in (Zen, JsonLogic):
        try:
            engines.append((backend.name_, Pipeline(backend())))
        except ImportError:
            print(f"{backend.name_}: not installed (pip install -e '.[bench]')")
    statuses = {s.value: 0 for s in Status}
    for _account, facts, usage in data:
        statuses[evaluate(RULEBOOK, facts, usage).status.value] += 1
    print(f"{len(data):,} generated actions over {RULEBOOK.id} {RULEBOOK.version}: {statuses}; "
          f"median of {args.rounds} rounds\n")
    print(f"{'engine':<36}{'receipts on demand':>20}{'all receipts built':>20}{'same result as ours':>22}")
    results = {}
    for name, run in engines:
        lazy, outputs = measure(run, data, args.rounds, False)
        built, _ = measure(run, data, args.rounds, True)
        results[name] = (lazy, built, outputs)
    reference = results["points_rules (ours)"][2]
    for name, (lazy, built, outputs) in results.items():
        same = sum(a == b for a, b in zip(outputs, reference, strict=True)) / len(reference) * 100
        print(f"{name:<36}{lazy:>16,.0f}/s{built:>16,.0f}/s{same:>21.2f}%")
    ours_lazy, ours_built, _ = results["points_rules (ours)"]
    hand_lazy, hand_built, _ = results["hand-written if/else"]
    print(f"\nhand-written / ours: {hand_lazy / ours_lazy:.2f}x on demand, {hand_built / ours_built:.2f}x built "
          "(target: within 10x)")
    third = {n: r for n, r in results.items() if n not in ("points_rules (ours)", "hand-written if/else")}
    if third:
        fastest = max(third, key=lambda n: third[n][0])
        print(f"ours / fastest third-party ({fastest}): {ours_lazy / third[fastest][0]:.2f}x on demand, "
              f"{ours_built / max(r[1] for r in third.values()):.2f}x built (target: at least 2x)")


if __name__ == "__main__":
    main()
