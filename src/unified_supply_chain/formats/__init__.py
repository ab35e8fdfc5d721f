"""One module per file format, registered in REGISTRY; readers describe files, never load them."""
