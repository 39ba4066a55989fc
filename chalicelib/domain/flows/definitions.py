"""A flow is data a shop owns: a trigger and steps (wait, condition, send, exit).

Validated as hostile input (every field named in the error); a run keeps the steps it started
with, so editing a flow never shifts a customer who is half-way through it.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.domain.flows.dates import CALENDAR, DATE_FIELDS, MAX_OFFSET_DAYS, SIGNED_UP, parse_calendar_date

TRIGGERS = ("first_order", "paid_order", "tier_reached", "points_earned", "checkout_abandoned",
            "shipment_delivered", "date")
# "date" flows are started by the daily job on a day of each customer's calendar (domain/flows/dates.py).
CHECKS = ("ordered_since_start", "not_ordered_since_start", "points_above", "in_segment", "checkout_open")
PRESETS = ("second_purchase", "review_request", "checkout_reminder", "checkout_last_call", "custom")
MAX_STEPS = 20
MAX_WAIT_HOURS = 24 * 365

FlowId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class FlowError(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    kind: Literal[TRIGGERS]  # type: ignore[valid-type]
    # points_earned: at least this many in one order; tier_reached: this tier's name.
    min_points: Optional[Annotated[int, Field(ge=1, le=10_000_000)]] = None
    tier: Optional[Annotated[str, Field(min_length=1, max_length=60)]] = None
    # date: which day of the customer's (or the shop's) calendar, moved by offset_days (negative: before).
    date_field: Optional[Literal[DATE_FIELDS]] = None  # type: ignore[valid-type]
    offset_days: Optional[Annotated[int, Field(ge=-MAX_OFFSET_DAYS, le=MAX_OFFSET_DAYS)]] = None
    every_year: Optional[bool] = None  # signed_up: the anniversary (default) or once after sign-up
    calendar_date: Optional[Annotated[str, Field(max_length=10)]] = None  # calendar: YYYY-MM-DD or MM-DD
    local_hour: Optional[Annotated[int, Field(ge=0, le=23)]] = None  # the hour of the customer's day it starts (9)

    @model_validator(mode="after")
    def _date_fields(self) -> "Trigger":
        date_only = {"date_field": self.date_field, "offset_days": self.offset_days,
                     "every_year": self.every_year, "calendar_date": self.calendar_date,
                     "local_hour": self.local_hour}
        if self.kind != "date":
            given = [name for name, value in date_only.items() if value is not None]
            if given:
                raise ValueError(f"{given[0]}: only a date trigger takes it")
            return self
        if self.date_field is None:
            raise ValueError(f"date_field: a date trigger names its day: one of {', '.join(DATE_FIELDS)}")
        if (self.date_field == CALENDAR) != (self.calendar_date is not None):
            raise ValueError("calendar_date: a calendar trigger needs calendar_date (YYYY-MM-DD or MM-DD), "
                             "and only a calendar trigger takes one")
        if self.calendar_date is not None:
            try:
                parse_calendar_date(self.calendar_date)
            except ValueError:
                raise ValueError("calendar_date: not a day: YYYY-MM-DD (once) or MM-DD (every year)") from None
        if self.every_year is not None and self.date_field != SIGNED_UP:
            raise ValueError("every_year: only a signed_up trigger chooses (birthdays come every year, "
                             "a membership ends once, a calendar_date says it)")
        if self.date_field == SIGNED_UP and self.every_year is False and (self.offset_days or 0) < 0:
            raise ValueError("offset_days: nothing starts before the customer signed up")
        return self


class WaitStep(_Strict):
    type: Literal["wait"]
    hours: Annotated[int, Field(ge=0, le=MAX_WAIT_HOURS)] = 0
    days: Annotated[int, Field(ge=0, le=365)] = 0

    @model_validator(mode="after")
    def _some_time(self) -> "WaitStep":
        if self.hours + self.days * 24 <= 0:
            raise ValueError("a wait needs hours or days above 0")
        if self.hours + self.days * 24 > MAX_WAIT_HOURS:
            raise ValueError("a wait is at most a year")
        return self

    @property
    def total_hours(self) -> int:
        return self.hours + self.days * 24


class ConditionStep(_Strict):
    """Go on only while the check holds; otherwise the customer leaves the flow."""

    type: Literal["condition"]
    check: Literal[CHECKS]  # type: ignore[valid-type]
    points: Optional[Annotated[int, Field(ge=0, le=100_000_000)]] = None  # points_above
    segment: Optional[dict[str, Any]] = None  # in_segment: a segment document (domain/campaigns/segments)

    @model_validator(mode="after")
    def _arguments(self) -> "ConditionStep":
        if self.check == "points_above" and self.points is None:
            raise ValueError("points_above needs 'points'")
        if self.check == "in_segment":
            from chalicelib.domain.campaigns.segments import SegmentInvalid, parse_segment

            try:
                parse_segment(self.segment)
            except SegmentInvalid as error:
                raise ValueError(f"segment: {error}") from None
        return self


class Offer(_Strict):
    """A single-use code made for the customer when the step sends (exactly once, with the send)."""

    discount_percent: Optional[Annotated[Decimal, Field(gt=0, le=100)]] = None
    value: Optional[Annotated[Decimal, Field(gt=0, le=Decimal(10) ** 9)]] = None  # in the shop's currency
    free_shipping: bool = False
    valid_days: Annotated[int, Field(ge=1, le=365)] = 14
    min_order: Optional[Annotated[Decimal, Field(ge=0, le=Decimal(10) ** 9)]] = None

    @model_validator(mode="after")
    def _gives_something(self) -> "Offer":
        if not (self.discount_percent or self.value or self.free_shipping):
            raise ValueError("an offer gives discount_percent, value or free_shipping")
        if self.discount_percent and self.value:
            raise ValueError("an offer gives discount_percent or value, not both")
        return self


class Copy(_Strict):
    subject: Text
    heading: Text
    body: Annotated[str, Field(min_length=1, max_length=4000)]
    cta: Annotated[str, Field(min_length=1, max_length=80)]


class SendStep(_Strict):
    type: Literal["send"]
    # The words: a preset from the catalogs (every locale), or the shop's own per locale.
    preset: Literal[PRESETS] = "custom"  # type: ignore[valid-type]
    copy_by_locale: Optional[dict[Annotated[str, Field(pattern=r"^(en|de|ru|uk)$")], Copy]] = Field(None, alias="copy")
    offer: Optional[Offer] = None
    # Where the button leads: the shop, the checkout's recovery URL, the review page.
    link: Literal["shop", "checkout", "review"] = "shop"
    recommendations: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _has_words(self) -> "SendStep":
        if self.preset == "custom" and not self.copy_by_locale:
            raise ValueError("a custom send step needs 'copy' per locale, e.g. {\"en\": {subject, heading, body, cta}}")
        return self


class ExitStep(_Strict):
    type: Literal["exit"]


Step = Annotated[Union[WaitStep, ConditionStep, SendStep, ExitStep], Field(discriminator="type")]


class FlowDefinition(_Strict):
    flow_id: FlowId
    name: Annotated[str, Field(min_length=1, max_length=120)]
    enabled: bool = True
    trigger: Trigger
    steps: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS)]

    @model_validator(mode="after")
    def _sends_something(self) -> "FlowDefinition":
        if not any(isinstance(step, SendStep) for step in self.steps):
            raise ValueError("a flow needs at least one send step")
        if self.trigger.kind != "checkout_abandoned" and any(
                isinstance(step, SendStep) and step.link == "checkout" for step in self.steps):
            raise ValueError("only a checkout_abandoned flow can link to the checkout")
        return self


_NAMED_IN_MESSAGES = frozenset({"date_field", "offset_days", "every_year", "calendar_date", "local_hour", "segment"})


def parse_flow(document: Any) -> FlowDefinition:
    """A flow document → the definition, or ``FlowError`` naming the first bad field."""
    if not isinstance(document, dict):
        raise FlowError("body", "a flow is a JSON object")
    try:
        return FlowDefinition.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        path = ".".join(str(part) for part in first["loc"]) or "body"
        message = first["msg"].removeprefix("Value error, ")
        named, _, rest = message.partition(": ")
        if rest and path != "body" and named in _NAMED_IN_MESSAGES:  # the check names the field it is about
            path, message = f"{path}.{named}", rest
        raise FlowError(path, message[:1].lower() + message[1:]) from None


def flow_document(flow: FlowDefinition) -> dict:
    return flow.model_dump(mode="json", by_alias=True, exclude_none=True)


def default_flows() -> list[FlowDefinition]:
    """What every shop starts with: the second purchase and the review request after delivery."""
    return [
        parse_flow({
            "flow_id": "second-purchase", "name": "Second purchase", "trigger": {"kind": "first_order"},
            "steps": [{"type": "wait", "days": 14},
                      {"type": "condition", "check": "not_ordered_since_start"},
                      {"type": "send", "preset": "second_purchase", "recommendations": True,
                       "offer": {"discount_percent": "10", "valid_days": 14}}]}),
        parse_flow({
            "flow_id": "review-request", "name": "Review after delivery", "trigger": {"kind": "shipment_delivered"},
            "steps": [{"type": "wait", "days": 3},
                      {"type": "send", "preset": "review_request", "link": "review"}]}),
        parse_flow({
            "flow_id": "abandoned-checkout", "name": "Abandoned checkout", "trigger": {"kind": "checkout_abandoned"},
            "steps": [{"type": "wait", "hours": 1},
                      {"type": "condition", "check": "checkout_open"},
                      {"type": "send", "preset": "checkout_reminder", "link": "checkout"},
                      {"type": "wait", "hours": 23},
                      {"type": "condition", "check": "checkout_open"},
                      {"type": "send", "preset": "checkout_last_call", "link": "checkout"}]}),
    ]
