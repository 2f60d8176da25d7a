"""Phone numbers and 统一社会信用代码 (GB 32100-2015)."""

import pytest

from carbon_platform.errors import InvalidInput
from carbon_platform.services.identity import mask_phone, normalise_phone, normalise_uscc, uscc_check_character


@pytest.mark.parametrize("raw", ["13800138000", "+86 138 0013 8000", "86-138-0013-8000", "008613800138000",
                                 " 138 0013 8000 "])
def test_mainland_mobiles_in_the_forms_people_type(raw):
    assert normalise_phone(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "+1 415 555 0100", "0538-8226000",
                                 "1380013800a", "", None, 13800138000])
def test_other_numbers_are_refused(raw):
    with pytest.raises(InvalidInput):
        normalise_phone(raw)


def test_masked_phone():
    assert mask_phone("+8613800138000") == "138****8000"


def test_uscc_check_character_by_hand():
    # Body 91370900MA3C5X7Q1; alphabet values (GB 32100-2015): M=21, A=10, C=12, X=29, Q=24.
    # Σ value × weight = 9·1 + 1·3 + 3·9 + 7·27 + 0·19 + 9·26 + 0·16 + 0·17 + 21·20 + 10·29 + 3·25 + 12·13
    #                  + 5·8 + 29·24 + 7·10 + 24·30 + 1·28 = 2957; 2957 mod 31 = 12; 31 − 12 = 19 → "K".
    assert uscc_check_character("91370900MA3C5X7Q1") == "K"
    assert normalise_uscc("91370900ma3c5x7q1k") == "91370900MA3C5X7Q1K"


def test_uscc_where_the_remainder_is_zero_checks_with_0():
    # 31 − 0 = 31, which the standard maps to "0".
    body = next(b for b in (f"9137090000000{n:04d}" for n in range(10_000)) if uscc_check_character(b) == "0")
    total = sum("0123456789ABCDEFGHJKLMNPQRTUWXY".index(c) * w
                for c, w in zip(body, (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), strict=True))
    assert total % 31 == 0


@pytest.mark.parametrize("raw, problem", [
    ("91370900MA3C5X7Q1F", "check character"),
    ("91370900MA3C5X7Q1", "18 characters"),
    ("91370900MA3C5X7O1K", "cannot contain O"),
    ("913709A0MA3C5X7Q1K", "division code"),
])
def test_bad_uscc_says_what_is_wrong(raw, problem):
    with pytest.raises(InvalidInput, match=problem):
        normalise_uscc(raw)
