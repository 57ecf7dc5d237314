"""The web application: clinician pages and the JSON API (``create_app``, ``WebConfig``)."""

from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

__all__ = ["WebConfig", "create_app"]
