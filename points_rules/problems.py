"""What can be wrong with a rulebook, in words: Chinese and English, by a stable code.

Every problem the loader reports (``loading``, ``schema``, ``formula``, ``trust``, ``same_fact``) is a ``Problem``:
its English text (what ``RulebookError.describe`` prints for the CLI and the API), and the code and parameters that
word it in the other language (the console's Chinese editor). As ``reasons`` does for refusals, the wording lives
here beside the engine, with no flask or babel: ``Problem.words("zh")`` or ``Problem.words("en")``.

Marshmallow's own messages (a misspelt key, a word where a number belongs) come out of the schema as plain
English; ``from_schema`` recognises them by their templates (``SCHEMA_TEXTS``) and gives them their codes.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

#: (Chinese, English) per code. The English is a ``str.format`` template of the parameters and reads as the engine
#: always wrote it; the Chinese may leave out a parameter that is English itself (YAML's or Python's own words).
WORDS: dict[str, tuple[str, str]] = {
    # -- the document (loading.parse_yaml) --
    "yaml_invalid": ("不是有效的 YAML：请检查这一行附近的缩进、冒号和引号。", "not valid YAML: {problem}"),
    "not_a_mapping": ("规则应为一个键值映射（id、version、points、scenarios……）。",
                      "a rulebook is a mapping (id, version, points, scenarios, …)"),
    # -- cross-checks (loading._Builder) --
    "duplicate": ("与 {section}[{first}].{key} 重复（{value}）。", "duplicate of {section}[{first}].{key} ({value!r})"),
    "valid_to_not_after_from": ("须晚于 valid_from。", "must be after valid_from"),
    "before_published": ("排放因子自发布之日（{published}）起适用：valid_from 不能早于该日。",
                         "a factor applies from its publication ({published}): valid_from must not be earlier"),
    "factor_is_function": ("「{name}」是函数名，不能用作排放因子。", "'{name}' is a function name"),
    "factor_overlap": ("与排放因子「{name}」的另一个版本时间重叠（请为每个版本写明 valid_from/valid_to）。",
                       "overlaps another version of factor '{name}' (give each a valid_from/valid_to)"),
    "unknown_programme": ("没有这个工程：「{programme}」。", "unknown programme {programme!r}"),
    "duplicate_input": ("输入项「{name}」重复。", "duplicate input {name!r}"),
    "input_name_taken": ("「{name}」已是排放因子或函数的名字。", "{name!r} is already a factor or function name"),
    "max_below_min": ("不能小于 min。", "must not be below min"),
    "not_another_scenario": ("不是另一个场景：「{name}」。", "not another scenario: {name!r}"),
    "unknown_scenario": ("没有这个场景：「{name}」。", "unknown scenario {name!r}"),
    "formula": ("公式第 {line} 行第 {column} 列：{reason}", "line {line}, column {column}: {reason}"),
    # -- formulas (formula.compile_formula): the ``reason`` of "formula" --
    "formula_empty": ("公式为空。", "empty formula"),
    "formula_too_long": ("公式超过 {limit} 个字符。", "longer than {limit} characters"),
    "formula_syntax": ("语法错误，无法解析（请检查括号、运算符和名字的写法）。", "syntax error: {message}"),
    "formula_too_many_parts": ("公式超过 {limit} 个组成部分，请拆分。", "more than {limit} parts; split it"),
    "formula_attribute": ("不允许访问属性（“.”）。", "attribute access is not allowed"),
    "formula_subscript": ("不允许使用下标（“[]”）。", "subscripts are not allowed"),
    "formula_lambda": ("不允许使用 lambda。", "lambda is not allowed"),
    "formula_comprehension": ("不允许使用推导式。", "comprehensions are not allowed"),
    "formula_assignment": ("不允许赋值。", "assignment is not allowed"),
    "formula_power": ("不允许使用“**”（乘方）。", "'**' is not allowed"),
    "formula_string": ("不允许使用字符串。", "strings are not allowed"),
    "formula_await": ("不允许使用 await。", "await is not allowed"),
    "formula_construct": ("不允许这种写法（{construct}）。", "{construct} is not allowed"),
    "formula_constant": ("只允许数字和 True/False 常量（这里是 {kind}）。", "{kind} constants are not allowed"),
    "formula_uncalled_function": ("「{name}」是函数，须调用，如 {name}(…)。", "'{name}' is a function; call it"),
    "formula_underscore": ("名字不能以“_”开头：{name}。", "names may not start with '_': {name}"),
    "formula_unknown_name": ("未知的名字「{name}」（不是输入项，也不是排放因子）。",
                             "unknown name '{name}' (not an input or factor)"),
    "formula_call_target": ("只能调用函数 min、max、round 和 floor。",
                            "only the functions min, max, round and floor can be called"),
    "formula_call_unknown": ("不能调用「{name}」（只能调用 {functions}）。",
                             "calling {name!r} is not allowed (only {functions})"),
    "formula_call_arguments": ("只能按位置传入普通参数。", "only plain positional arguments"),
    "formula_arity": ("{name}() 接受 {low} 到 {high} 个参数。", "{name}() takes {low} to {high} arguments"),
    # -- trust per channel (trust.build) --
    "trust_scenario_wide": ("已在 trust 中按渠道声明：请删除场景级的「{key}」。",
                            "declared per channel under trust: remove the scenario-wide {key!r}"),
    "trust_channel_missing": ("渠道「{channel}」没有信任规则：场景的每个渠道都须声明一条。",
                              "no trust rule for channel {channel!r}: every channel of the scenario declares one"),
    "trust_unknown_channel": ("未知的渠道「{channel}」：这个场景的渠道是 {channels}。",
                              "unknown channel {channel!r}: the scenario's channels are {channels}"),
    "trust_evidence_not_app": ("只有应用内申报带照片；合作方和打卡只发送数据。",
                               "only app reports carry photos; partners and check-ins send data"),
    "trust_review_and_bounds": ("review: always 已让每条申报都等待审核，再设上限不起作用。",
                                "review: always already holds every report; bounds would change nothing"),
    "trust_says_nothing": ("这条规则什么也没说：请写 as_reported，或给出 evidence、below 或 review。",
                           "says nothing: write as_reported, or give evidence, below or review"),
    "trust_unknown_input": ("场景没有输入项「{name}」（它的输入项：{inputs}；或 count_per_day）。",
                            "the scenario has no input {name!r} (its inputs: {inputs}; or count_per_day)"),
    "trust_unknown_input_none": ("场景没有输入项「{name}」（它没有输入项；只能限制 count_per_day）。",
                                 "the scenario has no input {name!r} (its inputs: none; or count_per_day)"),
    "trust_bound_not_lower": ("{name} 本身最多为 {maximum}：上限须更低。",
                              "{name} may be at most {maximum} anyway: a bound must be lower"),
    # -- one fact, one credit (same_fact.build) --
    "same_fact_channels": ("用于把应用申报与合作方记录或打卡对应起来：场景须有 app 渠道和另一个渠道"
                           "（它的渠道：{channels}）。",
                           "joins app reports to a partner's records or check-ins: the scenario needs the app channel "
                           "and another (its channels: {channels})"),
    "same_fact_unknown_input": ("场景没有输入项「{name}」。", "the scenario has no input {name!r}"),
    # -- the schema's own messages (schema) --
    "identifier": ("只能用小写字母、数字和“_”，并以字母开头。",
                   "lower-case letters, digits and '_', starting with a letter"),
    "channel": ("应为 app、merchant_checkin 或 partner:<类型>。", "app, merchant_checkin or partner:<kind>"),
    "bound_name": ("应为输入项的名字：小写字母、数字和“_”。", "an input name: lower-case letters, digits and '_'"),
    "bound_number": ("应为数字：一次申报最多可填的值。", "a number: the most one report may say"),
    "bound_positive": ("应为正数。", "a positive number"),
    "below_empty": ("请给出 count_per_day 或某个输入项的上限。", "give count_per_day or an input's bound"),
    "trust_rule_shape": ("应为 as_reported，或包含 evidence、below、review 的映射。",
                         "as_reported, or a mapping of evidence, below and review"),
    "reduction_needs_methodology": ("减排场景须有 methodology。", "a reduction scenario needs a methodology"),
    "incentive_needs_incentive": ("激励场景须有 incentive。", "an incentive scenario needs an incentive"),
    "incentive_has_methodology": ("激励场景不核证减排量：请删除 methodology。",
                                  "an incentive scenario certifies no grams: remove the methodology"),
    "incentive_points_only": ("激励场景本来就不核证减排量，不需要 points_only。",
                              "an incentive scenario certifies no grams anyway"),
    "effect_needs_field": ("这种效果类型须有这一项。", "required for this effect type"),
    "ends_before_start": ("须晚于 starts_at。", "must be after starts_at"),
    # -- marshmallow's own messages (the English is marshmallow's template, matched by from_schema) --
    "missing": ("缺少这一项（必填）。", "Missing data for required field."),
    "unknown_field": ("没有这一项（可能拼错了）。", "Unknown field."),
    "null": ("不能为空。", "Field may not be null."),
    "invalid_value": ("值无效。", "Invalid value."),
    "invalid_type": ("类型不对：这里应为键值映射。", "Invalid input type."),
    "invalid_nested_type": ("类型不对：这里应为键值映射。", "Invalid type."),
    "not_a_string": ("应为文字。", "Not a valid string."),
    "not_utf8": ("应为 UTF-8 文字。", "Not a valid utf-8 string."),
    "not_a_number": ("不是有效的数字。", "Not a valid number."),
    "number_too_large": ("数字太大。", "Number too large."),
    "not_an_integer": ("不是有效的整数。", "Not a valid integer."),
    "special_number": ("不能是 NaN 或无穷大。", "Special numeric values (nan or infinity) are not permitted."),
    "not_a_boolean": ("应为 true 或 false。", "Not a valid boolean."),
    "not_a_date": ("不是有效的日期。", "Not a valid date."),
    "date_format": ("无法写成日期。", "\"{input}\" cannot be formatted as a date."),
    "not_a_datetime": ("不是有效的日期时间。", "Not a valid {obj_type}."),
    "datetime_awareness": ("应为带时区的日期时间，如 2026-05-01T00:00:00+08:00。",
                           "Not a valid {awareness} {obj_type}."),
    "datetime_format": ("无法写成日期时间。", "\"{input}\" cannot be formatted as a {obj_type}."),
    "not_a_list": ("应为列表。", "Not a valid list."),
    "not_a_mapping_type": ("应为键值映射。", "Not a valid mapping type."),
    "length_between": ("长度须在 {min} 到 {max} 之间。", "Length must be between {min} and {max}."),
    "length_equal": ("长度须为 {equal}。", "Length must be {equal}."),
    "too_long": ("长度不能超过 {max}。", "Longer than maximum length {max}."),
    "too_short": ("长度不能少于 {min}。", "Shorter than minimum length {min}."),
    "range_between": ("须在 {min} 到 {max} 之间。",
                      "Must be greater than or equal to {min} and less than or equal to {max}."),
    "range_min": ("须大于或等于 {min}。", "Must be greater than or equal to {min}."),
    "range_max": ("须小于或等于 {max}。", "Must be less than or equal to {max}."),
    "one_of": ("须为以下之一：{choices}。", "Must be one of: {choices}."),
    "no_match": ("写法不符合要求。", "String does not match expected pattern."),
    # -- a schema message none of the above recognises (a test keeps every reachable one recognised) --
    "schema_other": ("写法有误。", "{message}"),
}

#: Codes whose English is the text marshmallow (or a validator's ``error=``) gives, recognised by ``from_schema``:
#: the schema's messages are plain strings by the time they reach the loader.
#: In the order tried: the more particular template first ("Must be … and …" before "Must be …"; the datetime
#: ones, whose fields would match "Not a valid list.", last).
SCHEMA_TEXTS = ("identifier", "channel", "missing", "unknown_field", "null", "invalid_value", "invalid_type",
                "invalid_nested_type", "not_a_string", "not_utf8", "not_a_number", "number_too_large",
                "not_an_integer", "special_number", "not_a_boolean", "not_a_date", "date_format", "not_a_list",
                "not_a_mapping_type", "length_between", "length_equal", "too_long", "too_short", "range_between",
                "range_min", "range_max", "one_of", "no_match", "datetime_format", "datetime_awareness",
                "not_a_datetime")


class Problem(str):
    """One problem: a ``str`` of its English words (so every caller that prints or compares text keeps doing so),
    with the ``code`` and ``params`` that word it in either language."""

    code: str
    params: Mapping[str, Any]

    def __new__(cls, code: str, **params: Any) -> Problem:
        if code not in WORDS:
            raise KeyError(f"no words for rulebook problem {code!r}: add them to points_rules/problems.py")
        self = super().__new__(cls, _fill(WORDS[code][1], params, "en"))
        self.code, self.params = code, params
        return self

    def words(self, language: str) -> str:
        """The problem in ``language`` ("zh…" for Chinese, anything else English)."""
        chinese = language.lower().startswith("zh")
        return _fill(WORDS[self.code][0 if chinese else 1], self.params, "zh" if chinese else "en")

    def __reduce__(self):
        return _rebuild, (self.code, dict(self.params))


def _fill(template: str, params: Mapping[str, Any], language: str) -> str:
    """``template`` with the parameters in ``language``: a Problem in its words, a list of names joined as that
    language joins them."""
    values = {}
    for name, value in params.items():
        if isinstance(value, Problem):
            value = value.words(language)
        elif isinstance(value, list | tuple):
            value = ("、" if language == "zh" else ", ").join(map(str, value))
        values[name] = value
    return template.format(**values)


def _rebuild(code: str, params: dict[str, Any]) -> Problem:
    return Problem(code, **params)


def _pattern(template: str) -> re.Pattern:
    """A regular expression that matches ``template`` formatted, capturing each field by name."""
    out = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        out.append(re.escape(literal))
        if name is not None:
            out.append(f"(?P<{name}>.+?)")
    return re.compile("".join(out) + r"\Z", re.DOTALL)


_SCHEMA_PATTERNS = [(code, _pattern(WORDS[code][1])) for code in SCHEMA_TEXTS]


def from_schema(message: Any) -> Problem:
    """A message of the schema (marshmallow's, or one of ours) as a Problem."""
    if isinstance(message, Problem):
        return message
    text = str(message)
    for code, pattern in _SCHEMA_PATTERNS:
        if found := pattern.match(text):
            return Problem(code, **found.groupdict())
    return Problem("schema_other", message=text)
