"""Customer segments as data: a rule document, validated, and matched against an account.

A segment is ``{"rules": RULE}`` (optionally ``"name"``) where a RULE is one of::

    {"all": [RULE, ...]}        every rule holds
    {"any": [RULE, ...]}        at least one holds
    {"not": RULE}               the rule does not hold
    {"field": F, "op": OP, "value": V}

docs/segments.md describes the fields, the operators and the RFM scores. No I/O,
no clock: ``today`` (a UTC date) is given.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, Optional, Sequence, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator

from chalicelib.domain.loyalty.account import Account
from chalicelib.domain.loyalty.program import DEFAULT_TIERS, Tier
from chalicelib.domain.mail.eligibility import has_marketing_consent

MAX_DEPTH = 5  # levels of rules, the top rule being level 1
MAX_CONDITIONS = 50
MAX_LIST_VALUES = 100
MAX_TEXT = 200

# -- fields and operators -----------------------------------------------------------
NUMERIC_OPS = ("=", "!=", "<", "<=", ">", ">=")
TEXT_OPS = ("=", "!=", "in", "not_in", "exists")
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    # field: (value kind, allowed ops)
    "tier": ("text", TEXT_OPS),
    "points_balance": ("number", NUMERIC_OPS),
    "cashback_balance": ("number", NUMERIC_OPS),
    "days_since_last_order": ("number", NUMERIC_OPS + ("exists",)),
    "orders_count": ("number", NUMERIC_OPS),
    "lifetime_spend": ("number", NUMERIC_OPS),
    "rfm_score": ("rfm", ("=", "!=", "in", "not_in")),
    "recency_score": ("score", NUMERIC_OPS + ("in", "not_in")),
    "frequency_score": ("score", NUMERIC_OPS + ("in", "not_in")),
    "monetary_score": ("score", NUMERIC_OPS + ("in", "not_in")),
    "locale": ("text", TEXT_OPS),
    "email_domain": ("text", TEXT_OPS),
    "bought_sku": ("bought", ("contains", "exists")),
    "bought_category": ("bought", ("contains", "exists")),
    "marketing_consent": ("bool", ("=", "!=")),
    "member": ("bool", ("=", "!=")),
    "membership_plan": ("text", TEXT_OPS),
}
FieldName = Literal[
    "tier", "points_balance", "cashback_balance", "days_since_last_order", "orders_count", "lifetime_spend",
    "rfm_score", "recency_score", "frequency_score", "monetary_score", "locale", "email_domain", "bought_sku",
    "bought_category", "marketing_consent", "member", "membership_plan"]
Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "exists"]

# -- RFM: fixed thresholds, each score 1..5 ---------------------------------------------
# Recency: days since the last order, at most → score (never ordered: 1).
RECENCY_DAYS = ((30, 5), (90, 4), (180, 3), (365, 2))
# Frequency: paid orders, at least → score (0 or 1 order: 1).
FREQUENCY_ORDERS = ((10, 5), (5, 4), (3, 3), (2, 2))
# Monetary: lifetime spend, at least this multiple of the base → score. The base is the
# lowest positive min_spend of the shop's tiers (default program: 2,000, the Silver tier).
MONETARY_MULTIPLES = ((Decimal(2), 5), (Decimal(1), 4), (Decimal("0.5"), 3), (Decimal("0.25"), 2))
DEFAULT_MONETARY_BASE = min(t.min_spend for t in DEFAULT_TIERS)


class SegmentInvalid(ValueError):
    """A segment document that is not valid; ``path`` names the offending part (``rules.all.1.op``)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


# -- the document ------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    field: FieldName
    op: Op
    # Normalised by validation: Decimal for numbers, casefolded text, tuples for lists,
    # a frozenset of text for ``contains``, bool for ``exists``.
    value: Any = Field(default=None, validate_default=True)

    @field_validator("op")
    @classmethod
    def _op_fits_field(cls, op: str, info) -> str:
        name = info.data.get("field")
        if name is not None and op not in FIELDS[name][1]:
            raise ValueError(f"{op!r} does not apply to {name} (one of {', '.join(FIELDS[name][1])})")
        return op

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: Any, info) -> Any:
        name, op = info.data.get("field"), info.data.get("op")
        if name is None or op is None:
            return value  # the field or op is wrong already: that error is reported
        return _normalise_value(FIELDS[name][0], op, value)


class AllRule(_Strict):
    all: Annotated[list["Rule"], Field(min_length=1)]


class AnyRule(_Strict):
    any: Annotated[list["Rule"], Field(min_length=1)]


class NotRule(_Strict):
    not_: "Rule" = Field(alias="not")


