"""Every console string written in Chinese has its English translation."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None}


def test_every_console_string_is_translated_to_english():
    found = {message for _file, _line, message, _comments, _context in
             extract_from_dir(ROOT / "admin", METHODS, keywords=KEYWORDS)}
    with open(ROOT / "admin/translations/en/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po, locale="en")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert found, "the extractor found no console strings"
    assert sorted(found - translated) == []
