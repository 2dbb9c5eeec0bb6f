"""Subcommands of `omk-tui`: one module each, with `register(subparsers)`; heavy imports happen inside handlers."""
