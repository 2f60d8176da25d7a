"""A small, safe formula language for methodologies, eligibility and plausibility rules.

    distance_km * er_bus_per_pkm if distance_km > 0 else er_bus_per_ride
    max(0, baseline_kwh - actual_kwh) * ef_grid_shandong
    kwh > rated_kw * hours * 1.1

Allowed: numbers, names (inputs and factors), ``+ - * / // %``, unary ``- +``, comparisons (chained too),
``and or not``, ``x if condition else y``, and the functions ``min max round floor``. Nothing else: no
attribute access, subscripts, calls of other names, lambdas, comprehensions, strings or ``**``.

The text is parsed with ``ast``, every node is checked against the whitelist (errors name the line
and column), names are resolved against the names the caller allows, and numeric literals are
replaced by Decimal constants. Only then is the checked tree compiled, once, into a code object.
User text is never evaluated as such: what runs is the checked tree. Arithmetic is Decimal.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from functools import partial
from types import CodeType

from points_rules.problems import Problem

MAX_LENGTH = 2_000
MAX_NODES = 300


def _floor(value) -> Decimal:
    return Decimal(value).to_integral_value(rounding=ROUND_FLOOR)


def _round(value, digits=0) -> Decimal:
    """Half up (四舍五入), as people expect; ``round(x, 2)`` keeps two decimals."""
    return Decimal(value).quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)


FUNCTIONS = {"min": min, "max": max, "round": _round, "floor": _floor}
ARITY = {"min": (2, 16), "max": (2, 16), "round": (1, 2), "floor": (1, 1)}

_BIN_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_UNARY_OPS = (ast.USub, ast.UAdd, ast.Not)
_COMPARE_OPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_PLAIN_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.IfExp, ast.Load,
                ast.And, ast.Or, *_BIN_OPS, *_UNARY_OPS, *_COMPARE_OPS)

#: What to say about the things people try.
_REFUSALS = {
    ast.Attribute: "formula_attribute",
    ast.Subscript: "formula_subscript",
    ast.Lambda: "formula_lambda",
    ast.ListComp: "formula_comprehension",
    ast.SetComp: "formula_comprehension",
    ast.DictComp: "formula_comprehension",
    ast.GeneratorExp: "formula_comprehension",
    ast.NamedExpr: "formula_assignment",
    ast.Pow: "formula_power",
    ast.JoinedStr: "formula_string",
    ast.Await: "formula_await",
}


class FormulaError(ValueError):
    """A formula that cannot be accepted; says where (1-based line and column) and why: ``problem``, a code of
    ``points_rules.problems`` with its parameters (``reason`` is its English)."""

    def __init__(self, code: str, line: int = 1, column: int = 1, **params):
        self.problem = Problem(code, **params)
        super().__init__(f"line {line}, column {column}: {self.problem}")
        self.reason, self.line, self.column = str(self.problem), line, column


@dataclass(frozen=True)
class Formula:
    source: str
    names: frozenset[str]  # the inputs and factors it reads
    _code: CodeType = field(repr=False, compare=False)
    _constants: Mapping[str, Decimal] = field(repr=False, compare=False)

    #: ``run(values)``: the compiled tree applied to ``values``, with no Python frame of ours around it.
    run: Callable[[Mapping[str, object]], object] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # eval of the checked, compiled tree (see the module doc), never of the author's text
        object.__setattr__(self, "run", partial(eval, self._code, self._constants))

    def __call__(self, values: Mapping[str, object]):
        """Evaluate with ``values`` (Decimal or bool for every name in ``names``)."""
        return self.run(values)


def _where(node: ast.AST) -> tuple[int, int]:
    """1-based line and column in the author's text (the parse added one line above it)."""
    return max(1, getattr(node, "lineno", 2) - 1), getattr(node, "col_offset", 0) + 1


class _Checker(ast.NodeTransformer):
    def __init__(self, allowed_names: frozenset[str] | None):
        self.allowed = allowed_names
        self.names: set[str] = set()
        self.constants: dict[str, Decimal] = {}

    def generic_visit(self, node):
        if isinstance(node, _PLAIN_NODES):
            return super().generic_visit(node)
        for kind, code in _REFUSALS.items():
            if isinstance(node, kind):
                raise FormulaError(code, *_where(node))
        raise FormulaError("formula_construct", *_where(node), construct=type(node).__name__)

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.Pow):
            raise FormulaError("formula_power", *_where(node))
        return self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, bool):
            return node
        if isinstance(node.value, int | float):
            name = f"_k{len(self.constants)}"
            self.constants[name] = Decimal(str(node.value))  # 0.1 means 0.1, not its binary neighbour
            return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)
        raise FormulaError("formula_constant", *_where(node), kind=type(node.value).__name__)

    def visit_Name(self, node):
        if node.id in FUNCTIONS:
            raise FormulaError("formula_uncalled_function", *_where(node), name=node.id)
        if node.id.startswith("_"):
            raise FormulaError("formula_underscore", *_where(node), name=node.id)
        if self.allowed is not None and node.id not in self.allowed:
            raise FormulaError("formula_unknown_name", *_where(node), name=node.id)
        self.names.add(node.id)
        return node

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name):
            self.visit(node.func)  # an attribute, a lambda…: refused with its own message
            raise FormulaError("formula_call_target", *_where(node))
        if node.func.id not in FUNCTIONS:
            raise FormulaError("formula_call_unknown", *_where(node), name=node.func.id,
                               functions=tuple(FUNCTIONS))
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise FormulaError("formula_call_arguments", *_where(node))
        low, high = ARITY[node.func.id]
        if not low <= len(node.args) <= high:
            raise FormulaError("formula_arity", *_where(node), name=node.func.id, low=low, high=high)
        node.args = [self.visit(arg) for arg in node.args]
        return node


def compile_formula(source: str, allowed_names: Iterable[str] | None = None) -> Formula:
    """Check and compile ``source``; raise FormulaError naming the line and column of the problem."""
    if not isinstance(source, str) or not source.strip():
        raise FormulaError("formula_empty")
    if len(source) > MAX_LENGTH:
        raise FormulaError("formula_too_long", limit=MAX_LENGTH)
    # Parenthesised on lines of their own, so a formula may span lines (YAML block text) while
    # every line and column still points into the author's text: one line down, same columns.
    try:
        tree = ast.parse(f"(\n{source.strip()}\n)", mode="eval")
    except SyntaxError as exc:
        raise FormulaError("formula_syntax", max(1, (exc.lineno or 2) - 1), exc.offset or 1,
                           message=exc.msg) from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise FormulaError("formula_too_many_parts", limit=MAX_NODES)
    checker = _Checker(None if allowed_names is None else frozenset(allowed_names))
    checked = ast.fix_missing_locations(checker.visit(tree))
    code = compile(checked, "<formula>", "eval")
    constants = {"__builtins__": {}, **FUNCTIONS, **checker.constants}
    return Formula(source.strip(), frozenset(checker.names), code, constants)