def _rule_kind(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        for key, tag in (("all", "all_rule"), ("any", "any_rule"), ("not", "not_rule"), ("field", "condition")):
            if key in value:
                return tag
        return None
    return {AllRule: "all_rule", AnyRule: "any_rule", NotRule: "not_rule", Condition: "condition"}.get(type(value))


_TAGS = frozenset({"all_rule", "any_rule", "not_rule", "condition"})
Rule = Annotated[
    Union[Annotated[AllRule, Tag("all_rule")], Annotated[AnyRule, Tag("any_rule")],
          Annotated[NotRule, Tag("not_rule")], Annotated[Condition, Tag("condition")]],
    Discriminator(_rule_kind, custom_error_type="invalid_rule",
                  custom_error_message='a rule is {"all": [...]}, {"any": [...]}, {"not": {...}} '
                                       'or {"field": ..., "op": ..., "value": ...}'),
]


class Segment(_Strict):
    name: Optional[Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]] = None
    rules: Rule


AllRule.model_rebuild()
AnyRule.model_rebuild()
NotRule.model_rebuild()
Segment.model_rebuild()


def parse_segment(document: Any) -> Segment:
    """The validated segment, or ``SegmentInvalid`` naming the first problem's path."""
    if isinstance(document, Segment):
        return document
    try:
        segment = Segment.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(part) for part in first["loc"] if part not in _TAGS) or "body"
        reason = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "unknown field"
        elif first["type"] == "missing":
            reason = "required"
        elif first["type"] == "literal_error" and path.endswith(".field"):
            reason = f"unknown field name (one of {', '.join(FIELDS)})"
        raise SegmentInvalid(path, reason) from None
    conditions = _check_limits(segment.rules, "rules", 1)
    if conditions > MAX_CONDITIONS:
        raise SegmentInvalid("rules", f"{conditions} conditions: at most {MAX_CONDITIONS}")
    return segment


