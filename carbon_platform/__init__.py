"""碳惠泰安 platform core: app factory, models, services, CLI and migrations."""

from carbon_platform.app import create_app

__all__ = ["create_app"]
