"""The one error of a SMART launch: what the clinician sees, with its HTTP status."""

from __future__ import annotations

__all__ = ["LaunchError"]


class LaunchError(Exception):
    """A launch cannot go on: ``title`` and ``detail`` are shown as they are (no secret).

    ``points`` (what was found) and ``actions`` (what the clinician can do) are shown as
    lists, in plain words; ``technical`` (the reader's own wording, for the integrator) in
    a collapsed section; ``logged`` are the kinds of problem the log may name (never a
    value, an id or the patient's)."""

    def __init__(self, status: int, title: str, detail: str, *,
                 points: tuple[str, ...] = (), actions: tuple[str, ...] = (),
                 technical: tuple[str, ...] = (), logged: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.points = points
        self.actions = actions
        self.technical = technical
        self.logged = logged
