"""Which admin route each role may call: the one place role checks live.

Every route guarded by ``admin_only`` (app.py) is a row here, keyed by its method and path as
app.py declares it; the row names the roles allowed. The operator (the admin token) may call
every admin route; a route missing from the table is the operator's alone (deny by default
for workspace keys). A test holds the table and app.py's routes together and calls every row
through HTTP in every role; docs/security.md shows it as a table (``python -m
chalicelib.api.permissions`` prints it).

To add a route: add its row. Shop settings, keys, money and platform credentials need
``OWNERS``; templates, segments, campaigns and reading need ``EVERYONE``.
"""
from __future__ import annotations

from chalicelib.domain.access.roles import MARKETER, OPERATOR, OWNER

EVERYONE = frozenset({OPERATOR, OWNER, MARKETER})
OWNERS = frozenset({OPERATOR, OWNER})
OPERATOR_ONLY = frozenset({OPERATOR})

_SHOP = "/admin/shops/{shop_id}"

PERMISSIONS: dict[tuple[str, str], frozenset[str]] = {
    # shops: the settings hold the sender, the webhook secret and the platform's API credentials
    ("GET", "/admin/shops"): EVERYONE,  # a shop's key sees only its own shop
    ("GET", _SHOP): EVERYONE,
    ("PUT", _SHOP): OWNERS,
    ("GET", f"{_SHOP}/webhook-health"): OWNERS,
    ("POST", f"{_SHOP}/webhook-secrets/retire"): OWNERS,
    # erasing a whole shop is the operator's (Shopify's shop/redact does it too)
    ("DELETE", _SHOP): OPERATOR_ONLY,
    ("GET", f"{_SHOP}/erasure"): OPERATOR_ONLY,
    # who the shop sends as: seen by everyone, changed by owners; test recipients confirm themselves
    ("GET", f"{_SHOP}/sender-domains"): EVERYONE,
    ("POST", f"{_SHOP}/sender-domains"): OWNERS,
    ("GET", f"{_SHOP}/sender-domains/{{domain}}"): EVERYONE,
    ("DELETE", f"{_SHOP}/sender-domains/{{domain}}"): OWNERS,
    ("GET", f"{_SHOP}/test-recipients"): EVERYONE,
    ("POST", f"{_SHOP}/test-recipients"): EVERYONE,
    ("DELETE", f"{_SHOP}/test-recipients/{{email}}"): EVERYONE,
    # keys
    ("POST", f"{_SHOP}/api-keys"): OWNERS,
    ("GET", f"{_SHOP}/api-keys"): OWNERS,
    ("DELETE", f"{_SHOP}/api-keys/{{key_id}}"): OWNERS,
    ("POST", f"{_SHOP}/admin-keys"): OWNERS,
    ("GET", f"{_SHOP}/admin-keys"): OWNERS,
    ("DELETE", f"{_SHOP}/admin-keys/{{key_id}}"): OWNERS,
    # customers: reading is everyone's, changing a balance is money
    ("GET", f"{_SHOP}/customers/{{email}}"): EVERYONE,
    ("GET", f"{_SHOP}/customers/{{email}}/history"): EVERYONE,
    ("GET", f"{_SHOP}/customers"): EVERYONE,
    ("GET", f"{_SHOP}/customers/{{email}}/timeline"): EVERYONE,
    ("POST", f"{_SHOP}/customers/{{email}}/adjustments"): OWNERS,
    # personal data: everything stored about a customer, and the platform's data requests
    ("GET", f"{_SHOP}/customers/{{email}}/export"): OWNERS,
    ("GET", f"{_SHOP}/data-requests"): OWNERS,
    ("GET", f"{_SHOP}/data-requests/{{request_id}}"): OWNERS,
    ("GET", f"{_SHOP}/withdrawals"): OWNERS,
    ("POST", f"{_SHOP}/withdrawals/{{withdrawal_id}}/{{action}}"): OWNERS,
    # the program's rules: seen and previewed by everyone, changed by owners
    ("GET", f"{_SHOP}/program"): EVERYONE,
    ("POST", f"{_SHOP}/program/preview"): EVERYONE,
    ("PUT", f"{_SHOP}/program"): OWNERS,
    ("GET", f"{_SHOP}/dashboard"): EVERYONE,
    # the rewards catalog: points are money, so owners change it
    ("GET", f"{_SHOP}/rewards"): EVERYONE,
    ("GET", f"{_SHOP}/rewards/{{reward_id}}"): EVERYONE,
    ("PUT", f"{_SHOP}/rewards/{{reward_id}}"): OWNERS,
    ("DELETE", f"{_SHOP}/rewards/{{reward_id}}"): OWNERS,
    # templates
    ("GET", "/admin/sample-customers"): EVERYONE,
    ("GET", f"{_SHOP}/templates"): EVERYONE,
    ("GET", f"{_SHOP}/templates/{{template}}"): EVERYONE,
    ("PUT", f"{_SHOP}/templates/{{template}}"): EVERYONE,
    ("DELETE", f"{_SHOP}/templates/{{template}}"): EVERYONE,
    ("GET", f"{_SHOP}/templates/{{template}}/texts/{{locale}}"): EVERYONE,
    ("PUT", f"{_SHOP}/templates/{{template}}/texts/{{locale}}"): EVERYONE,
    ("DELETE", f"{_SHOP}/templates/{{template}}/texts/{{locale}}"): EVERYONE,
    ("POST", f"{_SHOP}/templates/{{template}}/preview"): EVERYONE,
    ("POST", f"{_SHOP}/templates/{{template}}/test-send"): EVERYONE,
    ("GET", f"{_SHOP}/templates/{{template}}/revisions"): EVERYONE,
    ("GET", f"{_SHOP}/templates/{{template}}/revisions/{{revision}}"): EVERYONE,
    ("POST", f"{_SHOP}/templates/{{template}}/revisions/{{revision}}/rollback"): EVERYONE,
    # segments and campaigns
    ("POST", f"{_SHOP}/segments/preview"): EVERYONE,
    ("POST", f"{_SHOP}/campaigns"): EVERYONE,
    ("POST", f"{_SHOP}/campaigns/preview"): EVERYONE,
    ("GET", f"{_SHOP}/segments"): EVERYONE,
    ("GET", f"{_SHOP}/segments/{{segment_id}}"): EVERYONE,
    ("PUT", f"{_SHOP}/segments/{{segment_id}}"): EVERYONE,
    ("DELETE", f"{_SHOP}/segments/{{segment_id}}"): EVERYONE,
    ("POST", f"{_SHOP}/campaign-preview"): EVERYONE,
    ("POST", f"{_SHOP}/campaign-test-send"): EVERYONE,
    ("POST", f"{_SHOP}/offers"): EVERYONE,  # a product discount for one customer or a segment
    ("GET", f"{_SHOP}/offers/{{offer_id}}"): EVERYONE,  # the offer's terms and how far its e-mail went
    ("POST", f"{_SHOP}/offers/{{offer_id}}/sends"): EVERYONE,  # e-mail it to its customers, now or at send_at
    ("GET", f"{_SHOP}/campaigns"): EVERYONE,
    ("GET", f"{_SHOP}/campaigns/{{campaign_id}}"): EVERYONE,
    ("GET", f"{_SHOP}/campaigns/{{campaign_id}}/stats"): EVERYONE,
    ("POST", f"{_SHOP}/campaigns/{{campaign_id}}/{{action}}"): EVERYONE,
    ("GET", f"{_SHOP}/flows/stats"): EVERYONE,
    ("GET", f"{_SHOP}/flows/{{template}}/stats"): EVERYONE,
    ("PUT", f"{_SHOP}/flows/{{template}}/switch"): EVERYONE,  # which automated e-mails go out: the marketer's
    # multi-step flows
    ("GET", f"{_SHOP}/flow-definitions"): EVERYONE,
    ("GET", f"{_SHOP}/flow-definitions/{{flow_id}}"): EVERYONE,
    ("PUT", f"{_SHOP}/flow-definitions/{{flow_id}}"): EVERYONE,
    # products and recommendations: read by everyone; what the catalog says of a product and the
    # job's run by owners
    ("GET", f"{_SHOP}/products"): EVERYONE,
    ("GET", f"{_SHOP}/products/{{product_id}}"): EVERYONE,
    ("PUT", f"{_SHOP}/products/{{product_id}}"): OWNERS,
    ("POST", f"{_SHOP}/recommendations/run"): OWNERS,
    ("GET", f"{_SHOP}/customers/{{email}}/recommendations"): EVERYONE,
}


def allowed_roles(method: str, route: str) -> frozenset[str]:
    """The roles that may call ``method route`` (``route`` as declared, e.g. ``/admin/shops/{shop_id}``)."""
    return PERMISSIONS.get((method.upper(), route), OPERATOR_ONLY)


def markdown_table() -> str:
    """The table as docs/security.md shows it."""
    lines = ["| route | operator (admin token) | owner key | marketer key |", "|---|:-:|:-:|:-:|"]
    for (method, route), allowed in PERMISSIONS.items():
        marks = " | ".join("yes" if role in allowed else "no" for role in (OPERATOR, OWNER, MARKETER))
        lines.append(f"| `{method} {route}` | {marks} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
