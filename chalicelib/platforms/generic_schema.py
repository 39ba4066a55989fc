"""The generic webhook format published as JSON Schema (draft 2020-12).

``docs/generic-webhook.schema.json`` is generated from the pydantic models in
``generic``; regenerate it with ``python -m chalicelib.platforms.generic_schema``
after changing them (a unit test fails while the committed file differs).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import TypeAdapter

from .generic import GenericWebhook

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "generic-webhook.schema.json"
SCHEMA_ID = "https://loyalty.example/schemas/generic-webhook.schema.json"


def generic_webhook_json_schema() -> dict:
    generated = TypeAdapter(GenericWebhook).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Generic loyalty webhook",
        "description": (
            "Body of a generic platform webhook. Sign it with the header "
            "X-Loyalty-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.\" + raw body)>; "
            "deliveries more than 300 s old are refused. Amounts are decimal strings in major units."
        ),
        **generated,
    }


def render_schema() -> str:
    return json.dumps(generic_webhook_json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH
    target.write_text(render_schema(), encoding="utf-8")
