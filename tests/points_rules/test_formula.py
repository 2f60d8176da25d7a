"""The safe formula language."""

from decimal import Decimal as D

import pytest

from points_rules import FormulaError, compile_formula


def value(source, **names):
    return compile_formula(source, names)(names)


def test_arithmetic_is_exact_decimal():
    assert value("0.1 + 0.2") == D("0.3")
    assert value("a * (b - 1) / 4", a=D(10), b=D(3)) == D(5)
    assert value("7 // 2 + 7 % 2") == D(4)


def test_conditionals_comparisons_and_logic():
    assert value("a if a > 0 else b", a=D(0), b=D(80)) == 80
    assert value("0 < a <= 10 and not b", a=D(5), b=False) is True
    assert value("a > 1 or b > 1", a=D(0), b=D(2)) is True


def test_the_four_functions():
    assert value("min(a, 20000) / 1000", a=D(25000)) == 20
    assert value("max(0, a - b)", a=D(3), b=D(5)) == 0
    assert value("round(2.5)") == 3 and value("round(2.45, 1)") == D("2.5")  # half up, as people expect
    assert value("floor(2.99)") == 2 and value("floor(-0.5)") == -1


def test_names_used_are_reported():
    assert compile_formula("a * ef + b if c else 0").names == {"a", "ef", "b", "c"}


@pytest.mark.parametrize("source, fragment", [
    ("__import__('os')", "calling '__import__'"),
    ("a.__class__", "attribute access"),
    ("a[0]", "subscripts"),
    ("lambda: 0", "lambda"),
    ("{x: 1 for x in a}", "comprehensions"),
    ("(x := 1)", "assignment"),
    ("'text'", "str constants"),
    ("f'{a}'", "strings"),
    ("a ** 2", "'**'"),
    ("min(a=1, b=2)", "only plain positional arguments"),
    ("floor(1, 2)", "floor() takes 1 to 1 arguments"),
    ("_k0 + 1", "names may not start with '_'"),
    ("max", "'max' is a function"),
    ("a +", "syntax error"),
    ("", "empty formula"),
    ("1 + " * 700 + "1", "longer than"),
])
def test_everything_else_is_refused(source, fragment):
    with pytest.raises(FormulaError) as caught:
        compile_formula(source, {"a"})
    assert fragment in str(caught.value)


def test_errors_name_the_line_and_column():
    with pytest.raises(FormulaError) as caught:
        compile_formula("a * 2 +\n  b.c", {"a", "b"})
    assert (caught.value.line, caught.value.column) == (2, 3)


def test_unknown_names_are_refused_when_the_names_are_known():
    with pytest.raises(FormulaError, match="unknown name 'ef_missing'"):
        compile_formula("km * ef_missing", {"km"})
    assert compile_formula("km * ef_missing").names == {"km", "ef_missing"}  # no list given: any name
