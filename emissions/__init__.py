"""Enterprise emissions per GB/T 32150-2015: activity data and a factor registry in, integer kg CO2 and a receipt out.

Pure Python (standard library and PyYAML), like ``points_rules``: it imports neither flask nor sqlalchemy, so the
method can be read, tested and re-run without the platform. See docs/enterprise.md.
"""

from emissions.calculate import Activity, Emissions, compute
from emissions.registry import Registry, RegistryError, load_registry, parse_registry

__all__ = ["Activity", "Emissions", "Registry", "RegistryError", "compute", "load_registry", "parse_registry"]
