"""The CDS Hooks 2.0.1 service (see docs/cds-hooks.md), one idea per module:

============================  ==========================================================
:mod:`.settings`              the ``cds`` settings of the web configuration
:mod:`.discovery`             the services offered and their prefetch templates
:mod:`.requests`              reading and checking a hook request
:mod:`.record`                the patient's record: prefetch, then the allowed FHIR server
:mod:`.screen`                a quick, conservative look for PEComa
:mod:`.allergies`             whether a drug may be proposed, given the allergy list
:mod:`.cards`                 how cards are written; the answer that collects them
:mod:`.patient_view`          the ``patient-view`` service
:mod:`.order_select`          the ``order-select`` service
:mod:`.feedback`              feedback on cards, checked and stored
:mod:`.jwt`                   verification of the EHR's JWT
:mod:`.service`               the service's state inside one application
:mod:`.router`                the routes
============================  ==========================================================

The service keeps nothing in the process: cards, reports, feedback and the JWT replay
cache are in the registry database (:mod:`pecoma.store.cds`).
"""
