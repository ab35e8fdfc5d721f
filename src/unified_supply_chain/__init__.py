"""unified-supply-chain: CycloneDX ML-BOMs for repositories."""

__version__ = "0.1.0"
