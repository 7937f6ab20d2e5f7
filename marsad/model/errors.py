"""Errors of the pure core; the shell turns them into one-sentence messages."""

from __future__ import annotations


class MarsadError(Exception):
    """Base of every error we expect and report to the user in one sentence."""


class InvalidObservable(MarsadError, ValueError):
    """Raw text that is not a valid value of the given observable type."""

    def __init__(self, type_name: str, raw: str, reason: str) -> None:
        self.type_name = type_name
        self.raw = raw
        self.reason = reason
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        super().__init__(f"invalid {type_name} {shown!r}: {reason}")


class FormatError(MarsadError):
    """A submission that no format can read at all (not a per-record problem)."""
