"""No untranslated message in either language (issue #16): the locale files agree key for key, every key the
sources use exists in both, and the pages, drawn in both languages, show no message key and (in English) no
Chinese outside data marked `data-i18n-data`. The screenshot sweep (test_quality_sweep.py) runs the same
page check on every route in both languages at both sizes; here the language chosen in settings is checked.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.h5.conftest import logged_in_refresh_token
from tests.h5.quality import H5, RESIDENT_PHONE, STAFF_PHONE, build_city, settle, untranslated, walk

LOCALES = H5 / "src" / "locales"
SOURCES = H5 / "src"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
#: Latin words a Chinese UI writes as they are: names of systems and units. A zh-CN message made only of these,
#: numbers, punctuation and {placeholders} is not an English copy.
LATIN_IN_CHINESE = {"BRT", "QR", "App", "APP", "ID", "H5", "PV", "EV", "NEV", "SMS", "JSON", "PIPL", "USB", "Wi-Fi",
                    "CO2e", "CO₂e", "CO2", "CO₂", "kg", "g", "t", "km", "m", "kWh", "kW", "h", "min", "s", "MB", "KB",
                    "PNG", "JPEG", "WebP", "GPS", "IC", "ETC"}


def load_locale(path) -> dict:
    script = f"import({json.dumps(path.as_uri())}).then(m => console.log(JSON.stringify(m.default)))"
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def locales() -> dict[str, dict]:
    files = sorted(LOCALES.glob("*.js"))
    assert files, f"no locale files in {LOCALES}"
    return {path.stem: load_locale(path) for path in files}


def leaves(tree, prefix=""):
    """(dotted key, value) for every message; a value that is neither text nor a group is reported as is."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, tree


def shape(tree):
    return {k: shape(v) for k, v in tree.items()} if isinstance(tree, dict) else "message"


def lookup(messages: dict, key: str):
    node = messages
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def test_both_languages_have_the_same_keys_and_no_empty_message(locales):
    problems = []
    for area, module in locales.items():
        assert set(module) == {"zh-CN", "en"}, f"{area}.js exports {sorted(module)}, not zh-CN and en"
        zh, en = dict(leaves(module["zh-CN"])), dict(leaves(module["en"]))
        problems += [f"{area}.{k}: only in zh-CN" for k in zh.keys() - en.keys()]
        problems += [f"{area}.{k}: only in en" for k in en.keys() - zh.keys()]
        for language, flat in (("zh-CN", zh), ("en", en)):
            for key, value in flat.items():
                if not isinstance(value, str):
                    if value != {}:  # an area with no words yet is an empty group, not a message
                        problems.append(f"{area}.{key} ({language}): {value!r} is not text")
                elif not value.strip():
                    problems.append(f"{area}.{key} ({language}): empty")
        if shape(module["zh-CN"]) != shape(module["en"]) and not problems:
            problems.append(f"{area}: a key is a message in one language and a group in the other")
    assert not problems, "\n".join(problems)


def latin_words(text: str) -> list[str]:
    text = re.sub(r"\{[^}]*\}|@:[\w.]+", " ", text)  # placeholders and linked messages are not words
    return [w for w in re.findall(r"[A-Za-z][A-Za-z0-9₂'’-]*", text) if w not in LATIN_IN_CHINESE]


def test_english_has_no_chinese_and_chinese_is_not_english(locales):
    problems = []
    for area, module in locales.items():
        en = dict(leaves(module["en"]))
        for key, value in leaves(module["en"]):
            if isinstance(value, str) and CJK.search(value):
                problems.append(f"{area}.{key} (en) has Chinese: {value!r}")
        for key, value in leaves(module["zh-CN"]):
            if not isinstance(value, str):
                continue
            words = latin_words(value)
            if words and (value == en.get(key) or not CJK.search(value)):
                problems.append(f"{area}.{key} (zh-CN) is English: {value!r}")
    assert not problems, "\n".join(problems)


#: `$t('a.b')`, `t("a.b")`, `i18n.global.t('a.b')`, `te('a.b')`, and `keypath="a.b"` of <i18n-t>.
_KEY_USE = re.compile(r"(?:(?<![\w$.])\$?te?|\.t)\(\s*(?P<q>['\"`])(?P<key>[^'\"`]*?)(?P=q)"
                      r"|\bkeypath=\"(?P<keypath>[^\"]+)\"")


def used_keys():
    """(file, key) for every key literal in the sources; a template literal's static prefix ends in '.'."""
    for path in sorted(SOURCES.rglob("*")):
        if path.suffix not in {".vue", ".js"} or path.is_relative_to(LOCALES):
            continue
        for match in _KEY_USE.finditer(path.read_text(encoding="utf-8")):
            key = match["key"] if match["key"] is not None else match["keypath"]
            if "${" in key:
                key = key[:key.index("${")]
                if not key.endswith("."):
                    continue  # `${area}.title`: nothing static to check
            yield path.relative_to(H5).as_posix(), key


def test_every_key_the_sources_use_exists_in_both_languages(locales):
    messages = {language: {area: module[language] for area, module in locales.items()}
                for language in ("zh-CN", "en")}
    problems, checked = [], 0
    for file, key in used_keys():
        if not re.fullmatch(r"[a-zA-Z][\w-]*(\.[\w-]+)*\.?", key):
            continue  # not a message key (a `t('…')` of something else)
        checked += 1
        for language, tree in messages.items():
            found = lookup(tree, key.rstrip("."))
            wanted_group = key.endswith(".")
            if found is None or (wanted_group and not isinstance(found, dict)) or (
                    not wanted_group and not isinstance(found, str)):
                problems.append(f"{file}: {key!r} is {'missing' if found is None else 'not a message'} in {language}")
    assert checked, "no message key found in the sources: the pattern no longer matches how they call t()"
    assert not problems, "\n".join(problems)


def test_the_key_scanner_finds_the_ways_pages_name_keys():
    samples = ("{{ $t('mall.title') }} :label=\"t('mall.filter')\" i18n.global.t('common.retry') "
               "t(`common.errors.code.${code}`) <i18n-t keypath=\"home.tree\"> split('x') te('a.b')")
    found = [m["key"] or m["keypath"] for m in _KEY_USE.finditer(samples)]
    assert found == ["mall.title", "mall.filter", "common.retry", "common.errors.code.${code}", "home.tree", "a.b"]


# -- The language picked in settings wins over the device's, on every page -------------------------------------

def pick_english(page, site):
    """Settings' own switch, tapped as a resident would."""
    page.goto(f"{site}/h5/settings")
    settle(page)
    page.get_by_text("English", exact=True).first.tap()
    page.wait_for_function("document.documentElement.lang === 'en'")
    settle(page)


@pytest.mark.browser
def test_english_chosen_on_a_chinese_phone_shows_no_key_and_no_chinese(app, phone, site):
    urls = build_city(app)
    tokens = {"resident": logged_in_refresh_token(app, RESIDENT_PHONE),
              "merchant": logged_in_refresh_token(app, STAFF_PHONE, staff=True)}
    problems = []
    for route, page in walk(phone, site, tokens, urls, locale="zh-CN",
                            before=lambda page: pick_english(page, site)):
        problems += [f"{route.name}: {p}" for p in untranslated(page, english=True)]
    assert not problems, "untranslated text with English chosen in settings:\n" + "\n".join(problems)
