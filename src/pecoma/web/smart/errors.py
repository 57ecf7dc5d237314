"""The one error of a SMART launch: what the clinician sees, with its HTTP status."""

from __future__ import annotations

__all__ = ["LaunchError"]


class LaunchError(Exception):
    """A launch cannot go on: ``title`` and ``detail`` are shown as they are (no secret)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
