"""Stage 3: streaming, parallel, cached digests."""
