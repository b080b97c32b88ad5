"""The image of a payment QR code (the payload is :mod:`incasso_tui.domain.epc`'s), made with segno.

EPC069-12 asks for error correction level M, which is kept (not raised to a higher level where it would fit), and
a quiet zone of four modules around the code; with the 331 bytes the payload may have, that is at most QR version
13. segno is imported at the first code: a command that makes none does not pay for it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import segno

__all__ = ["QUIET_ZONE", "qr_png", "qr_svg"]

QUIET_ZONE = 4  # modules of white around the code (ISO/IEC 18004)


def _code(payload: str) -> segno.QRCode:
    import segno

    return segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")


def qr_svg(payload: str, *, scale: int = 4) -> str:
    """The code as an SVG document (black modules on white), ``scale`` pixels per module."""
    out = io.BytesIO()
    _code(payload).save(out, kind="svg", scale=scale, border=QUIET_ZONE, xmldecl=False, dark="#000", light="#fff")
    return out.getvalue().decode("utf-8")


def qr_png(payload: str, *, scale: int = 8) -> bytes:
    """The code as a grey-scale PNG, ``scale`` pixels per module (8: a version-13 code is 600 pixels wide)."""
    out = io.BytesIO()
    _code(payload).save(out, kind="png", scale=scale, border=QUIET_ZONE, dark="#000", light="#fff")
    return out.getvalue()
