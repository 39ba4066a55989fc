"""The small HTML pages the links in our e-mails open (unsubscribe, tracked links, claims, test-recipient
confirmation): one look, no scripts."""
from __future__ import annotations

import html
from typing import Optional

PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
}


def escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def document(locale: str, title: str, body: str, *, shop=None, back_text: Optional[str] = None) -> str:
    """A whole page: ``body`` is HTML already escaped by the caller."""
    shop_line = f'<p class="shop">{escape(shop.name or shop.shop_id)}</p>\n' if shop else ""
    back = (f'<p class="back"><a href="{escape(shop.storefront_url)}" rel="noopener noreferrer">'
            f'{escape(back_text)}</a></p>\n' if shop and shop.storefront_url and back_text else "")
    full_title = f"{title} · {shop.name or shop.shop_id}" if shop else title
    return f"""<!doctype html>
<html lang="{locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{escape(full_title)}</title>
<style>
body {{ margin: 0; background: #f4f5f7; color: #1d2433; font: 16px/1.5 -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }}
main {{ max-width: 28rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }}
.shop {{ margin: 0 0 1rem; font-weight: 600; color: #5b6478; }}
h1 {{ margin: 0 0 .75rem; font-size: 1.4rem; line-height: 1.3; }}
button, .button {{ display: inline-block; margin-top: 1rem; padding: .7rem 1.4rem; font: inherit; border-radius: 8px; cursor: pointer; text-decoration: none; }}
.primary {{ background: #1d2433; color: #fff; border: 1px solid #1d2433; }}
.secondary {{ background: #fff; color: #1d2433; border: 1px solid #b8bfcc; }}
.code {{ margin: 1rem 0 .25rem; padding: .8rem; border: 2px dashed #1f6f54; border-radius: 10px; background: #f5faf7; font: 600 1.5rem/1.2 ui-monospace, Menlo, Consolas, monospace; letter-spacing: .06em; text-align: center; user-select: all; }}
.muted {{ color: #5b6478; font-size: .9rem; }}
.back {{ margin: 1.5rem 0 0; font-size: .9rem; }}
a {{ color: #3056d3; }}
a.primary {{ color: #fff; }}
</style>
</head>
<body>
<main>
{shop_line}{body}{back}</main>
</body>
</html>
"""
