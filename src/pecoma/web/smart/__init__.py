"""SMART App Launch 2.x (EHR launch): pecoma opened from the EHR with the patient's record.

``/smart/launch`` checks the EHR's FHIR server (``iss``) against the allow-list, reads its
``.well-known/smart-configuration`` and sends the browser to the EHR's authorization
server (authorization code with PKCE S256). ``/smart/callback`` exchanges the code for an
access token, reads the patient's record from the FHIR server, and shows the case form
filled in from it, with the facts the record did not give. See docs/smart.md.

==================  =================================================================
:mod:`.settings`    the ``smart`` settings of the web configuration
:mod:`.errors`      the one error of a launch, shown as a page
:mod:`.discovery`   the EHR's configuration document
:mod:`.oauth`       the authorization URL and the token exchange (Authlib)
:mod:`.record`      the FHIR reads, and what unread searches leave unknown
:mod:`.routes`      the two pages
==================  =================================================================

Launch state lives in the registry database (:mod:`pecoma.store.smart_launch`).
"""
