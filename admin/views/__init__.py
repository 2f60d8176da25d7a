"""The console's pages, one module per area; each adds its routes to ``admin.blueprint.blueprint``."""
