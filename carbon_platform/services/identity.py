"""Validation of identifiers people type: mainland mobile numbers and 统一社会信用代码 (GB 32100-2015)."""

from __future__ import annotations

import re

from carbon_platform.errors import InvalidInput

_MOBILE = re.compile(r"1[3-9]\d{9}")

#: GB 32100-2015 alphabet: digits and capitals without I, O, S, V, Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise_phone(raw: str) -> str:
    """Return ``+86`` and the 11 digits of a mainland mobile number, or raise InvalidInput.

    Accepts the forms people type: ``13800138000``, ``+86 138 0013 8000``, ``86-138-0013-8000``.
    """
    if not isinstance(raw, str):
        raise InvalidInput("phone must be a string", field="phone")
    digits = re.sub(r"[\s\-()]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise InvalidInput("not a mainland mobile number (11 digits starting with 13–19)", field="phone")
    return "+86" + digits


def mask_phone(phone: str) -> str:
    """``+8613800138000`` → ``138****8000``: what screens and logs show."""
    local = phone.removeprefix("+86")
    return f"{local[:3]}****{local[-4:]}"


def uscc_check_character(first17: str) -> str:
    """The 18th character of a 统一社会信用代码 computed from the first 17 (GB 32100-2015, 4.2)."""
    total = sum(USCC_ALPHABET.index(ch) * weight for ch, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(raw: str) -> str:
    """Upper-case and check a 统一社会信用代码; raise InvalidInput naming what is wrong."""
    if not isinstance(raw, str):
        raise InvalidInput("统一社会信用代码 must be a string", field="uscc")
    code = raw.strip().upper()
    if len(code) != 18:
        raise InvalidInput("统一社会信用代码 has 18 characters", field="uscc")
    bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
    if bad:
        raise InvalidInput(f"统一社会信用代码 cannot contain {''.join(bad)}", field="uscc")
    if not code[2:8].isdigit():
        raise InvalidInput("characters 3–8 of a 统一社会信用代码 are the division code (digits)", field="uscc")
    if uscc_check_character(code[:17]) != code[17]:
        raise InvalidInput("统一社会信用代码 check character does not match", field="uscc")
    return code
