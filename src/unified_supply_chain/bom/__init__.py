"""Building, validating and writing CycloneDX documents."""
