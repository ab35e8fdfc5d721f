"""Stage 1: the file set (git's view, or a walk) and each file's format from its bytes."""
