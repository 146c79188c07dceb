"""One module per group of sub-commands; each adds its own with ``add_commands`` (see qidash.cli)."""
