"""Field types shared by the platform payload models, and their error report.

Amounts arrive as decimal strings (or JSON numbers, already ``Decimal``) and
stay ``Decimal`` until converted to minor units; they are bounded so that
conversion can never overflow the decimal context. A validation failure
becomes one ``BadRequest`` naming the first failing field by dotted path.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Any, Optional, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from chalicelib.domain.email_address import email_problem
from chalicelib.errors import BadRequest

# A trillion major units is beyond any order; keeps Decimal maths exact.
MAX_AMOUNT = Decimal(10) ** 12
MAX_QUANTITY = 1_000_000

_AMOUNT_TEXT = re.compile(r"-?[0-9]{1,13}(\.[0-9]{1,12})?")
_MAX_FRACTION_DIGITS = 12


class Payload(BaseModel):
    # Platforms add fields all the time; unknown ones are ignored, not errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


def _not_an_amount() -> PydanticCustomError:
    return PydanticCustomError("decimal_amount", "not a decimal amount")


def _amount(value: Any) -> Decimal:
    if isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.fullmatch(text):
            raise _not_an_amount()
        amount = Decimal(text)
    elif isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        amount = Decimal(value)
        if not amount.is_finite() or amount.as_tuple().exponent < -_MAX_FRACTION_DIGITS:
            raise _not_an_amount()
    else:
        raise _not_an_amount()
    if abs(amount) >= MAX_AMOUNT:
        raise PydanticCustomError("amount_too_large", "amount is out of range")
    return amount


def _non_negative_amount(value: Any) -> Decimal:
    amount = _amount(value)
    if amount < 0:
        raise PydanticCustomError("amount_negative", "amount must not be negative")
    return amount


def _amount_schema(pattern: str, minimum: Optional[int]) -> dict:
    number: dict = {"type": "number"}
    if minimum is not None:
        number["minimum"] = minimum
    return {"anyOf": [{"type": "string", "pattern": pattern}, number]}


Amount = Annotated[
    Decimal,
    PlainValidator(_amount),
    WithJsonSchema(_amount_schema(r"^-?[0-9]{1,13}(\.[0-9]{1,12})?$", None)),
]
NonNegativeAmount = Annotated[
    Decimal,
    PlainValidator(_non_negative_amount),
    WithJsonSchema(_amount_schema(r"^[0-9]{1,13}(\.[0-9]{1,12})?$", 0)),
]


Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]


def _platform_id(value: Any) -> str:
    # Shopify ids are integers beyond 2**53, WooCommerce's small integers,
    # other systems use strings: all become str.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= 255:
        return value.strip()
    raise PydanticCustomError("platform_id", "not an id (non-empty string or integer)")


PlatformId = Annotated[
    str,
    PlainValidator(_platform_id),
    WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1, "maxLength": 255}, {"type": "integer"}]}),
]


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _aware(value: datetime) -> datetime:
    """Naive means UTC; offsets become plain ``datetime.timezone`` objects
    rather than pydantic's own tzinfo class."""
    offset = value.utcoffset()
    return value.replace(tzinfo=timezone.utc if offset is None else timezone(offset))


Timestamp = Annotated[datetime, AfterValidator(_aware)]
# Platforms send "" as well as null for a date that is not set.
OptionalTimestamp = Annotated[Optional[Timestamp], BeforeValidator(_blank_to_none)]


def _none_if_invalid(value: Any, handler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


# A field only shown to the customer (a receipt's row): one the platform sent malformed is "not
# stated", never a 400 that would make the platform retry and then drop the whole order.
ShownOnly = WrapValidator(_none_if_invalid)


def _valid_email(value: str) -> str:
    problem = email_problem(value)
    if problem:
        raise PydanticCustomError("email", "not a valid e-mail address ({reason})", {"reason": problem})
    return value.strip()


# Unicode local parts, internationalised domains and plus addressing are addresses too.
EmailAddress = Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"), AfterValidator(_valid_email)]


def checked_email(value: Optional[str], field: str) -> Optional[str]:
    """An address a payload gives for the customer: None when absent, else a valid one, or a
    400 naming ``field`` (the customer would be keyed by an address no mail reaches)."""
    if value is None or not value.strip():
        return None
    problem = email_problem(value)
    if problem:
        raise BadRequest(f"{field}: not a valid e-mail address ({problem})", field=field)
    return value.strip()


def place_from(*addresses: tuple[Optional[str], Optional[str]]) -> Optional["Place"]:
    """The customer's place from (country, province) pairs, the first address naming a country
    (shipping before billing): what their clock is found from (domain/places/zones.py)."""
    from chalicelib.domain.platform_events import Place

    for country, province in addresses:
        if isinstance(country, str) and country.strip():
            return Place(country.strip()[:80], province.strip()[:40] if isinstance(province, str) else "")
    return None


def first_present(*values: Optional[str]) -> Optional[str]:
    """The first value that is not None or blank: platforms send "" for unset."""
    return next((value for value in values if value and value.strip()), None)


def _reason(error: dict) -> str:
    message = error["msg"]
    if error["type"] == "value_error" and message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return message[:1].lower() + message[1:]


def bad_request_from(exc: ValidationError) -> BadRequest:
    # Only the first error: one clear fix at a time. Inputs are left out of
    # the message since they may be personal data.
    first = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    path = ".".join(str(part) for part in first["loc"]) or "body"
    return BadRequest(f"{path}: {_reason(first)}", field=path)


ModelT = TypeVar("ModelT", bound=BaseModel)


def validate(model: type[ModelT], data: Any) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise bad_request_from(exc) from None



REFERRAL_KEYS = frozenset({"ref", "referral", "referral_code", "_ref", "_referral_code"})


def referral_from_pairs(pairs) -> Optional[str]:
    """A referral code among name/value pairs (Shopify note attributes, WooCommerce meta data)."""
    for name, value in pairs:
        if isinstance(name, str) and name.strip().lower() in REFERRAL_KEYS and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def referral_from_url(url: Optional[str]) -> Optional[str]:
    """``?ref=`` of a landing page (absolute or a path)."""
    from urllib.parse import parse_qsl, urlsplit

    if not url:
        return None
    try:
        query = urlsplit(url).query
    except ValueError:
        return None
    return referral_from_pairs(parse_qsl(query))
