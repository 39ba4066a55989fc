"""One change's TransactWriteItems, and one read's TransactGetItems, without a model instance per item.

PynamoDB's ``TransactWrite`` takes model instances. Making one and serialising it walks every
attribute of its class through descriptors, 40–130 µs an item on the bench machine, and a paid
order's transaction holds a dozen items (docs/benchmarks.md, "The webhook against its floor").
``Transaction`` collects the same actions with PynamoDB's own serialisation:

- ``save``, ``update``, ``delete`` take a model instance, as ``TransactWrite``'s do: a
  ``VersionAttribute`` adds its condition and the instance's version moves on at the commit;
- ``put`` takes a model class and the item's values: each value is serialised by the class's own
  attribute (its type, its name in the table, its null check and default, the discriminator),
  which is the map ``Model.serialize`` would make, without the instance. A versioned class is
  refused: its writes go through ``save`` or ``put_over_version``;
- ``put_over_version`` takes a versioned class, the item's values and the version the use case
  read (0: no item yet): the item as ``save(over_version(model_class(**values), version))`` writes
  it, the condition and the next version made by the class's own ``VersionAttribute`` as PynamoDB's
  ``_handle_version_attribute`` makes them (the stored version is still that one, or there is no
  item yet; the item stores the next). The caller moves its own record's version on after the commit.

A Put action is the map PynamoDB's ``get_operation_kwargs`` makes for it (table, item, condition
serialised by PynamoDB's own expressions), made from the serialised item directly: the keys are
already in it, with their types. A condition that is the same for every item of a kind (``pk``
does not exist yet) can be given as a ``PreparedCondition``: serialised by PynamoDB once, not per
item; a versioned class's own version conditions are prepared once per class the same way (only the
version read is filled in per item).

The request is the one PynamoDB's ``Connection.transact_write_items`` sends (condition checks,
deletes, puts, updates, in that order, and ``ReturnConsumedCapacity`` as its ``dispatch`` adds it),
through the same ``Connection._make_api_call`` (the botocore client, its errors made PynamoDB's), so a
refused transaction raises PynamoDB's ``TransactWriteError`` with its cancellation reasons, as before.
Only ``dispatch``'s own extras are left out (its request uuid, the pre/post-send signals nothing here
listens to, two debug log calls): about 0.07 ms a request on the bench machine
(docs/benchmarks.md, "The webhook's own work, fourth round"). ``TransactRead`` likewise.

``TransactRead`` is the read's counterpart of PynamoDB's ``TransactGet``: the same request
(``Connection.transact_get_items``, the keys serialised by the class's key attributes), and each
item found given as its values (``store.raw_items.item_values``: every attribute of the class deserialised by the
attribute itself, its default where the item has none, as ``Model.from_raw_data`` sets them),
made when asked for, without a model instance between the answer and the use case's own record.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any, Callable, Mapping, Optional

from pynamodb.attributes import (Attribute, DiscriminatorAttribute, JSONAttribute, ListAttribute, MapAttribute,
                                 NumberAttribute, VersionAttribute)
from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.constants import (CONDITION_EXPRESSION, EXPRESSION_ATTRIBUTE_NAMES, EXPRESSION_ATTRIBUTE_VALUES, ITEM,
                                KEY, RESPONSES, RETURN_CONSUMED_CAPACITY, TABLE_NAME, TOTAL, TRANSACT_CONDITION_CHECK,
                                TRANSACT_DELETE, TRANSACT_GET, TRANSACT_GET_ITEMS, TRANSACT_ITEMS, TRANSACT_PUT,
                                TRANSACT_UPDATE, TRANSACT_WRITE_ITEMS)
from pynamodb.exceptions import AttributeNullError, TransactGetError, TransactWriteError

from chalicelib.json_text import dumps
from chalicelib.store.raw_items import item_values, read_plan


class PreparedCondition:
    """A condition whose every value is fixed (``Model.pk.does_not_exist()``), serialised once by
    PynamoDB's own expressions (the expression, its names and values as ``get_operation_kwargs``
    writes them) instead of once per item: give it where a condition goes in ``Transaction.put``."""

    __slots__ = ("condition", "expression", "names", "values")

    def __init__(self, condition):
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        self.condition = condition  # PynamoDB's own, for anything but a Put from values
        self.expression = condition.serialize(names, values)
        self.names = {placeholder: name for name, placeholder in names.items()}
        self.values = values


@dataclass(frozen=True)
class ValuesPut:
    """An unversioned item to put from its values (``Transaction.put``), handed to a repository's
    commit by another feature's store (e.g. a paid order's purchase item)."""

    model_class: type
    values: Mapping[str, Any]
    condition: Any = None


class Transaction:
    """Actions collected for one TransactWriteItems, sent on leaving the ``with`` block."""

    def __init__(self, connection):
        self._connection = connection  # PynamoDB's Connection (store.connection.connection())
        self._condition_checks: list[dict] = []
        self._deletes: list[dict] = []
        self._puts: list[dict] = []
        self._updates: list[dict] = []
        self._versioned: list = []

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.commit()

    def condition_check(self, model_class: type, hash_key, range_key=None, condition=None) -> None:
        """A condition on an item the transaction does not write, as ``TransactWrite``'s."""
        if condition is None:
            raise TypeError("a condition check needs its condition")
        self._condition_checks.append(model_class.get_operation_kwargs_from_class(hash_key, range_key=range_key,
                                                                                  condition=condition))

    def save(self, model, condition=None) -> None:
        self._puts.append(model.get_save_kwargs_from_instance(condition=condition))
        self._versioned.append(model)

    def put(self, model_class: type, values: Mapping[str, Any], condition=None) -> None:
        """The item of ``model_class`` with ``values`` (python attribute names), as ``save`` of
        ``model_class(**values)`` would write it."""
        self._puts.append(_put_action(model_class, _serialized(_plan(model_class), values), condition))

    def put_over_version(self, model_class: type, values: Mapping[str, Any], version: int, condition=None) -> None:
        """The versioned item of ``model_class`` with ``values``, written only over ``version``."""
        self._puts.append(put_over_version_kwargs(model_class, values, version, condition))

    def update(self, model, actions: list, condition=None) -> None:
        self._updates.append(model.get_update_kwargs_from_instance(actions=actions, condition=condition))
        self._versioned.append(model)

    def update_action(self, action: Mapping[str, Any]) -> None:
        """An unversioned item's Update action, already made (``counters.CounterAddition.update_action``)."""
        self._updates.append(dict(action))

    # Actions already made as the request carries them (the send path's, prepared once per table:
    # store/mail/mail_store.py ``_PreparedRequests``).
    def condition_check_action(self, action: Mapping[str, Any]) -> None:
        self._condition_checks.append(dict(action))

    def put_action(self, action: Mapping[str, Any]) -> None:
        self._puts.append(dict(action))

    def delete_action(self, action: Mapping[str, Any]) -> None:
        self._deletes.append(dict(action))

    def delete(self, model, condition=None) -> None:
        self._deletes.append(model.get_delete_kwargs_from_instance(condition=condition))

    def commit(self) -> dict:
        items = [*({TRANSACT_CONDITION_CHECK: item} for item in self._condition_checks),
                 *({TRANSACT_DELETE: item} for item in self._deletes), *({TRANSACT_PUT: item} for item in self._puts),
                 *({TRANSACT_UPDATE: item} for item in self._updates)]
        try:
            response = _sent(self._connection, TRANSACT_WRITE_ITEMS, items)
        except BOTOCORE_EXCEPTIONS as error:
            raise TransactWriteError("Failed to write transaction items", error)
        for model in self._versioned:
            model.update_local_version_attribute()
        return response


