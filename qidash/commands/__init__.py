"""One module per group of sub-commands; each registers itself with qidash.cli."""
