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

from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Mapping

from pynamodb.attributes import DiscriminatorAttribute
from pynamodb.constants import NULL


def item_values(model_class: type, raw: Mapping[str, dict]) -> Any:
    """The item ``raw`` (DynamoDB's JSON) as ``model_class.from_raw_data(raw)`` would hold it, its
    attributes read as values: an item stored as another class (a subclass) is its model instead."""
    plan = read_plan(model_class)
    if plan.discriminator is not None:
        stored = raw.get(plan.discriminator.attr_name)
        if stored and plan.discriminator.deserialize(plan.discriminator.get_value(stored)) is not model_class:
            return model_class.from_raw_data(raw)  # raises for a class that is not one of model_class's
    values = {}
    for name, attribute, default in plan.readers:
        value = raw.get(attribute.attr_name)
        if value and NULL not in value:
            values[name] = attribute.deserialize(attribute.get_value(value))
        else:
            values[name] = default() if callable(default) else default
    return SimpleNamespace(**values)


@dataclass(frozen=True)
class ReadPlan:
    readers: tuple  # (python name, attribute, default as from_raw_data sets it)
    hash_key: Any
    range_key: Any
    discriminator: Any


@lru_cache(maxsize=None)
def read_plan(model_class: type) -> ReadPlan:
    readers, hash_key, range_key, discriminator = [], None, None, None
    for name, attribute in model_class.get_attributes().items():
        if isinstance(attribute, DiscriminatorAttribute):
            discriminator = attribute
            continue
        readers.append((name, attribute, attribute.default))
        if attribute.is_hash_key:
            hash_key = attribute
        if attribute.is_range_key:
            range_key = attribute
    return ReadPlan(tuple(readers), hash_key, range_key, discriminator)
