"""Seed data files (districts, demo data, and later the rulebook and factors), each with its sources.

Data only: the loader lives in ``carbon_platform.seeding``.
"""
