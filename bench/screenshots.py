"""Screenshots of the post-purchase e-mail (uk and de, desktop and mobile) for docs/.

    python -m bench.screenshots [--out docs/screenshots] [--chromium chromium]

Needs Debian's Chromium (``apt-get install -y chromium``). The e-mails are rendered with
the sample data (``render_all``) and shot in a 4000 px tall window; the empty background
below the e-mail is then cut off (a small PNG reader/writer here: no Pillow needed).
"""
from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

from chalicelib.mail.rendering import render_all

ROOT = Path(__file__).resolve().parents[1]
SHOTS = [(locale, device, width) for locale in ("uk", "de") for device, width in (("desktop", 800), ("mobile", 375))]
TALL = 4000  # px: taller than any e-mail; the empty background below is trimmed


def _chromium(binary: str, profile: str, *args: str) -> subprocess.CompletedProcess:
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", "--virtual-time-budget=3000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


# -- a small PNG reader/writer: enough to cut the empty bottom off Chromium's screenshots --
def _read_png(path: Path) -> tuple[int, int, int, list[bytearray]]:
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"{path}: only 8-bit RGB/RGBA non-interlaced PNGs are handled")
    channels = 4 if color == 6 else 3
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up, corner = previous[x], previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 255
            elif kind == 2:
                line[x] = (line[x] + up) & 255
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[x] = (line[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append(line)
        previous = line
    return width, color, channels, rows


def _write_png(path: Path, width: int, color: int, rows: list[bytearray]) -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(row) for row in rows)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(rows), 8, color, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def trim_bottom(path: Path, margin: int = 8) -> tuple[int, int]:
    """Cut the rows at the bottom that are all the background colour, keeping ``margin``."""
    width, color, channels, rows = _read_png(path)
    background = rows[-1][:channels]
    blank = bytes(background) * width
    last = len(rows)
    while last > 1 and bytes(rows[last - 1]) == blank:
        last -= 1
    rows = rows[:min(len(rows), last + margin)]
    _write_png(path, width, color, rows)
    return width, len(rows)


def take(out_dir: Path, binary: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    taken = []
    with tempfile.TemporaryDirectory(prefix="mail-shots-") as work:
        work_dir = Path(work)
        render_all(work_dir / "previews")
        for locale, device, width in SHOTS:
            html_file = work_dir / "previews" / f"post_purchase.{locale}.html"
            profile = tempfile.mkdtemp(dir=work)
            target = out_dir / f"post_purchase-{locale}-{device}.png"
            _chromium(binary, profile, f"--window-size={width},{TALL}", f"--screenshot={target}", html_file.as_uri())
            width, height = trim_bottom(target)
            taken.append(target)
            print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  {width}×{height}")
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    if not shutil.which(args.chromium):
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 1
    take(args.out, args.chromium)
    return 0


if __name__ == "__main__":
    sys.exit(main())
