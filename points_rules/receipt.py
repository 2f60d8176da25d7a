"""Calculation receipts: how a credit was computed, in full, renderable in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from points_rules.reasons import WORDS, explain

if TYPE_CHECKING:
    from points_rules.engine import Result


class Adjustment(NamedTuple):
    """A cap, budget or campaign that changed the outcome: points went from ``before`` to ``after``.

    A named tuple rather than a frozen dataclass: it is made on most credits, and a frozen
    dataclass's ``__init__`` cost more than the rest of the cap arithmetic.
    """

    kind: str  # cap | annual_cap | campaign | budget | participant_limit | points_only
    ref: str  # "caps[1]", "points.annual_cap_points" or a campaign id
    limit: int | None
    used: int | None
    before: int
    after: int
    per: str | None = None
    scope: str | None = None
    unit: str | None = None
    grams_after: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "limit": self.limit, "used": self.used, "before": self.before,
                "after": self.after, "per": self.per, "scope": self.scope, "unit": self.unit,
                "grams_after": self.grams_after}


@dataclass(frozen=True)
class Receipt:
    rulebook: str
    rulebook_version: str
    scenario: str
    scenario_name: dict[str, str]
    status: str
    reason: str | None
    detail: str | None
    methodology_version: str | None
    formula: str | None
    factors: tuple[dict[str, Any], ...]
    inputs: dict[str, str]
    steps: tuple[tuple[str, str], ...]
    adjustments: tuple[Adjustment, ...]
    grams: int
    base_points: int
    campaign_points: dict[str, int]
    points: int
    #: How the channel's declared trust rule met the report (``trust.Check.as_dict``); None, and absent from
    #: ``as_dict``, for rulebooks that declare none, so their receipts stay as they were.
    trust: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: stored with the credit, shown to the resident, exported to the province.

        Built field by field: ``dataclasses.asdict`` deep-copies and cost four times the evaluation.
        """
        stored = {
            "rulebook": self.rulebook, "rulebook_version": self.rulebook_version, "scenario": self.scenario,
            "scenario_name": dict(self.scenario_name), "status": self.status, "reason": self.reason,
            "detail": self.detail, "methodology_version": self.methodology_version, "formula": self.formula,
            "factors": [dict(f) for f in self.factors], "inputs": dict(self.inputs),
            "steps": [list(step) for step in self.steps],
            "adjustments": [a.as_dict() for a in self.adjustments],
            "grams": self.grams, "base_points": self.base_points, "campaign_points": dict(self.campaign_points),
            "points": self.points,
        }
        if self.trust is not None:
            stored["trust"] = self.trust
        return stored

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Receipt:
        """A stored receipt (``as_dict``) back as a Receipt, to render it in either language."""
        fields = dict(data)
        fields["factors"] = tuple(fields.get("factors", ()))
        fields["steps"] = tuple(tuple(step) for step in fields.get("steps", ()))
        fields["adjustments"] = tuple(Adjustment(**a) for a in fields.get("adjustments", ()))
        return cls(**fields)

    def render(self, locale: str = "zh_CN") -> str:
        english = locale.startswith("en")
        t = _EN if english else _ZH
        lines = [
            f"{t['scenario']}: {self.scenario_name['en' if english else 'zh']} ({self.scenario})",
            f"{t['rulebook']}: {self.rulebook} {self.rulebook_version}",
        ]
        if self.methodology_version:
            lines.append(f"{t['methodology']}: {self.methodology_version}  {self.formula}")
        elif self.formula:
            lines.append(f"{t['incentive']}: {self.formula}")
        for name, value in self.inputs.items():
            lines.append(f"  {t['input']} {name} = {value}")
        for factor in self.factors:
            lines.append(f"  {t['factor']} {factor['id']} = {factor['value']} {factor['unit']} "
                         f"({factor['source']}, {factor['year']})")
        for label, value in self.steps:
            lines.append(f"  {t.get(label, label)} = {value}")
        for a in self.adjustments:
            lines.append("  " + _describe(a, t))
        if self.trust is not None:
            lines.append("  " + _describe_trust(self.trust, t))
        if self.status == "rejected":
            lines.append(f"{t['rejected']}: {self._why(english)}")
        else:
            lines.append(f"{t['result']}: {self.grams} g CO2e, {self.points} {t['points']}"
                         + (f" ({t['review']}: {self._why(english)})" if self.status == "review" else ""))
        return "\n".join(lines)


    def _why(self, english: bool) -> str:
        """Why it is not (yet) credited: the code and the engine's detail (English, for operators) in English; in
        Chinese the resident's words for the code (the detail is English), when the code has words of its own."""
        if english or self.reason not in WORDS:
            return f"{self.reason}{' — ' + self.detail if self.detail else ''}" if self.reason else self.detail or ""
        words = explain(self.status, self.reason, self.detail, self.scenario, None)
        return f"{words[0]} ({self.reason})" if words else self.reason


