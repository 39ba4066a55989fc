"""Creates the DynamoDB table from infra/table.json, the definition infra deploys."""
from __future__ import annotations

import json
from pathlib import Path

TABLE_DEFINITION = Path(__file__).resolve().parent.parent / "infra" / "table.json"


def table_definition() -> dict:
    return json.loads(TABLE_DEFINITION.read_text())


def create_table(dynamodb_client, table_name: str) -> None:
    """Create the table (and its TTL setting) unless it exists already."""
    definition = table_definition()
    ttl = definition.pop("TimeToLiveSpecification", None)
    definition["TableName"] = table_name
    try:
        dynamodb_client.create_table(**definition)
    except dynamodb_client.exceptions.ResourceInUseException:
        return
    dynamodb_client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1})
    if ttl:
        dynamodb_client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