class TransactRead:
    """Keys collected for one TransactGetItems, sent on leaving the ``with`` block; ``get`` gives
    the place of an item's answer, ``item`` the item found there as its values (or None)."""

    def __init__(self, connection):
        self._connection = connection  # PynamoDB's Connection (store.connection.connection())
        self._gets: list[dict] = []
        self._classes: list[type] = []
        self._found: Optional[list] = None

    def __enter__(self) -> "TransactRead":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            try:
                response = _sent(self._connection, TRANSACT_GET_ITEMS, [{TRANSACT_GET: get} for get in self._gets])
            except BOTOCORE_EXCEPTIONS as error:
                raise TransactGetError("Failed to get transaction items", error)
            self._found = [answer.get(ITEM) for answer in response[RESPONSES]]

    def get(self, model_class: type, hash_key: Any, range_key: Any = None) -> int:
        self._gets.append(get_kwargs(model_class, hash_key, range_key))
        self._classes.append(model_class)
        return len(self._gets) - 1

    def item(self, place: Optional[int]) -> Optional[SimpleNamespace]:
        """The item read at ``place`` (None: not asked for, or not found) as its values."""
        if place is None or self._found is None:
            if place is not None:
                raise RuntimeError("the read has not been made yet")
            return None
        raw = self._found[place]
        return item_values(self._classes[place], raw) if raw else None


