from pathlib import Path

REGISTRY_PATH = Path(__file__).resolve().parents[2] / "seeds" / "enterprise-factors-2026.1.yaml"
