"""Subcommand registration (placeholder until this layer's commands land)."""


def register(subparsers) -> None:
    """Add this layer's subcommands to the ``twolayer`` parser (none yet)."""
