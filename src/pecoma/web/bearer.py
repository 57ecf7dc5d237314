"""The one rule for an OAuth 2.0 bearer token pecoma sends on: RFC 6750's ``b64token``.

A token handed to pecoma by an EHR (a CDS Hooks call's ``fhirAuthorization``, a SMART
token endpoint's answer) goes into the ``Authorization`` header of requests to the FHIR
server, which holds ASCII only. RFC 6750 section 2.1 spells it: ASCII letters, digits and
``-._~+/``, then any ``=``. Anything else is refused before it is used (a non-ASCII
token cannot be written in a header; a line break would start another header).
"""

from __future__ import annotations

import re
from typing import TypeGuard

__all__ = ["BEARER_RULE", "is_bearer_token"]

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")

#: What a bearer token must be, in words (for a refusal naming the field).
BEARER_RULE = ("must be a bearer token: a non-empty string of ASCII letters, digits and "
               "-._~+/ (then any '=': RFC 6750 b64token)")


def is_bearer_token(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a bearer token (a ``b64token`` string)."""
    return isinstance(value, str) and _B64TOKEN.fullmatch(value) is not None
