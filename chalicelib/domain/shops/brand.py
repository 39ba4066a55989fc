"""A shop's brand: logo, colours, font, footer address and social links, shown by every e-mail.

The defaults are the look of the default templates, so a shop that sets nothing gets exactly
what it got before brands existed. Values are checked where they come in (the shop settings);
the few fixed lists (fonts, networks) live here so the settings, the contexts and the
workspace agree on them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_HTTPS_URL = re.compile(r"^https://[^/\s\"'<>]+/[^\s\"'<>]*$")

# Web-safe stacks only: a mail client shows what the reader's system has. The key is what a
# shop stores; the stack is what the e-mail's CSS says.
FONT_STACKS = {
    "system": "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
    "arial": "Arial, 'Helvetica Neue', Helvetica, sans-serif",
    "verdana": "Verdana, Geneva, Tahoma, sans-serif",
    "trebuchet": "'Trebuchet MS', 'Lucida Grande', 'Lucida Sans Unicode', Tahoma, sans-serif",
    "georgia": "Georgia, 'Times New Roman', Times, serif",
    "palatino": "'Palatino Linotype', Palatino, 'Book Antiqua', Georgia, serif",
    "times": "'Times New Roman', Times, Georgia, serif",
}
FONT_NAMES = tuple(FONT_STACKS)

# network → the hosts its profile links live on (a link elsewhere is refused: a "facebook" icon
# must not lead to a phishing page).
SOCIAL_NETWORKS = {
    "instagram": ("instagram.com",),
    "facebook": ("facebook.com", "fb.com"),
    "tiktok": ("tiktok.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "x": ("x.com", "twitter.com"),
    "pinterest": ("pinterest.com",),
    "linkedin": ("linkedin.com",),
    "telegram": ("t.me", "telegram.me"),
}
SOCIAL_LABELS = {"instagram": "Instagram", "facebook": "Facebook", "tiktok": "TikTok", "youtube": "YouTube",
                 "x": "X", "pinterest": "Pinterest", "linkedin": "LinkedIn", "telegram": "Telegram"}
MAX_ADDRESS_LINES = 4
MAX_ADDRESS_LINE_CHARS = 120

DEFAULT_PRIMARY = "#1f6f54"
DEFAULT_ACCENT = "#14213d"
DEFAULT_BACKGROUND = "#f4f1ec"
DEFAULT_TEXT = "#1f2933"
# Dark mode lightens the default green (button and links) so it keeps its contrast.
_DEFAULT_DARK = {"button": "#2f9a74", "link": "#7fd1ae"}


@dataclass(frozen=True)
class SocialLink:
    network: str
    url: str

    @property
    def label(self) -> str:
        return SOCIAL_LABELS[self.network]


@dataclass(frozen=True)
class Brand:
    logo_url: Optional[str] = None
    primary_color: str = DEFAULT_PRIMARY  # buttons, links, highlighted figures
    accent_color: str = DEFAULT_ACCENT  # headings and the shop's name
    background_color: str = DEFAULT_BACKGROUND  # around the white card
    text_color: str = DEFAULT_TEXT  # body copy
    font: str = "system"
    address_lines: tuple[str, ...] = ()
    social_links: tuple[SocialLink, ...] = ()

    def checked(self) -> "Brand":
        """This brand with any value that breaks the rules replaced by the default (or left out):
        the settings refuse such values, this holds for a brand made any other way."""
        def color(value: str, default: str) -> str:
            return value.lower() if isinstance(value, str) and HEX_COLOR.match(value) else default

        logo = self.logo_url if isinstance(self.logo_url, str) and _HTTPS_URL.match(self.logo_url) else None
        return Brand(logo_url=logo, primary_color=color(self.primary_color, DEFAULT_PRIMARY),
                     accent_color=color(self.accent_color, DEFAULT_ACCENT),
                     background_color=color(self.background_color, DEFAULT_BACKGROUND),
                     text_color=color(self.text_color, DEFAULT_TEXT),
                     font=self.font if self.font in FONT_STACKS else "system",
                     address_lines=tuple(str(line) for line in self.address_lines)[:MAX_ADDRESS_LINES],
                     social_links=tuple(link for link in self.social_links
                                        if link.network in SOCIAL_NETWORKS and network_of_url(link.url) == link.network))

    @property
    def font_stack(self) -> str:
        return FONT_STACKS[self.font]

    def dark_mode(self) -> dict:
        """The button and link colours on a dark background."""
        if self.primary_color.lower() == DEFAULT_PRIMARY:
            return dict(_DEFAULT_DARK)
        return {"button": self.primary_color.lower(), "link": lighten(self.primary_color, 0.45)}


def lighten(color: str, share: float) -> str:
    """``color`` mixed with white (``share`` of white), as #rrggbb."""
    channels = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c + (255 - c) * share):02x}" for c in channels)


def network_of_url(url: str) -> Optional[str]:
    """The network whose hosts ``url`` lives on (None: none of ours)."""
    match = re.match(r"^https://([^/?#:@\s]+)(?:[/?#][^\s\"'<>]*)?$", url)
    if not match:
        return None
    host = match.group(1).lower().rstrip(".")
    for network, hosts in SOCIAL_NETWORKS.items():
        if any(host == h or host.endswith("." + h) for h in hosts):
            return network
    return None
