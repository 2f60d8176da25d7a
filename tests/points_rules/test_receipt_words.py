"""A receipt says why an action is not (yet) credited in its reader's language: the resident's words in Chinese
(the engine's detail is English), the code and the detail in English."""

from points_rules.receipt import Receipt


def receipt(status: str, reason: str | None, detail: str | None) -> Receipt:
    return Receipt.from_dict({
        "rulebook": "taian", "rulebook_version": "2026.4", "scenario": "walking",
        "scenario_name": {"zh": "步行", "en": "Walking"}, "status": status, "reason": reason, "detail": detail,
        "methodology_version": None, "formula": "", "inputs": {}, "grams": 0, "base_points": 0,
        "campaign_points": {}, "points": 0,
    })


def last_line(r: Receipt, locale: str) -> str:
    return r.render(locale).splitlines()[-1]


def test_a_rejection_is_in_chinese_on_a_chinese_receipt():
    r = receipt("rejected", "in_the_future", "occurred_at is after now")
    assert last_line(r, "zh_CN") == "不予计入: 行动时间晚于现在，未计入。 (in_the_future)"
    assert last_line(r, "en") == "Not credited: in_the_future — occurred_at is after now"


def test_a_held_action_says_why_in_chinese():
    r = receipt("review", "review_required", "scenario review: always")
    assert "这个场景需要人工审核，审核通过后计入。" in last_line(r, "zh_CN")
    assert "scenario review: always" not in last_line(r, "zh_CN")
    assert "scenario review: always" in last_line(r, "en")


def test_a_reason_without_words_keeps_its_code_and_detail():
    r = receipt("rejected", "some_new_reason", "why")
    assert last_line(r, "zh_CN") == "不予计入: some_new_reason — why"
