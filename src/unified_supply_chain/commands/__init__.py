"""Sub-commands of `usc`: each module has `configure(parser)` and `run(args) -> int`."""
