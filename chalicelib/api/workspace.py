"""The workspace's page and its bundled assets (built from workspace/ into chalicelib/static/).

The page itself holds no data and needs no session: it signs in through
``POST /admin/session`` and then calls the JSON admin API with the cookie.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
ASSETS = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
# Styles: CodeMirror and the charts set inline styles. Frames: the e-mail preview is a
# sandboxed srcdoc frame (no scripts) that shows remote images, as a mail client would.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src * data:; font-src * data:; frame-src 'self' about:; connect-src 'self'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class Asset:
    status: int
    body: str
    headers: dict


def page() -> Asset:
    return Asset(200, _page_html(), {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                                     "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                                     "X-Frame-Options": "DENY", **_SECURITY_HEADERS})


def asset(name: str) -> Asset:
    if name not in ASSETS:
        return Asset(404, "not found", {"Content-Type": "text/plain; charset=utf-8", **_SECURITY_HEADERS})
    return Asset(200, _read(name), {"Content-Type": ASSETS[name], "Cache-Control": "public, max-age=31536000, immutable",
                                    **_SECURITY_HEADERS})


@lru_cache(maxsize=None)
def _read(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


# The empty icon: without one the browser asks /favicon.ico, a route the API does not have (its 403
# was a console error on every load of the page).
@lru_cache(maxsize=None)
def _page_html() -> str:
    version = {name: hashlib.sha256(_read(name).encode()).hexdigest()[:12] for name in ASSETS}
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loyalty mail · workspace</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="admin/assets/app.css?v={version['app.css']}">
</head>
<body>
<div id="app"><noscript>The workspace needs JavaScript.</noscript></div>
<script src="admin/assets/app.js?v={version['app.js']}"></script>
</body>
</html>
"""