def _check_limits(rule, path: str, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise SegmentInvalid(path, f"rules nest at most {MAX_DEPTH} levels deep")
    if isinstance(rule, Condition):
        return 1
    if isinstance(rule, NotRule):
        return _check_limits(rule.not_, f"{path}.not", depth + 1)
    key, children = ("all", rule.all) if isinstance(rule, AllRule) else ("any", rule.any)
    return sum(_check_limits(child, f"{path}.{key}.{i}", depth + 1) for i, child in enumerate(children))


def _normalise_value(kind: str, op: str, value: Any) -> Any:
    if op == "exists":
        if value is None:
            return True
        if not isinstance(value, bool):
            raise ValueError("exists takes true or false (or no value: true)")
        return value
    if op in ("in", "not_in"):
        if not isinstance(value, (list, tuple)) or not value:
            raise ValueError(f"{op} takes a non-empty list")
        if len(value) > MAX_LIST_VALUES:
            raise ValueError(f"at most {MAX_LIST_VALUES} values")
        return tuple(_scalar(kind, v) for v in value)
    if op == "contains":
        values = value if isinstance(value, (list, tuple)) else [value]
        if not values or len(values) > MAX_LIST_VALUES:
            raise ValueError(f"contains takes a text or a list of 1..{MAX_LIST_VALUES} texts")
        return frozenset(_scalar("text", v) for v in values)
    if kind == "number" and op in NUMERIC_OPS:
        return _number(value)
    return _scalar(kind, value)


def _scalar(kind: str, value: Any) -> Any:
    if kind in ("number", "score"):
        number = _number(value)
        if kind == "score" and number not in {Decimal(n) for n in range(1, 6)}:
            raise ValueError("a score is a whole number 1..5")
        return number
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ValueError(f"must be a text of 1..{MAX_TEXT} characters")
    text = value.strip()
    if kind == "rfm":
        if len(text) != 3 or any(c not in "12345" for c in text):
            raise ValueError('an RFM score is three digits 1..5, like "545"')
        return text
    return _fold(text)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueError("must be a number")
    try:
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def _fold(text: str) -> str:
    return text.strip().casefold().replace("_", "-")


# -- matching ----------------------------------------------------------------------
@dataclass(frozen=True)
class RfmScores:
    recency: int
    frequency: int
    monetary: int

    @property
    def code(self) -> str:
        return f"{self.recency}{self.frequency}{self.monetary}"


def days_since_last_order(account: Account, today: date) -> Optional[int]:
    return (today - account.last_order_at.date()).days if account.last_order_at else None


def rfm_scores(account: Account, today: date, exponent: int, tiers: Sequence[Tier] = DEFAULT_TIERS) -> RfmScores:
    days = days_since_last_order(account, today)
    recency = 1 if days is None else next((score for limit, score in RECENCY_DAYS if days <= limit), 1)
    frequency = next((score for least, score in FREQUENCY_ORDERS if account.orders_count >= least), 1)
    base = min((t.min_spend for t in tiers if t.min_spend > 0), default=DEFAULT_MONETARY_BASE)
    spend = Decimal(account.lifetime_spend_minor).scaleb(-exponent)
    monetary = next((score for multiple, score in MONETARY_MULTIPLES if spend >= base * multiple), 1)
    return RfmScores(recency, frequency, monetary)


def matches(segment: Segment, account: Account, today: date, exponent: int, *,
            tiers: Sequence[Tier] = DEFAULT_TIERS) -> bool:
    """Whether ``account`` is in ``segment`` on ``today``. ``exponent``: minor-unit digits of the
    shop's currency; ``tiers``: the shop's tier ladder (the base of the monetary score)."""
    return _holds(segment.rules, _Facts(account, today, exponent, tiers))


class _Facts:
    """An account's field values, each worked out once when a rule first asks."""

    def __init__(self, account: Account, today: date, exponent: int, tiers: Sequence[Tier]):
        self.account, self.today, self.exponent, self.tiers = account, today, exponent, tiers
        self._cache: dict[str, Any] = {}

    def get(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = getattr(self, f"_{name}")()
        return self._cache[name]

    def _rfm(self) -> RfmScores:
        return rfm_scores(self.account, self.today, self.exponent, self.tiers)

    def _tier(self):
        return _fold(self.account.tier_name) if self.account.tier_name else None

    def _points_balance(self):
        return Decimal(self.account.points_balance)

    def _cashback_balance(self):
        return Decimal(self.account.cashback_minor).scaleb(-self.exponent)

    def _days_since_last_order(self):
        days = days_since_last_order(self.account, self.today)
        return None if days is None else Decimal(days)

    def _orders_count(self):
        return Decimal(self.account.orders_count)

    def _lifetime_spend(self):
        return Decimal(self.account.lifetime_spend_minor).scaleb(-self.exponent)

    def _rfm_score(self):
        return self.get("rfm").code

    def _recency_score(self):
        return Decimal(self.get("rfm").recency)

    def _frequency_score(self):
        return Decimal(self.get("rfm").frequency)

    def _monetary_score(self):
        return Decimal(self.get("rfm").monetary)

    def _locale(self):
        return _fold(self.account.locale) if self.account.locale else None

    def _email_domain(self):
        email = self.account.email
        return _fold(email.rpartition("@")[2]) if email and "@" in email and not self.account.redacted else None

    def _bought_sku(self):
        return frozenset(_fold(v) for v in self.account.bought_skus)

    def _bought_category(self):
        return frozenset(_fold(v) for v in self.account.bought_categories)

    def _marketing_consent(self):
        return has_marketing_consent(self.account)

    def _member(self):
        # A paid membership that has not ended (chalicelib.domain.loyalty.membership).
        until = self.account.member_until
        return until is not None and until.date() >= self.today

    def _membership_plan(self):
        # The SKU of a running membership's plan: a plan's member-only offers go to its segment.
        return _fold(self.account.member_plan) if self._member() and self.account.member_plan else None


def _holds(rule, facts: _Facts) -> bool:
    if isinstance(rule, AllRule):
        return all(_holds(child, facts) for child in rule.all)
    if isinstance(rule, AnyRule):
        return any(_holds(child, facts) for child in rule.any)
    if isinstance(rule, NotRule):
        return not _holds(rule.not_, facts)
    return _compare(rule, facts.get(rule.field))


def _compare(condition: Condition, actual: Any) -> bool:
    op, expected = condition.op, condition.value
    if op == "exists":
        present = bool(actual) if isinstance(actual, frozenset) else actual is not None
        return present is expected
    if actual is None:  # no value (no tier, never ordered, no locale): only `exists` can hold
        return False
    if op == "contains":
        return not actual.isdisjoint(expected)
    if condition.field == "locale":
        return _locale_compare(op, actual, expected)
    if op == "in":
        return actual in expected
    if op == "not_in":
        return actual not in expected
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    return {"<": actual < expected, "<=": actual <= expected,
            ">": actual > expected, ">=": actual >= expected}[op]


def _locale_compare(op: str, actual: str, expected: Any) -> bool:
    """A locale without a region ("uk") stands for every region of that language ("uk-UA")."""

    def same(wanted: str) -> bool:
        return actual == wanted or ("-" not in wanted and actual.split("-")[0] == wanted)

    if op in ("in", "not_in"):
        hit = any(same(v) for v in expected)
        return hit if op == "in" else not hit
    return same(expected) if op == "=" else not same(expected)
