"""Every console string written in Chinese has its English translation, and no translation breaks the
page it is shown on. The public page (``/``, ``carbon_platform/public.py`` and its templates) shares the
console's catalogue, so its strings are held to the same check."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
PUBLIC_METHODS = [("public.py", "python"), ("templates/public/**.html", "jinja2")]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None}


def console_strings() -> set[str]:
    """The console's strings and the public page's (one catalogue, ``admin/translations``)."""
    return {message for folder, methods in ((ROOT / "admin", METHODS), (ROOT / "carbon_platform", PUBLIC_METHODS))
            for _file, _line, message, _comments, _context in extract_from_dir(folder, methods, keywords=KEYWORDS)}


def test_the_public_page_strings_are_part_of_the_check():
    assert "打开碳惠泰安 App" in console_strings()


def english_catalog():
    with open(ROOT / "admin/translations/en/LC_MESSAGES/messages.po", "rb") as po:
        return read_po(po, locale="en")


def test_every_console_string_is_translated_to_english():
    found, catalog = console_strings(), english_catalog()
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert found, "the extractor found no console strings"
    assert sorted(found - translated) == []


def msgids(po_text: str) -> list[str]:
    """Every msgid of a catalogue's text as written, multi-line ones joined, with its context if it has one
    (``read_po`` keeps only the last of a duplicate, silently)."""
    ids, current, context = [], None, ""
    for line in po_text.splitlines():
        if line.startswith("msgctxt "):
            context = line.removeprefix("msgctxt ").strip()[1:-1] + "\x04"  # gettext's key: context, EOT, id
        elif line.startswith("msgid "):
            current = [line.removeprefix("msgid ")]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            ids.append(context + "".join(part.strip()[1:-1] for part in current))
            current, context = None, ""
    return ids


def test_no_string_is_translated_twice():
    # Two entries for one string: the later wins without a word, and the earlier translation is lost.
    ids = msgids((ROOT / "admin/translations/en/LC_MESSAGES/messages.po").read_text("utf-8"))
    assert len(ids) > 100
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert msgids('msgid "a"\nmsgstr "A"\n\nmsgid ""\n"b"\n"c"\nmsgstr "BC"\n\nmsgid "a"\nmsgstr "A2"\n') == \
        ["a", "bc", "a"]
    # The same words in another context (pgettext) are another string.
    assert msgids('msgid "a"\nmsgstr "A"\n\nmsgctxt "header"\nmsgid "a"\nmsgstr "A:"\n') == ["a", "header\x04a"]


def formatting_problem(source: str, text: str) -> str | None:
    """Why ``text`` (a string or its translation) would break where ``source`` is used, or None.

    A template's ``_()`` always applies ``%`` formatting (Jinja's new-style gettext), with or without
    variables, while Python's ``gettext`` formats only when given variables. So a string without variables
    may hold no ``%`` at all (``%%`` would show doubled from Python), and one with variables must format with
    exactly the variables its source names.
    """
    names = set(re.findall(r"%\((\w+)\)", source))
    if not names:
        return "a literal % in a string without variables" if "%" in text else None
    try:
        text % {name: 1 for name in names}
    except (ValueError, KeyError, TypeError) as exc:
        return f"does not format: {exc!r}"
    if set(re.findall(r"%\((\w+)\)", text)) != names:
        return "names other variables than its source"
    return None


def test_no_string_or_translation_breaks_the_formatting_of_its_page():
    catalog = english_catalog()
    problems = [(message, formatting_problem(message, message)) for message in console_strings()]
    problems += [(m.string, formatting_problem(m.id, m.string)) for m in catalog if m.id and m.string]
    assert [(text, why) for text, why in problems if why] == []
