"""Local fakes of the Shopify Admin REST API and the WooCommerce REST API (orders only).

They serve order objects in the shapes the platforms document (the same shapes as the
webhook bodies, built by ``devstack.samples`` or read from the recorded
fixtures), filtered and paginated the way the real APIs do: Shopify by ``updated_at_min``
with cursor pages (``Link: <…page_info=…>; rel="next"``, other filters not repeated),
WooCommerce by ``modified_after`` with numbered pages and ``X-WP-TotalPages``.
Both check the credentials and can be told to throttle (429 + Retry-After) once.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class FakePlatform:
    def __init__(self, *, access_token: str = "shpat_test_token", consumer_key: str = "ck_test_key",
                 consumer_secret: str = "cs_test_secret", page_size: int = 2):
        self.shopify_orders: list[dict] = []
        self.woocommerce_orders: list[dict] = []
        # order id → its refunds as ``GET /wp-json/wc/v3/orders/{id}/refunds`` answers them
        self.woocommerce_refunds: dict[str, list[dict]] = {}
        self.access_token, self.consumer_key, self.consumer_secret = access_token, consumer_key, consumer_secret
        self.page_size = page_size  # small, so the tests walk several pages
        self.throttle_next = 0
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                if fake.throttle_next > 0:
                    fake.throttle_next -= 1
                    return self._send(429, {"errors": "Exceeded 2 calls per second for api client."},
                                      {"Retry-After": "0.01"})
                url = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/admin/api/2025-01/orders.json":
                    return self._shopify(query)
                if url.path == "/wp-json/wc/v3/orders":
                    return self._woocommerce(query)
                refunds_of = re.fullmatch(r"/wp-json/wc/v3/orders/([0-9]+)/refunds", url.path)
                if refunds_of:
                    return self._woocommerce_refunds(refunds_of.group(1))
                return self._send(404, {"errors": "Not Found"})

            def _send(self, status, body, headers=None):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)

            def _shopify(self, query):
                if self.headers.get("X-Shopify-Access-Token") != fake.access_token:
                    return self._send(401, {"errors": "[API] Invalid API key or access token"})
                limit = int(query.get("limit", 50))
                if "page_info" in query:
                    if set(query) - {"page_info", "limit", "fields"}:
                        return self._send(400, {"errors": "page_info: other parameters are not allowed"})
                    cursor = json.loads(base64.urlsafe_b64decode(query["page_info"]))
                    since, offset = cursor["since"], cursor["offset"]
                else:
                    since, offset = query.get("updated_at_min"), 0
                    assert query.get("status") == "any" and query.get("order") == "updated_at asc"
                rows = sorted((o for o in fake.shopify_orders
                               if since is None or _moment(o["updated_at"]) >= _moment(since)),
                              key=lambda o: _moment(o["updated_at"]))
                size = min(limit, fake.page_size)
                page = rows[offset:offset + size]
                headers = {}
                if offset + size < len(rows):
                    token = base64.urlsafe_b64encode(json.dumps({"since": since, "offset": offset + size}).encode())
                    headers["Link"] = (f'<http://{self.headers["Host"]}/admin/api/2025-01/orders.json?limit={limit}'
                                       f'&page_info={token.decode()}>; rel="next"')
                return self._send(200, {"orders": page}, headers)

            def _woocommerce_refused(self) -> bool:
                expected = base64.b64encode(f"{fake.consumer_key}:{fake.consumer_secret}".encode()).decode()
                if self.headers.get("Authorization") == f"Basic {expected}":
                    return False
                self._send(401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                                 "data": {"status": 401}})
                return True

            def _woocommerce_refunds(self, order_id):
                if self._woocommerce_refused():
                    return None
                if not any(str(order["id"]) == order_id for order in fake.woocommerce_orders) \
                        and order_id not in fake.woocommerce_refunds:
                    return self._send(404, {"code": "woocommerce_rest_order_invalid_id", "message": "Invalid order ID.",
                                            "data": {"status": 404}})
                return self._send(200, fake.woocommerce_refunds.get(order_id, []))

            def _woocommerce(self, query):
                if self._woocommerce_refused():
                    return None
                assert query.get("dates_are_gmt") == "true"
                since = query.get("modified_after")
                rows = sorted((o for o in fake.woocommerce_orders
                               if since is None or _moment(o["date_modified_gmt"]) > _moment(since)),
                              key=lambda o: _moment(o["date_modified_gmt"]))
                size = min(int(query.get("per_page", 10)), fake.page_size)
                page_number = int(query.get("page", 1))
                pages = max((len(rows) + size - 1) // size, 1)
                page = rows[(page_number - 1) * size:page_number * size]
                return self._send(200, page, {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(pages)})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakePlatform":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
