"""Individual offers: a discount on some products for one customer or for a segment, one
single-use ``GIFT-`` code each, listed among the customer's rewards on the storefront."""
from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.domain.loyalty.codes import REWARD
from chalicelib.domain.loyalty.lapse import day_end
from chalicelib.domain.money import format_minor, to_minor
from chalicelib.errors import BadRequest, Conflict, NotFound
from chalicelib.services.campaigns.segments import iter_segment, validate_segment
from chalicelib.services.loyalty.codes import CodeSpec, issue_codes
from chalicelib.services.shops.lookup import load_shop
from chalicelib.services.validation import bad_request_from
from chalicelib.store import keys
from chalicelib.store.loyalty.offers import OfferRecord

# An offer is issued while the admin waits: past this many customers, a campaign with an offer is the tool.
MAX_OFFER_CUSTOMERS = 5_000
SHOWN_CODES = 100
Sku = Annotated[str, Field(min_length=1, max_length=120)]


class OfferRequest(BaseModel):
    """A product discount for ``email`` (one customer) or ``segment`` (a segment's rules)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=80)]
    product_skus: list[Sku] = Field(min_length=1, max_length=200, description="the products the discount is for")
    discount_percent: Optional[Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]] = None
    amount: Optional[Annotated[Decimal, Field(gt=0, le=Decimal("1000000000"), allow_inf_nan=False)]] = None
    min_order: Annotated[Decimal, Field(ge=0, le=Decimal("1000000000"), allow_inf_nan=False)] = Decimal(0)
    valid_days: Annotated[int, Field(ge=1, le=365, strict=True)] = 14
    email: Optional[Annotated[str, Field(min_length=3, max_length=254)]] = None
    segment: Optional[dict[str, Any]] = Field(None, description="a segment document ({\"rules\": ...})")
    product_titles: Optional[dict[Sku, Annotated[str, Field(min_length=1, max_length=120)]]] = Field(
        None, max_length=200, description="the products' names as the offer's e-mail shows them (SKU → title)")
    url: Optional[Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://")]] = Field(
        None, description="where the e-mail's button leads (a page of the shop; default: the storefront)")


def create_offer(deps, shop_id: str, body: dict) -> dict:
    shop = load_shop(deps, shop_id)
    try:
        request = OfferRequest.model_validate(body)
    except ValidationError as error:
        raise bad_request_from(error) from None
    if (request.discount_percent is None) == (request.amount is None):
        raise BadRequest("discount_percent: give discount_percent or amount (one of them)", field="discount_percent")
    if (request.email is None) == (request.segment is None):
        raise BadRequest("email: give email (one customer) or segment (one of them)", field="email")
    unknown = sorted(set(request.product_titles or {}) - set(request.product_skus))
    if unknown:
        raise BadRequest(f"product_titles: {unknown[0]!r} is not one of product_skus", field="product_titles")
    value_minor = to_minor(request.amount, shop.currency_exponent) if request.amount is not None else 0
    if request.amount is not None and value_minor < 1:
        raise BadRequest("amount: smaller than the currency's smallest unit", field="amount")
    now = deps.clock()
    recipients = _recipients(deps, shop, request, now)
    offer_id = "of_" + secrets.token_hex(6)
    spec = CodeSpec(kind=REWARD, expires_at=day_end(now + timedelta(days=request.valid_days), shop.timezone),
                    discount_percent=request.discount_percent, value_minor=value_minor,
                    min_order_minor=to_minor(request.min_order, shop.currency_exponent),
                    product_skus=tuple(sorted(set(request.product_skus))))
    codes = issue_codes(deps, shop.shop_id, spec, [customer_id for customer_id, _ in recipients], now)
    deps.repos.offers(shop.shop_id).index(request.name.strip(), codes)
    deps.repos.offer_records(shop.shop_id).save(OfferRecord(
        shop.shop_id, offer_id, terms={
            "name": request.name.strip(), "product_skus": list(spec.product_skus),
            "product_titles": dict(request.product_titles or {}),
            "discount_percent": str(request.discount_percent) if request.discount_percent is not None else None,
            "value_minor": value_minor, "min_order_minor": spec.min_order_minor,
            "expires_at": keys.iso(spec.expires_at), "created_at": keys.iso(now), "url": request.url},
        recipients={code.customer_id: code.code for code in codes}))
    emails = dict(recipients)
    return {"offer_id": offer_id, "name": request.name.strip(), "customers": len(codes),
            "product_skus": list(spec.product_skus),
            "discount_percent": str(request.discount_percent) if request.discount_percent is not None else None,
            "amount": format_minor(value_minor, shop.currency_exponent) if value_minor else None,
            "min_order": format_minor(spec.min_order_minor, shop.currency_exponent),
            "expires_at": keys.iso(spec.expires_at), "currency": shop.currency,
            "codes": [{"customer_id": code.customer_id, "email": emails[code.customer_id], "code": code.code}
                      for code in codes[:SHOWN_CODES]]}


def _recipients(deps, shop, request: OfferRequest, now) -> list[tuple[str, Optional[str]]]:
    """(customer id, e-mail) of whom the offer is for: the one customer, or the segment's members."""
    if request.email is not None:
        account = deps.repos.loyalty(shop.shop_id).load_profile(shop.customer_id_for(request.email))
        if account is None or account.redacted:
            raise NotFound("email: no loyalty account for this e-mail in this shop", field="email")
        return [(account.customer_id, account.email)]
    try:
        segment = validate_segment(request.segment)
    except BadRequest as error:
        raise BadRequest(f"segment.{error.message}", field=f"segment.{error.field}") from None
    members: list[tuple[str, Optional[str]]] = []
    for account, _, _ in iter_segment(deps, shop, segment, now):
        if account.redacted:
            continue
        if len(members) == MAX_OFFER_CUSTOMERS:
            raise Conflict(f"segment: more than {MAX_OFFER_CUSTOMERS} customers; send a campaign with an offer "
                           f"to a segment this large", field="segment")
        members.append((account.customer_id, account.email))
    if not members:
        raise Conflict("segment: no customer is in it now", field="segment")
    return members
