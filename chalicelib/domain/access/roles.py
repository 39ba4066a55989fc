"""Who may do what in the admin API: the principals' roles, and who may grant which.

- ``operator``: the admin token. Every shop, every action (creating shops included).
- ``owner``: a shop's workspace key for the people who run the shop. Everything for that one
  shop: its settings (sender, webhook secret, platform credentials), its keys, money
  (manual adjustments, withdrawals, the program's rules), besides what a marketer does.
- ``marketer``: a shop's workspace key for marketing. Templates, segments, campaigns; reads
  the dashboard, customers and the program (and previews a change to it).

Which route needs which role is the table in ``chalicelib.api.permissions``.
"""
from __future__ import annotations

OPERATOR = "operator"
OWNER = "owner"
MARKETER = "marketer"

WORKSPACE_KEY_ROLES = (OWNER, MARKETER)  # what a per-shop key can carry
DEFAULT_KEY_ROLE = MARKETER  # a key issued without a role, or stored before roles existed: least power


def key_role(stored: str | None) -> str:
    """The role of a stored workspace key; keys from before roles existed are marketers' keys."""
    return stored if stored in WORKSPACE_KEY_ROLES else DEFAULT_KEY_ROLE


def may_grant(granter: str, role: str) -> bool:
    """Whether a principal in role ``granter`` may issue a workspace key carrying ``role``."""
    return role in WORKSPACE_KEY_ROLES and granter in (OPERATOR, OWNER)
