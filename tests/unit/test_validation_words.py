"""pydantic's refusals said in plain words, with the field named."""
from __future__ import annotations

from decimal import Decimal
from typing import Optional

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.services.validation import bad_request_from


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    earn_rate: Decimal
    points_validity_months: int = 12
    birthday: Optional[bool] = None


@pytest.mark.parametrize("body, said", [
    ({"earn_rate": "five"}, "earn_rate: should be a number, such as 0.05"),
    ({"earn_rate": "0.05", "points_validity_months": "a year"}, "points_validity_months: should be a whole number"),
    ({"earn_rate": "0.05", "birthday": "maybe"}, "birthday: should be true or false"),
    ({"earn_rate": "0.05", "pointz": 5}, "pointz: unknown field"),
    ({}, "earn_rate: required"),
])
def test_refusals_name_the_field_in_plain_words(body, said):
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate(body)
    error = bad_request_from(caught.value)
    assert str(error) == said
    assert error.field == said.split(":")[0]
