"""A quick, conservative R4B check: "certainly valid", or "ask the full validator".

Validating a resource with ``fhir.resources`` builds a pydantic model for every element
(about 0.2 ms for a small Observation), which dominates reading a CDS Hooks prefetch.
Most resources an EHR sends are plainly valid: only known elements, JSON types as FHIR
says, no nulls, no ``_element`` extensions. :func:`plainly_valid` walks such a resource
against the same ``fhir.resources`` model definitions (element names, cardinality,
required elements, one value per choice ``[x]``) and checks each primitive value with
the library's own primitive type (``Code``, ``DateTime``, ``Id``, ...), without building
models.

It never decides that a resource is invalid: anything it does not plainly recognise
(an unknown element, a null, an empty object or list, a ``contained`` resource, a
primitive extension, a value that fails its type) answers ``False``, and the caller then
validates the resource with ``fhir.resources`` as before, which gives the verdict and the
message. So the outcome of reading a record is the same with or without this check; only
the time differs. The tables it builds are per resource type and hold no patient data.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

__all__ = ["plainly_valid"]


@dataclass(frozen=True, slots=True)
class _Element:
    many: bool
    model: Any  # a complex type's fhir.resources model class; None for a primitive
    primitive: Callable[[Any], Any] | None  # the primitive type's own validation
    choice: str | None  # the [x] group, e.g. "value"
    key: int  # the primitive type's key among a record's verdicts (0 for a complex type)


@dataclass(frozen=True, slots=True)
class _Shape:
    resource_type: str | None  # set for resources (the 'resourceType' they must carry)
    elements: dict[str, _Element]
    required: frozenset[str]
    choices: dict[str, bool]  # [x] group -> whether one value is required
    needed_choices: tuple[str, ...]  # the [x] groups that must have a value


class _Unsupported(Exception):
    """An element type this check does not handle: the resource goes to the validator."""


def _strip_optional(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise _Unsupported(str(tp))
        return args[0]
    return tp


@cache
def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


def _element(annotation: Any, extra: Mapping[str, Any]) -> _Element:
    from fhir_core.types import FhirBase, FhirElementOrResourceBase

    tp = _strip_optional(annotation)
    many = typing.get_origin(tp) in (list, typing.List)  # noqa: UP006
    if many:
        (tp,) = typing.get_args(tp)
        tp = _strip_optional(tp)  # a null item is refused below all the same
    choice = extra.get("one_of_many")
    choice = choice if isinstance(choice, str) else None
    if isinstance(tp, type) and issubclass(tp, FhirBase):
        if issubclass(tp, FhirElementOrResourceBase):
            raise _Unsupported(tp.__name__)  # 'contained' resources and the like
        return _Element(many, tp.get_model_klass(), None, choice, 0)
    if typing.get_origin(tp) is typing.Annotated or tp in (bool, str):
        adapter = _adapter(tp)  # one per primitive type, kept by the cache: its id is the key
        return _Element(many, None, adapter.validator.validate_python, choice, id(adapter))
    raise _Unsupported(str(tp))


@cache
def _shape(model: Any) -> _Shape:
    """The elements of a ``fhir.resources`` model class that this check can judge (an
    element of another kind is left out, so a resource using it is never accepted)."""
    elements: dict[str, _Element] = {}
    required: set[str] = set()
    choices: dict[str, bool] = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if not extra.get("element_property"):
            continue  # primitive extensions ('_status') and fhir_comments: not accepted
        try:
            element = _element(info.annotation, extra)
        except _Unsupported:
            continue  # never accepted: a resource using it goes to the validator
        elements[alias] = element
        if info.is_required() or extra.get("element_required"):
            required.add(alias)
        if element.choice is not None:
            choices[element.choice] = choices.get(element.choice, False) or bool(
                extra.get("one_of_many_required"))
    resource_type = model.get_resource_type() if model.has_resource_base() else None
    return _Shape(resource_type, elements, frozenset(required), choices,
                  tuple(group for group, needed in choices.items() if needed))


def _primitive(validate: Callable[[Any], Any], value: Any) -> bool:
    """Whether the primitive type's own validation accepts ``value`` (a JSON value)."""
    if value is None or isinstance(value, dict | list):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    try:
        validate(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def _plain(model: Any, data: Any, depth: int, seen: dict[tuple[int, str], bool]) -> bool:
    if not isinstance(data, dict) or not data or depth > 32:
        return False
    shape = _shape(model)
    elements = shape.elements
    seen_choices: set[str] | None = None
    for key, value in data.items():
        if key == "resourceType":
            if shape.resource_type is None or value != shape.resource_type:
                return False
            continue
        element = elements.get(key)
        if element is None:
            return False
        if element.choice is not None:
            if seen_choices is None:
                seen_choices = set()
            elif element.choice in seen_choices:
                return False
            seen_choices.add(element.choice)
        items: Sequence[Any]
        if element.many:
            if not isinstance(value, list) or not value:
                return False
            items = value
        else:
            items = (value,)
        if element.model is not None:
            for item in items:
                if not _plain(element.model, item, depth + 1, seen):
                    return False
            continue
        # A primitive, checked here (the most frequent values: no call per value). A text
        # value's verdict is kept for this record, by primitive type.
        validator = element.primitive
        if validator is None:
            return False
        for item in items:
            if type(item) is str:
                verdict = seen.get((element.key, item))
                if verdict is None:
                    verdict = seen[(element.key, item)] = _primitive(validator, item)
                if not verdict:
                    return False
            elif not _primitive(validator, item):
                return False
    if shape.resource_type is not None and "resourceType" not in data:
        return False
    if not shape.required.issubset(data):
        return False
    if shape.needed_choices:  # a [x] group that needs a value (e.g. Extension.value[x])
        return seen_choices is not None and all(
            group in seen_choices for group in shape.needed_choices)
    return True


def plainly_valid(resource: Mapping[str, Any],
                  seen: dict[tuple[int, str], bool] | None = None) -> bool:
    """True only when ``fhir.resources`` R4B would accept the resource as it is; False
    when it might not (then validate it with ``fhir.resources``).

    ``seen`` holds the verdicts on text values already checked, by primitive type: pass
    one dictionary for the resources of one record (a code system, a status or a unit
    recurs in most of them), never across records."""
    from fhir.resources.R4B import get_fhir_model_class

    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        return False
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError, ImportError):
        return False
    return _plain(model, resource, 0, {} if seen is None else seen)
