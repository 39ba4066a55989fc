"""Items read as DynamoDB JSON straight into the values their model would hold, without the model.

``Item.from_raw_data`` builds a PynamoDB model: the instance, its defaults set through the
attribute descriptors, the discriminator, then every attribute deserialised and set again through
them. The hot reads (the webhook's TransactGetItems, the send's profile and lots) only map the
items into the use case's records; ``item_values`` gives that mapping the same values (each
attribute's own ``deserialize``, its default when absent or NULL, exactly as
``Model._container_deserialize`` and ``_set_defaults`` do) as plain attributes of a namespace, at a
fraction of the CPU. tests/contract/test_transaction.py and test_repositories.py hold them equal
to the models' own.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Callable, Mapping, Optional

from pynamodb.attributes import Attribute, DiscriminatorAttribute, NumberAttribute
from pynamodb.constants import NULL
from pynamodb.exceptions import AttributeDeserializationError


def item_values(model_class: type, raw: Mapping[str, dict]) -> Any:
    """The item ``raw`` (DynamoDB's JSON) as ``model_class.from_raw_data(raw)`` would hold it, its
    attributes read as values: an item stored as another class (a subclass) is its model instead."""
    plan = read_plan(model_class)
    if plan.discriminator is not None:
        stored = raw.get(plan.discriminator.attr_name)
        if stored and plan.discriminator.deserialize(plan.discriminator.get_value(stored)) is not model_class:
            return model_class.from_raw_data(raw)  # raises for a class that is not one of model_class's
    values = {}
    for name, attr_name, attr_type, deserialize, default, default_is_callable in plan.fields:
        value = raw.get(attr_name)
        if value and NULL not in value:
            if attr_type is not None:
                if attr_type not in value:  # (Attribute.get_value's own check)
                    raise AttributeDeserializationError(attr_name, attr_type)
                value = value[attr_type]
            values[name] = value if deserialize is None else deserialize(value)
        else:
            values[name] = default() if default_is_callable else default
    return SimpleNamespace(**values)


def _number(text: str) -> Any:
    """``NumberAttribute.deserialize`` (``json.loads``), a plain integer's text read by ``int``."""
    if text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1):
        return int(text)
    return json.loads(text)


def _reader(attribute) -> tuple[Optional[str], Optional[Callable[[Any], Any]]]:
    """The type whose value is taken from the stored map (None: the attribute takes the map itself)
    and what reads that value: the attribute's own ``deserialize`` (None where it returns the value
    as it is, as UnicodeAttribute's does), a ``NumberAttribute``'s integers without the decoder."""
    kind = type(attribute)
    if kind.get_value is not Attribute.get_value:  # an attribute that reads the stored map its own way
        return None, lambda stored: attribute.deserialize(attribute.get_value(stored))
    if kind.deserialize is Attribute.deserialize:
        return attribute.attr_type, None
    if kind is NumberAttribute:
        return attribute.attr_type, _number
    return attribute.attr_type, attribute.deserialize


@dataclass(frozen=True)
class ReadPlan:
    hash_key: Any
    range_key: Any
    discriminator: Any
    # per attribute (python name, name in the item, type or None, deserialize or None, default, whether to call it)
    fields: tuple = ()


@lru_cache(maxsize=None)
def read_plan(model_class: type) -> ReadPlan:
    fields, hash_key, range_key, discriminator = [], None, None, None
    for name, attribute in model_class.get_attributes().items():
        if isinstance(attribute, DiscriminatorAttribute):
            discriminator = attribute
            continue
        default = attribute.default
        fields.append((name, attribute.attr_name, *_reader(attribute), default, callable(default)))
        if attribute.is_hash_key:
            hash_key = attribute
        if attribute.is_range_key:
            range_key = attribute
    return ReadPlan(hash_key, range_key, discriminator, tuple(fields))
