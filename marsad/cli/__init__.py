"""The `marsad` command line."""

from marsad.cli.app import main

__all__ = ["main"]
