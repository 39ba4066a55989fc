"""Campaigns: one item per campaign under its shop, versioned; scheduled and
sending ones are also in the due index, ordered by when they are next due."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain.campaigns.campaigns import SCHEDULED, SENDING, Campaign
from chalicelib.store import keys
from chalicelib.store.models import CampaignItem, over_version, stored_version


class CampaignChanged(Exception):
    """Another request or sender changed the campaign since it was read."""


class CampaignStore:
    def __init__(self, shop_id: str):
        self.shop_id = shop_id

    def get(self, campaign_id: str) -> Optional[Campaign]:
        try:
            item = CampaignItem.get(keys.shop_pk(self.shop_id), keys.campaign_sk(campaign_id), consistent_read=True)
        except DoesNotExist:
            return None
        return _campaign(item)

    def list(self) -> list[Campaign]:
        return [_campaign(item) for item in CampaignItem.query(
            keys.shop_pk(self.shop_id), CampaignItem.sk.startswith(keys.campaign_sk("")))]

    def save(self, campaign: Campaign) -> None:
        try:
            over_version(_item(campaign), campaign.version).save()
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise CampaignChanged(campaign.campaign_id) from error
            raise
        campaign.version += 1


def due_campaigns(now: datetime) -> Iterable[tuple[str, str]]:
    """(shop_id, campaign_id) of campaigns due by ``now``: one Query of the due index."""
    for item in CampaignItem.by_due_day.query(keys.CAMPAIGNS_DUE_PK, CampaignItem.gsi1sk <= keys.iso(now) + "~"):
        _, shop_id = item.pk.split("#", 1)
        yield shop_id, item.sk.split("#", 1)[1]


def _item(campaign: Campaign) -> CampaignItem:
    state = {
        "name": campaign.name, "template": campaign.template, "segment": campaign.segment,
        "send_at": keys.iso(campaign.send_at), "data": campaign.data, "offer": campaign.offer,
        "holdout_percent": campaign.holdout_percent, "variants": campaign.variants, "ab_test": campaign.ab_test,
        "ab_phase": campaign.ab_phase, "winner": campaign.winner,
        **{name: (value.isoformat() if name == "local_send_at" else keys.iso(value))
           for name in ("local_send_at", "released_until", "pass_until", "next_release")
           if (value := getattr(campaign, name)) is not None},
        "shard": campaign.shard,
        "cursor": campaign.cursor, "queued": campaign.queued, "pages": campaign.pages,
        "lease_until": keys.iso(campaign.lease_until) if campaign.lease_until else None,
        "created_at": keys.iso(campaign.created_at) if campaign.created_at else None,
        "finished_at": keys.iso(campaign.finished_at) if campaign.finished_at else None,
    }
    item = CampaignItem(keys.shop_pk(campaign.shop_id), keys.campaign_sk(campaign.campaign_id),
                        status=campaign.status, state=state)
    next_due = campaign.send_at if campaign.status == SCHEDULED else campaign.lease_until
    if campaign.status in (SCHEDULED, SENDING):
        item.gsi1pk = keys.CAMPAIGNS_DUE_PK
        item.gsi1sk = f"{keys.iso(next_due or campaign.send_at)}#{campaign.shop_id}#{campaign.campaign_id}"
    return item


def _campaign(item: CampaignItem) -> Campaign:
    state = item.state
    _, shop_id = item.pk.split("#", 1)

    def moment(name):
        return keys.parse_iso(state[name]) if state.get(name) else None

    return Campaign(
        campaign_id=item.sk.split("#", 1)[1], shop_id=shop_id, name=state["name"], template=state["template"],
        segment=state["segment"], send_at=moment("send_at"), data=state.get("data") or {}, offer=state.get("offer"),
        holdout_percent=int(state.get("holdout_percent") or 0), variants=list(state.get("variants") or []),
        ab_test=_plain_numbers(state.get("ab_test")), ab_phase=state.get("ab_phase"),
        winner=_plain_numbers(state.get("winner")), status=item.status,
        local_send_at=datetime.fromisoformat(state["local_send_at"]) if state.get("local_send_at") else None,
        released_until=moment("released_until"), pass_until=moment("pass_until"), next_release=moment("next_release"),
        shard=int(state.get("shard", 0)), cursor=state.get("cursor"), queued=int(state.get("queued", 0)),
        pages=int(state.get("pages", 0)), lease_until=moment("lease_until"), created_at=moment("created_at"),
        finished_at=moment("finished_at"), version=stored_version(item))


def _plain_numbers(value):
    """JSON state read back: whole numbers as int (an A/B test's percent, hours, variant index)."""
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
