"""One header reader per file format: each reads metadata only, never the weights."""