def _sent(connection, operation: str, items: list) -> dict:
    """``Connection.transact_write_items`` / ``transact_get_items``'s request, as their ``dispatch``
    completes it, through the connection's own ``_make_api_call``."""
    return connection._make_api_call(operation, {TRANSACT_ITEMS: items, RETURN_CONSUMED_CAPACITY: TOTAL})


def get_kwargs(model_class: type, hash_key: Any, range_key: Any = None) -> dict:
    """The Get of one item: ``model_class.get_operation_kwargs_from_class(hash_key, range_key)``."""
    (hash_name, hash_type, hash_serialize), range_attribute = _key_plan(model_class)
    key = {hash_name: {hash_type: hash_key if hash_serialize is None else hash_serialize(hash_key)}}
    if range_key is not None and range_attribute is not None:
        range_name, range_type, range_serialize = range_attribute
        key[range_name] = {range_type: range_key if range_serialize is None else range_serialize(range_key)}
    return {TABLE_NAME: model_class.Meta.table_name, KEY: key}


@lru_cache(maxsize=None)
def _key_plan(model_class: type) -> tuple:
    """((hash key's name, type, serialize or None), the range key's alike or None), the attributes'
    own ``serialize`` left out where it returns the value as it is."""
    plan = read_plan(model_class)
    return tuple(None if attribute is None else (attribute.attr_name, attribute.attr_type, _serializer(attribute))
                 for attribute in (plan.hash_key, plan.range_key))


def put_kwargs(model_class: type, values: Mapping[str, Any], condition=None) -> dict:
    """The Put action (table, item, condition) for the item of ``model_class`` with ``values``."""
    return _put_action(model_class, _serialized(_plan(model_class), values), condition)


def put_over_version_kwargs(model_class: type, values: Mapping[str, Any], version: int, condition=None) -> dict:
    """The Put action ``save`` makes for ``over_version(model_class(**values), version)``."""
    plan = _plan(model_class, versioned=True)
    attribute = plan.version
    if isinstance(condition, PreparedCondition):
        condition = condition.condition
    if version:  # the version read is in the model's attributes, so its next one takes its place
        item = _serialized(plan, values, version_in_place=True)
        item[attribute.attr_name] = {attribute.attr_type: plan.version_text(version + 1)}
        if condition is None:  # the prepared "= version" with the version read filled in
            action = _put_action(model_class, item, plan.version_was)
            action[EXPRESSION_ATTRIBUTE_VALUES] = {plan.version_placeholder: {attribute.attr_type:
                                                                              plan.version_text(version)}}
            return action
        version_condition = attribute == version
    else:  # no version read: PynamoDB adds the first one after the rest
        item = _serialized(plan, values)
        item[attribute.attr_name] = {attribute.attr_type: plan.version_text(1)}
        if condition is None:
            return _put_action(model_class, item, plan.version_absent)
        version_condition = attribute.does_not_exist()
    return _put_action(model_class, item, condition & version_condition)


