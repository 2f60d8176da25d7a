"""Why an action was not credited (or is waiting), in words for residents: Chinese and English.

The engine records a stable ``reason`` code and a ``detail`` (English, for operators); a client shows these
words instead. Conditions the rulebook writes (eligibility, plausibility) carry their own words in both
languages, so those are taken from the rulebook the action was judged by."""

from __future__ import annotations

from points_rules.rulebook import Rulebook, Scenario
from points_rules.trust import COUNT_PER_DAY, parse_detail

#: (Chinese, English) per reason code; ``{detail}`` is the engine's detail, ``{other_zh}``/``{other_en}`` the
#: name of the scenario that excludes this one.
WORDS: dict[str, tuple[str, str]] = {
    "unknown_scenario": ("没有这个场景，未计入。", "There is no such scenario, so it was not credited."),
    "channel_not_accepted": ("这个场景不能通过此渠道申报，未计入。",
                             "This scenario cannot be reported this way, so it was not credited."),
    "account_type_not_allowed": ("这个场景不适用于您的账户类型，未计入。",
                                 "This scenario is not open to your kind of account, so it was not credited."),
    "outside_claim_window": ("行动发生已超过申报期限，未计入。",
                             "It was reported after the claim window ({detail}), so it was not credited."),
    "in_the_future": ("行动时间晚于现在，未计入。", "Its time is in the future, so it was not credited."),
    "invalid_input": ("填写的数据不符合这个场景的要求，未计入。",
                      "The inputs do not meet the scenario's rules ({detail}), so it was not credited."),
    "no_factor_in_force": ("行动发生时还没有生效的排放因子，无法计算，未计入。",
                           "No emission factor was in force when it happened, so it was not credited."),
    "excluded_by_other_scenario": ("本月已在互斥的场景「{other_zh}」中计入，不重复计入。",
                                   "This month already counts {other_en}, which excludes this scenario."),
    "calculation_failed": ("计算出错，未计入，请联系客服。", "The calculation failed; please contact support."),
    "review_required": ("这个场景需要人工审核，审核通过后计入。",
                        "This scenario is credited once a reviewer has checked it."),
    "rejected_by_reviewer": ("审核未通过：{detail}", "Rejected by a reviewer: {detail}"),
    "evidence_missing": ("这个场景在应用中申报需要附上{evidence_zh}，未计入。请拍好照片后重新申报。",
                         "Reporting this in the app needs {evidence_en}, so it was not credited. Take the photo and "
                         "report it again."),
    "over_bound": ("超出了凭申报即可计入的范围（{bounds_zh}），审核员核实后计入。",
                   "Beyond what is credited on your report alone ({bounds_en}): credited once a reviewer has "
                   "checked it."),
}
EVIDENCE = {"photo": ("一张照片", "a photo"),
            "photo_and_certificate": ("现场照片和证明材料照片各一张", "a photo of the event and one of its papers")}
REVERSED = ("已撤销：合作方更正或取消了这条记录，积分已收回。",
            "Reversed: the partner corrected or cancelled this record, and its points were taken back.")
#: An app report reversed because a partner's record (or a check-in) of the same fact replaced it (same_fact).
SUPERSEDED = ("已由合作方的记录替代：公交卡、回收站或商户等合作方也记录了这件事，同一件事只计一次，以合作方的记录为准，"
              "这次申报的积分已收回。",
              "Replaced: a partner (the card operator, the station or the shop) recorded the same thing, which counts "
              "once, as the partner recorded it; this report's points were taken back.")
UNKNOWN = ("未计入（原因：{reason}）。", "Not credited (reason: {reason}).")


def explain(status: str, reason: str | None, detail: str | None, scenario_id: str,
            rulebook: Rulebook | None) -> tuple[str, str] | None:
    """(Chinese, English) words for an action that is not (or not yet) credited; None for a credited one."""
    if status == "reversed":
        return SUPERSEDED if reason == "superseded" else REVERSED
    if status == "credited" or reason is None:
        return None
    scenario = rulebook.scenarios.get(scenario_id) if rulebook else None
    if reason in ("ineligible", "implausible") and scenario is not None:
        for condition in scenario.eligibility + scenario.plausibility:
            if condition.reason_en == detail:
                if reason == "ineligible":
                    return f"{condition.reason_zh}，未计入。", f"Not credited: {condition.reason_en}."
                return f"待人工核实：{condition.reason_zh}。", f"Held for checking: {condition.reason_en}."
    other = rulebook.scenarios.get(detail or "") if rulebook else None
    evidence = EVIDENCE.get(detail or "", EVIDENCE["photo"])
    bounds_zh, bounds_en = bound_words(detail, scenario)
    names = {"detail": detail or "", "reason": reason,
             "other_zh": other.name_zh if other else detail or "", "other_en": other.name_en if other else detail or "",
             "evidence_zh": evidence[0], "evidence_en": evidence[1], "bounds_zh": bounds_zh, "bounds_en": bounds_en}
    zh, en = WORDS.get(reason, UNKNOWN)
    return zh.format(**names), en.format(**names)


def bound_words(detail: str | None, scenario: Scenario | None) -> tuple[str, str]:
    """(Chinese, English) words for the bounds an ``over_bound`` detail names (``name=value>limit; …``), with the
    inputs' labels and units from the scenario."""
    inputs = {i.name: i for i in scenario.inputs} if scenario is not None else {}
    zh, en = [], []
    for name, value, limit in parse_detail(detail):
        if name == COUNT_PER_DAY:
            zh.append(f"今天第 {value} 次申报，每天凭申报可计 {limit} 次")
            en.append(f"report {value} of the day, {limit} a day on the report alone")
            continue
        spec = inputs.get(name)
        unit = spec.unit if spec else ""
        zh.append(f"{(spec.label_zh if spec else None) or name} {value} {unit}，凭申报最多 {limit} {unit}")
        en.append(f"{((spec.label_en if spec else None) or name).lower()} {value} {unit}, at most {limit} {unit} "
                  "on the report alone")
    return "；".join(zh) or (detail or ""), "; ".join(en) or (detail or "")
