"""Marsad: a cybercrime intelligence fusion platform."""

__version__ = "0.1.0"
