"""The review webhook (``POST /webhooks/reviews/{shop_id}``): a review app tells us a
review was approved or removed. Signed like the generic webhook (``X-Loyalty-Signature``,
``t=…,v1=…``, 5-minute window); the payload is validated here, errors name the field."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Mapping, Optional

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.domain.loyalty.reviews import Review

from .body import load_json_object
from .context import WebhookContext
from .fields import OptionalTimestamp, Payload, PlatformId, Timestamp, validate
from .signing import verify_generic_signature

SIGNATURE_HEADER = "X-Loyalty-Signature"


class ReviewPayload(Payload):
    id: PlatformId
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    product_id: Optional[PlatformId] = None
    sku: Optional[Annotated[str, Field(min_length=1, max_length=255)]] = None
    status: Literal["approved", "removed"]
    body: Optional[Annotated[str, Field(max_length=100_000)]] = None
    body_length: Optional[Annotated[int, Field(ge=0, le=1_000_000)]] = None
    created_at: OptionalTimestamp = None

    @model_validator(mode="after")
    def _names_product_and_length(self) -> "ReviewPayload":
        if not self.product_id and not self.sku:
            raise PydanticCustomError("product_missing", "give product_id or sku")
        if self.status == "approved" and self.body is None and self.body_length is None:
            raise PydanticCustomError("length_missing", "an approved review needs body or body_length")
        return self


class ReviewWebhook(Payload):
    event_id: Annotated[str, Field(min_length=1, max_length=200)]
    occurred_at: Timestamp
    test: bool = False
    review: ReviewPayload


def parse_review(ctx: WebhookContext, headers: Mapping[str, str], raw_body: bytes,
                 now: datetime) -> tuple[ReviewWebhook, Review]:
    verify_generic_signature(ctx.secrets, raw_body, headers.get(SIGNATURE_HEADER.lower()), now, header=SIGNATURE_HEADER)
    webhook = validate(ReviewWebhook, load_json_object(raw_body))
    payload = webhook.review
    # Characters as a reader counts them: whitespace runs are one, edges none.
    length = len(" ".join(payload.body.split())) if payload.body is not None else int(payload.body_length or 0)
    product = f"product:{payload.product_id}" if payload.product_id else f"sku:{payload.sku}"
    return webhook, Review(payload.id, product, payload.status, length)
