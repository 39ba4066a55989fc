"""MRML's Rust panics become a named refusal, never a 500 or a dead worker."""
from __future__ import annotations

import pytest

from chalicelib.mail import compiler


class PanicException(BaseException):
    """pyo3's exception for a Rust panic has this name and derives from BaseException."""


def test_a_panic_inside_mrml_is_a_value_error(monkeypatch):
    def panicking(*_args, **_kwargs):
        raise PanicException("start byte index 19 is not a char boundary")

    monkeypatch.setattr(compiler, "mjml2html", panicking)
    with pytest.raises(ValueError, match="could not be compiled"):
        compiler.compile_mjml("<mjml><mj-body></mj-body></mjml>")


def test_other_base_exceptions_pass_through(monkeypatch):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compiler, "mjml2html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        compiler.compile_mjml("<mjml><mj-body></mj-body></mjml>")
