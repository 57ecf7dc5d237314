"""The engine: pure functions from a Case and an evaluation date to an Assessment."""

from pecoma.engine.assess import assess
from pecoma.engine.model import Assessment, to_jsonable

__all__ = ["Assessment", "assess", "to_jsonable"]
