"""Request JSON with limits: nesting depth and number length bounded, no NaN or Infinity.

Python's ``json`` recurses once per level (a body of 5,000 ``[`` is a RecursionError), converts integers of
any length (over 4,300 digits is a ValueError) and accepts ``NaN``; any of those reaching a view was a 500.
Here each is a ``json.JSONDecodeError``, which webargs answers ``400 malformed_json`` and ``request.get_json``
treats as any other bad body. The API's parser and the app's JSON provider both load through ``loads``.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

#: Deeper than any body of ours (a partner batch is four levels).
MAX_DEPTH = 32
#: Characters in one number: more than any 64-bit integer or double needs.
MAX_NUMBER_LENGTH = 100


def _number(convert):
    def parse(text: str):
        if len(text) > MAX_NUMBER_LENGTH:
            raise ValueError(f"a number longer than {MAX_NUMBER_LENGTH} characters")
        return convert(text)

    return parse


def _constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _too_deep(value: Any) -> bool:
    """Whether containers nest more than MAX_DEPTH levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads(text: str | bytes, **kwargs) -> Any:
    """``json.loads`` within the limits above; anything outside them is a ``json.JSONDecodeError``."""
    if isinstance(text, bytes):
        text = text.decode()  # a UnicodeDecodeError is what webargs and Flask already expect
    try:
        value = json.loads(text, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant,
                           **kwargs)
    except RecursionError:
        raise json.JSONDecodeError(f"nested more than {MAX_DEPTH} levels deep", text, 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise json.JSONDecodeError(str(error), text, 0) from None
    if isinstance(value, dict | list) and _too_deep(value):  # within Python's limit, beyond ours
        raise json.JSONDecodeError(f"nested more than {MAX_DEPTH} levels deep", text, 0)
    return value


class JSONProvider(DefaultJSONProvider):
    """Flask's provider, loading with the limits (``request.get_json`` anywhere in the app)."""

    def loads(self, s: str | bytes, **kwargs) -> Any:
        return loads(s, **kwargs)


class Parser(FlaskParser):
    """webargs' Flask parser, loading JSON bodies with the limits."""

    def _raw_load_json(self, req) -> Any:
        if not is_json_request(req):
            return core.missing
        return loads(req.get_data(cache=True))
