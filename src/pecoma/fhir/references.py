"""What a Reference names: the one rule by which pecoma finds, among the resources it
holds, the resource a literal reference points to.

A reference written in any of the ways FHIR allows names the same resource:

* the ``fullUrl`` of an entry of the record, a ``urn:uuid:…`` included (a transaction
  Bundle's references), as written or without its version;
* ``Type/id``, relative: the resource of that type and id the record holds;
* ``<base>/Type/id``, absolute, when no entry holds it under that URL: the ``Type/id``
  held, but only when ``<base>`` is one of the record's servers (the server it was read
  from, the server of its Patient's ``fullUrl``; compared by :func:`server_key`). On
  another server, or with no server to compare it with, the same id may be another
  resource: it resolves to nothing;
* any of these with a version (``…/_history/2``): the resource the record holds.

Anything else (a ``urn:uuid`` no entry carries, a malformed reference, a local ``#id``,
which is looked up among a resource's ``contained`` by whoever holds it) resolves to
nothing, and the caller says what it could not read. Every reference the FHIR reader and
the CDS services follow (a ``medicationReference``, a ``focus``, a ``reasonReference``,
a variant a DiagnosticImplication is ``derivedFrom``, a tumour's related Condition, a
BodyStructure) is looked up by :func:`resolver_for`; whose a ``subject`` is
(:mod:`pecoma.fhir.subjects`) is read with the same parts (:func:`parse_reference`,
:func:`unversioned`, :func:`server_key`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

__all__ = ["FHIR_ID", "Resolver", "no_resolver", "parse_reference", "resolver_for",
           "server_key", "type_named", "unversioned"]

#: Looks a reference up among the resources the caller holds; ``None`` if not there.
Resolver = Callable[[str], Mapping[str, Any] | None]

#: A FHIR resource type, and a FHIR id (1-64 of ``A-Za-z0-9-.``).
_TYPE: Final = re.compile(r"[A-Z][A-Za-z]{1,63}")
FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_BASE: Final = re.compile(r"(?i:https?)://[^/?#\s]+(/[^/?#\s]+)*")


def unversioned(reference: str) -> str:
    """A reference without its version (``Patient/p1/_history/3`` -> ``Patient/p1``): the
    record read is the one the bundle holds."""
    cut = reference.find("/_history/")
    return reference[:cut] if cut > 0 else reference


#: The port a scheme names when it names none (RFC 3986 section 6.2.3).
_DEFAULT_PORTS: Final = {"http": "80", "https": "443"}


def server_key(base: str) -> str:
    """A server base compared as FHIR compares them, by RFC 3986's scheme-based
    normalisation (section 6.2.3): scheme and host in any case, the scheme's default port
    written or not (``http://example.org:80/fhir`` is ``http://example.org/fhir``; 443 for
    https), an empty port as none, no trailing ``/``. Any other port, ``080`` too, is
    another server (the safer reading: the reference names nothing). The path keeps its
    case."""
    scheme, _, rest = base.rstrip("/").partition("://")
    scheme = scheme.lower()
    authority, _, path = rest.partition("/")
    authority = authority.lower()
    host, colon, port = authority.rpartition(":")
    if colon and "]" not in port and port in ("", _DEFAULT_PORTS.get(scheme)):
        authority = host
    return f"{scheme}://{authority}" + (f"/{path}" if path else "")


def parse_reference(reference: str) -> tuple[str, str, str] | None:
    """``(base, type, id)`` of a literal reference ``[base/]Type/id[/_history/v]`` (base
    ``""`` when relative, without a trailing ``/``), or ``None`` when it is not one
    (``Patient/x/Patient/p1``, ``Patient/p1/``, ``urn:uuid:…``, ``#p1``)."""
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history" and FHIR_ID.fullmatch(parts[-1]):
        parts = parts[:-2]
    if len(parts) < 2:
        return None
    kind, rid = parts[-2], parts[-1]
    if not (_TYPE.fullmatch(kind) and FHIR_ID.fullmatch(rid)):
        return None
    base = "/".join(parts[:-2])
    if base and not _BASE.fullmatch(base):
        return None
    return base, kind, rid


def no_resolver(_reference: str) -> Mapping[str, Any] | None:
    """A resolver that holds nothing (only contained resources resolve)."""
    return None


def _index(resources: Iterable[Mapping[str, Any]],
           full_urls: Mapping[str, Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = dict(full_urls or {})
    for res in resources:
        kind, rid = res.get("resourceType"), res.get("id")
        if isinstance(kind, str) and isinstance(rid, str):
            index.setdefault(f"{kind}/{rid}", res)
    return index


def resolver_for(resources: Iterable[Mapping[str, Any]],
                 full_urls: Mapping[str, Mapping[str, Any]] | None = None,
                 servers: Iterable[str] = ()) -> Resolver:
    """A resolver over ``resources`` by ``Type/id`` and by ``fullUrl`` (``full_urls``),
    by the rule of this module: an absolute reference that no entry holds under that URL
    resolves to the ``Type/id`` held only when its server is one of ``servers`` (the
    record's: the server it was read from, the server of its Patient's fullUrl)."""
    items = list(resources)
    allowed = frozenset(server_key(s) for s in servers)
    held: list[dict[str, Mapping[str, Any]]] = []  # built on the first look-up

    def resolve(reference: str) -> Mapping[str, Any] | None:
        if not held:
            held.append(_index(items, full_urls))
        index = held[0]
        found = index.get(reference)
        if found is None:
            found = index.get(unversioned(reference))
        if found is None and allowed:
            parsed = parse_reference(reference)
            if parsed is not None and parsed[0] and server_key(parsed[0]) in allowed:
                found = index.get(f"{parsed[1]}/{parsed[2]}")
        return found
    return resolve


def type_named(reference: str, resolve: Resolver) -> str | None:
    """The resource type a reference names: that of the resource it resolves to
    (:func:`resolver_for`), else the type written in it (``[base/]Type/id``); ``None``
    when neither tells (a ``urn:uuid`` no entry carries, a local ``#id``, a malformed
    reference)."""
    found = resolve(reference)
    if found is not None:
        kind = found.get("resourceType")
        return kind if isinstance(kind, str) else None
    parsed = parse_reference(reference)
    return parsed[1] if parsed is not None else None
