"""SMART App Launch 2.x (EHR launch): pecoma opened from the EHR with the patient's record.

``/smart/launch`` checks the EHR's FHIR server (``iss``) against the allow-list, reads its
``.well-known/smart-configuration`` and sends the browser to the EHR's authorization
server (authorization code with PKCE S256). ``/smart/callback`` exchanges the code for an
access token, reads the patient's record from the FHIR server, and shows the case form
filled in from it, with the facts the record did not give. See docs/smart.md.

Modules: :mod:`.discovery` (the configuration document), :mod:`.oauth` (authorization
URL and token exchange), :mod:`.record` (the FHIR reads), :mod:`.routes` (the pages).
"""

from __future__ import annotations

from pecoma.web.smart.routes import router

__all__ = ["router"]
