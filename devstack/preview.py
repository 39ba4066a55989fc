"""Render every e-mail template in every locale with sample data, for a look in the browser.

    python -m devstack.preview OUT_DIR

Writes ``<template>.<locale>.html`` and ``.txt`` (subject and preheader on top) and an
``index.html`` linking them all, then prints where the index is.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib.mail.rendering import TemplateError, render_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.preview",
                                     description="Render every template × locale with sample data.")
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="where to write the previews")
    args = parser.parse_args(argv)
    try:
        written = render_all(args.out_dir)
    except TemplateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    index = written[-1].resolve()
    print(f"{len(written) - 1} files written; open {index.as_uri()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
