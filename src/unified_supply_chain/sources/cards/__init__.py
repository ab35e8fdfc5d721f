"""Model cards, dataset cards and descriptors."""
