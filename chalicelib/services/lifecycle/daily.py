"""Every due-date job over every shop, at a given moment: the hourly schedule and
the CLI's `jobs run daily`.

Each job is idempotent, so running this by hand, or twice, gives and sends
nothing twice. A job that fails for one shop is logged and the others go on;
the next hour tries it again.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Iterable, Optional

from chalicelib.services.lifecycle import code_release
from chalicelib.services.lifecycle import expiry
from chalicelib.services.lifecycle import expiry_warnings
from chalicelib.services.lifecycle import occasions
from chalicelib.services.lifecycle import program_jobs
from chalicelib.services.lifecycle import tier_risk
from chalicelib.services.flows.dates import start_date_flows
from chalicelib.services.products.recommendations import compute_recommendations
from chalicelib.services.shops.lookup import load_shop


logger = logging.getLogger("loyalty.daily")


def run_daily(deps, now: Optional[datetime] = None, shop_ids: Optional[Iterable[str]] = None) -> dict:
    now = now or deps.clock()
    ids = list(shop_ids) if shop_ids else [shop_id for shop_id, _ in deps.repos.shops().list_ids()]
    report = {}
    for shop_id in ids:
        shop = load_shop(deps, shop_id)
        jobs: dict[str, Callable[[], object]] = {
            # First: the day's win-backs show recommendations from every order up to now.
            "recommendations": lambda: vars(compute_recommendations(deps, shop, now)),
            "expired": lambda: vars(expiry.expire_points(deps, shop_id, now, shop.timezone)),
            "expiry_warnings": lambda: vars(expiry_warnings.send_expiry_warnings(deps, shop, now)),
            "occasions": lambda: vars(occasions.run_occasions(deps, shop, now)),
            "tier_risk": lambda: vars(tier_risk.send_tier_risk_warnings(deps, shop, now)),
            "codes_released": lambda: code_release.release_expired_codes(deps, shop_id, now, shop.timezone),
            "referral_rewards": lambda: vars(program_jobs.reward_referrals(deps, shop, now)),
            "membership_reminders": lambda: vars(program_jobs.remind_members(deps, shop, now)),
            "date_flows": lambda: vars(start_date_flows(deps, shop, now)),
        }
        report[shop_id] = {name: _guarded(shop_id, name, job) for name, job in jobs.items()}
    return {"now": now.isoformat(), "shops": report}


def _guarded(shop_id: str, name: str, job: Callable[[], object]) -> object:
    try:
        return job()
    except Exception as error:
        logger.exception("daily job %s failed for shop %s", name, shop_id)
        return {"error": f"{type(error).__name__}: {error}"}
