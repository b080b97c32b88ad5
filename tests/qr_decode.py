"""Reading a QR code back in the tests: a small PNG reader (zlib and the five PNG filters, grey-scale or palette
at 1 to 8 bits) that gives 8-bit grey pixels, and zxing-cpp (test extras) to decode them."""

from __future__ import annotations

import struct
import zlib

import zxingcpp

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(raw: bytes, stride: int, height: int, bpp: int) -> list[bytearray]:
    rows: list[bytearray] = []
    prev = bytearray(stride)
    pos = 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1 : pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, up_left = prev[i], prev[i - bpp] if i >= bpp else 0
            add = (0, left, up, (left + up) // 2, _paeth(left, up, up_left))[kind]
            line[i] = (line[i] + add) & 0xFF
        rows.append(line)
        prev = line
    return rows


def gray_pixels(samples_rows: list[bytes], width: int, depth: int, palette: list[int] | None) -> bytes:
    """Rows of packed samples (1 channel) as 8-bit grey, palette entries mapped to their grey value."""
    out = bytearray()
    top = (1 << depth) - 1
    for row in samples_rows:
        for x in range(width):
            bit = x * depth
            value = (row[bit // 8] >> (8 - depth - bit % 8)) & top
            out.append(palette[value] if palette is not None else value * 255 // top)
    return bytes(out)


def png_gray(png: bytes) -> tuple[bytes, int, int]:
    """(pixels, width, height) of a grey-scale or palette PNG, one byte per pixel."""
    assert png.startswith(_SIGNATURE), "not a PNG"
    pos, idat, palette = len(_SIGNATURE), b"", None
    width = height = depth = color = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert color in (0, 3) and interlace == 0, f"colour type {color} / interlace not supported"
        elif kind == b"PLTE":
            palette = [(body[i] * 299 + body[i + 1] * 587 + body[i + 2] * 114) // 1000 for i in range(0, len(body), 3)]
        elif kind == b"IDAT":
            idat += body
    stride = (width * depth + 7) // 8
    rows = _unfilter(zlib.decompress(idat), stride, height, max(1, depth // 8))
    return gray_pixels(rows, width, depth, palette if color == 3 else None), width, height


def decode_gray(pixels: bytes, width: int, height: int) -> list[str]:
    """The texts of the QR codes in an 8-bit grey image."""
    view = memoryview(pixels).cast("B", (height, width))
    return [r.text for r in zxingcpp.read_barcodes(view, formats=zxingcpp.BarcodeFormat.QRCode)]


def decode_png(png: bytes) -> list[str]:
    return decode_gray(*png_gray(png))