def attribute_map(model_class: type, values: Mapping[str, Any]) -> dict:
    """``model_class(**values).serialize()``, made from the values directly (the keys first, as
    the Put's item has them)."""
    return _serialized(_plan(model_class), values)


def _serialized(plan: "_Plan", values: Mapping[str, Any], version_in_place: bool = False) -> dict:
    """The item as ``save`` sends it: its hash and range key (``get_identifier_map``), then every
    other attribute in the class's own order (``Model.serialize``), each written, left out or
    refused as the model does (a value given, None included, or else the attribute's default);
    ``version_in_place`` keeps the version attribute's place for a version read."""
    names = tuple(values)
    steps = plan.shapes.get((names, version_in_place))
    if steps is None:
        steps = _steps_for(plan, names, version_in_place)
    item: dict[str, Any] = dict.fromkeys(plan.keys)  # (filled in place below: keys are never null)
    for name, attr_name, attr_type, serialize, null, default in steps:
        if default is _GIVEN:
            value = values[name]
        elif default is None:
            if attr_type is None:  # the version's place
                item[attr_name] = None
                continue
            raise AttributeNullError(name)
        else:
            value = default()
        if value is not None and serialize is not None:  # (None: the attribute's serialize returns it as is)
            value = serialize(value)
        if value is None:
            if null:
                continue
            raise AttributeNullError(name)
        item[attr_name] = {attr_type: value}
    return item


# A step's default when its value is given.
_GIVEN = object()
# At most this many sets of names given are kept per class (a repository writes a class with a few).
_SHAPES_KEPT = 64


def _steps_for(plan: "_Plan", names: tuple, version_in_place: bool) -> tuple:
    """The steps ``_serialized`` takes for values given under ``names``: in the class's order, those
    given, and of the rest those whose absence matters (a default, or refused as null)."""
    if not plan.names.issuperset(names):  # (before any value: the model refuses an unknown name first)
        raise ValueError(f"Attribute {sorted(set(names) - plan.names)[0]} specified does not exist")
    given = set(names)
    steps = []
    for at, step in enumerate(plan.steps):
        if at == plan.version_at and version_in_place:
            steps.append((plan.version.attr_name, plan.version.attr_name, None, None, True, None))
        name, attr_name, attr_type, serialize, null, default = step
        if name in given:
            steps.append((name, attr_name, attr_type, serialize, null, _GIVEN))
        elif default is not None or not null:
            steps.append(step)
    steps = tuple(steps)
    if len(plan.shapes) < _SHAPES_KEPT:
        plan.shapes[names, version_in_place] = steps
    return steps


def _put_action(model_class: type, item: dict, condition) -> dict:
    """``get_operation_kwargs(hash_key, range_key, key=ITEM, attributes=..., condition=...)`` of the
    item (its keys included): the table, the item, the condition's expression, names and values."""
    action: dict[str, Any] = {TABLE_NAME: model_class.Meta.table_name, ITEM: item}
    if condition.__class__ is PreparedCondition:
        action[CONDITION_EXPRESSION] = condition.expression
        if condition.names:
            action[EXPRESSION_ATTRIBUTE_NAMES] = dict(condition.names)
        if condition.values:  # (each action its own maps, as PynamoDB makes them per request)
            action[EXPRESSION_ATTRIBUTE_VALUES] = {placeholder: dict(value) for placeholder, value in
                                                   condition.values.items()}
    elif condition is not None:
        names: dict[str, str] = {}
        expression_values: dict[str, Any] = {}
        action[CONDITION_EXPRESSION] = condition.serialize(names, expression_values)
        if names:
            action[EXPRESSION_ATTRIBUTE_NAMES] = {placeholder: name for name, placeholder in names.items()}
        if expression_values:
            action[EXPRESSION_ATTRIBUTE_VALUES] = expression_values
    return action


# One attribute's step in a plan: (python name, name in the table, type, serialize or None where
# the attribute's own returns the value as it is, may be null, default or None).
_Step = tuple