def _describe(a: Adjustment, t: dict[str, str]) -> str:
    if a.kind == "campaign":
        return f"{t['campaign']} {a.ref}: +{a.after} {t['points']}"
    if a.kind == "points_only":
        return f"{t['points_only']} {a.ref}: 0 g CO2e, {a.after} {t['points']}"
    what = t.get(a.kind, a.kind)
    scope = " " + "/".join(t.get(part or "", part or "") for part in (a.per, a.scope, a.unit))
    return f"{what} {a.ref}{scope if a.kind == 'cap' else ''}: {t['limit']} {a.limit}, {t['used']} {a.used}, " \
           f"{a.before} → {a.after}"


def _describe_trust(trust: dict[str, Any], t: dict[str, str]) -> str:
    parts = []
    if trust["photos_needed"]:
        parts.append(t["trust_photos"].format(needed=trust["photos_needed"], sent=trust["photos"]))
    for b in trust["bounds"]:
        template = t["trust_count"] if b["bound"] == "count_per_day" else t["trust_bound"]
        parts.append(template.format(name=b["bound"], limit=b["limit"], value=b["value"])
                     + (t["trust_over"] if b["over"] else ""))
    if trust["review"] == "always":
        parts.append(t["trust_always"])
    if not parts:
        parts.append(t["trust_as_reported"])
    outcome = t["review"] if trust["outcome"] == "review" else t["trust_credited"]
    return f"{t['trust']} ({trust['channel']}): {'; '.join(parts)} → {outcome}"


def _text(value) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def build_receipt(result: Result) -> Receipt:
    scenario, rulebook, values = result.rules, result.rulebook, result.values
    declared = scenario.inputs if scenario else ()
    inputs = {i.name: _text(values[i.name]) for i in declared if i.name in values}
    steps: list[tuple[str, str]] = []
    formula_value = result.formula_value
    if formula_value is not None:
        steps.append(("formula_value", _text(formula_value)))
        if scenario.certifies_grams:
            steps.append(("grams_floor", str(max(0, int(formula_value)))))
            steps.append(("grams_per_point", str(rulebook.grams_per_point)))
        steps.append(("base_points", str(result.base_before_caps)))
    return Receipt(
        rulebook=rulebook.id,
        rulebook_version=rulebook.version,
        scenario=result.scenario,
        scenario_name={"zh": scenario.name_zh, "en": scenario.name_en} if scenario else {"zh": "", "en": ""},
        status=result.status.value,
        reason=result.reason,
        detail=result.detail,
        methodology_version=scenario.methodology_version if scenario else None,
        formula=scenario.formula.source if scenario else None,
        factors=tuple(f.receipt_entry for f in result.factors),
        inputs=inputs,
        steps=tuple(steps),
        adjustments=tuple(result.adjustments),
        grams=result.grams,
        base_points=result.base_points,
        campaign_points=dict(result.campaign_points),
        points=result.points,
        trust=result.trust.as_dict(result.status.value) if result.trust is not None else None,
    )


_ZH = {
    "scenario": "场景", "rulebook": "规则版本", "methodology": "方法学", "incentive": "激励规则", "input": "输入",
    "factor": "因子", "formula_value": "公式结果", "grams_floor": "减排量（克，向下取整）",
    "grams_per_point": "每积分克数", "base_points": "基础积分（向下取整）", "cap": "上限", "annual_cap": "年度上限",
    "budget": "活动预算", "participant_limit": "每人活动上限", "campaign": "活动", "limit": "上限", "used": "已用",
    "points": "积分", "result": "结果", "rejected": "不予计入", "review": "待审核", "day": "日", "week": "周",
    "month": "月", "year": "年", "ever": "累计", "account": "账户", "household": "家庭", "count": "次数",
    "grams": "克", "points_only": "已在别处核证，只计积分",
    "trust": "渠道可信规则", "trust_photos": "需照片 {needed} 张，已附 {sent} 张",
    "trust_count": "每天凭申报可计 {limit} 次，本次第 {value} 次",
    "trust_bound": "{name} 凭申报最多 {limit}，本次 {value}",
    "trust_over": "（超出）", "trust_always": "每次都需人工审核", "trust_as_reported": "按申报计入",
    "trust_credited": "当场计入",
}
_EN = {
    "scenario": "Scenario", "rulebook": "Rulebook", "methodology": "Methodology", "incentive": "Incentive",
    "input": "input", "factor": "factor", "formula_value": "formula value", "grams_floor": "grams (rounded down)",
    "grams_per_point": "grams per point", "base_points": "base points (rounded down)", "cap": "cap",
    "annual_cap": "annual cap", "budget": "campaign budget", "participant_limit": "per-participant limit",
    "campaign": "campaign", "limit": "limit", "used": "used", "points": "points", "result": "Result",
    "rejected": "Not credited", "review": "held for review", "day": "day", "week": "week", "month": "month",
    "year": "year", "ever": "ever", "account": "account", "household": "household", "count": "count", "grams": "grams",
    "points_only": "certified elsewhere: points only",
    "trust": "channel trust", "trust_photos": "{needed} photo(s) needed, {sent} attached",
    "trust_count": "{limit} a day on the report alone, this is number {value}",
    "trust_bound": "{name} at most {limit} on the report alone, this one {value}", "trust_over": " (beyond)",
    "trust_always": "every report is reviewed", "trust_as_reported": "credited as reported",
    "trust_credited": "credited at once",
}
