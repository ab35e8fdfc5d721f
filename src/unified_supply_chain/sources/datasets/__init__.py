"""Dataset descriptors of ML frameworks: one module per convention, each returning typed records."""