@dataclass(frozen=True)
class _Plan:
    keys: tuple[str, ...]  # the hash key's and the range key's names in the table: the item's first
    steps: tuple[_Step, ...]  # every attribute but the version, in the class's own order (``get_attributes``)
    version_at: int  # the version's place among them
    names: frozenset[str]  # the values a caller may give (not the discriminator)
    version: Optional[VersionAttribute]  # the class's own attribute: its conditions are PynamoDB's
    # the version's own conditions, serialised once: no item yet, and "= the version read" (whose
    # one value, at ``version_placeholder``, each Put fills in)
    version_absent: Optional[PreparedCondition] = None
    version_was: Optional[PreparedCondition] = None
    version_placeholder: Optional[str] = None
    version_text: Optional[Callable[[int], str]] = None  # the version attribute's serialize
    # the steps for each set of names given (in the order given) and place of the version, made once
    shapes: dict = field(default_factory=dict)


@lru_cache(maxsize=None)
def _plan(model_class: type, versioned: bool = False) -> _Plan:
    steps, names, hash_key, range_key, version, version_at = [], set(), None, None, None, None
    for name, attribute in model_class.get_attributes().items():
        if isinstance(attribute, VersionAttribute):
            if not versioned:
                raise TypeError(f"{model_class.__name__} is versioned: write it with save() or put_over_version(), "
                                "whose version condition protects it")
            version, version_at = attribute, len(steps)
            continue
        if isinstance(attribute, (MapAttribute, ListAttribute)):
            raise TypeError(f"{model_class.__name__}.{name}: map and list attributes are not supported by put()")
        if isinstance(attribute, DiscriminatorAttribute):
            if attribute.get_discriminator(model_class) is None:
                continue
            default = (lambda cls=model_class: cls)
        else:
            names.add(name)
            default = _default_of(attribute)
        if (attribute.is_hash_key or attribute.is_range_key) and attribute.null:
            raise TypeError(f"{model_class.__name__}.{name}: a key that may be null is not supported by put()")
        steps.append((name, attribute.attr_name, attribute.attr_type, _serializer(attribute), attribute.null, default))
        if attribute.is_hash_key:
            hash_key = attribute.attr_name
        if attribute.is_range_key:
            range_key = attribute.attr_name
    if hash_key is None:
        raise TypeError(f"{model_class.__name__} has no hash key")
    if versioned and version is None:
        raise TypeError(f"{model_class.__name__} is not versioned: write it with put()")
    version_absent = version_was = placeholder = None
    if version is not None:
        version_absent, version_was = PreparedCondition(version.does_not_exist()), PreparedCondition(version == 1)
        (placeholder,) = version_was.values  # the one value: the version read
    else:
        version_at = len(steps)
    return _Plan((hash_key,) if range_key is None else (hash_key, range_key), tuple(steps), version_at,
                 frozenset(names), version, version_absent, version_was, placeholder,
                 _version_text if type(version) is VersionAttribute else getattr(version, "serialize", None))


def _serializer(attribute) -> Optional[Callable[[Any], Any]]:
    """The attribute's own ``serialize`` (None where it returns the value as it is); where that is
    ``json.dumps(value)`` (a ``JSONAttribute``'s, a ``NumberAttribute``'s), the same text by
    ``json_text.dumps``, and a plain int of a ``NumberAttribute`` as ``str(value)`` (json's own
    text for it), without the encoder."""
    serialize = attribute.serialize
    kind = type(attribute)
    if kind.serialize is Attribute.serialize:  # (UnicodeAttribute's: the value as it is)
        return None
    if kind is JSONAttribute:  # (given a value, never None: json.dumps(value))
        return dumps
    if kind is not NumberAttribute:
        return serialize
    return lambda value: str(value) if value.__class__ is int else dumps(value)


def _version_text(version: int) -> str:
    """``VersionAttribute.serialize``: ``json.dumps(int(version))``, which for an int is ``str``."""
    return str(int(version))


def _default_of(attribute) -> Optional[Callable[[], Any]]:
    default = attribute.default_for_new if attribute.default_for_new is not None else attribute.default
    if default is None:
        return None
    return default if callable(default) else (lambda: default)
