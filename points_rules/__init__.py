"""The rules engine: facts in, certified grams CO2e and points out, with a full receipt.

Pure Python: it never imports flask or sqlalchemy (a test guards this). Filled in by the rules issue.
"""

__all__: list[str] = []
