"""Real test images, made on the spot: JPEG with EXIF (GPS, times, orientation,
camera), PNG, HEIC, a 12 MP JPEG, broken files and pixel bombs."""

from __future__ import annotations

import functools
import io
import struct
import zlib
from fractions import Fraction

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

# A spot in 重庆 (Chongqing), WGS-84.
LON, LAT = 107.8123, 30.7123
RED, BLUE = (255, 0, 0), (0, 0, 255)


def dms(value: str) -> tuple[IFDRational, IFDRational, IFDRational]:
    """'107.8123' -> exact (deg, min, sec) rationals, as a phone writes them."""
    seconds = abs(Fraction(value)) * 3600
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (IFDRational(int(degrees)), IFDRational(int(minutes)), IFDRational(seconds.numerator, seconds.denominator))


def make_exif(
    *,
    lon: str | None = str(LON),
    lat: str | None = str(LAT),
    taken: str | None = "2024:05:06 09:30:15",
    offset: str | None = None,
    subsec: str | None = None,
    datetime_ifd0: str | None = None,
    orientation: int | None = None,
    make: str | None = "HUAWEI",
    model: str | None = "HUAWEI P40",
    altitude: Fraction | None = Fraction(3215, 10),
    below_sea: bool = False,
) -> Image.Exif:
    """EXIF as phones write it. Negative lon/lat strings give W/S refs."""
    exif = Image.Exif()
    tags, gps = ExifTags.Base, ExifTags.GPS
    if make:
        exif[tags.Make] = make
    if model:
        exif[tags.Model] = model
    if orientation:
        exif[tags.Orientation] = orientation
    if datetime_ifd0:
        exif[tags.DateTime] = datetime_ifd0
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    if taken:
        exif_ifd[tags.DateTimeOriginal] = taken
    if offset:
        exif_ifd[tags.OffsetTimeOriginal] = offset
    if subsec:
        exif_ifd[tags.SubsecTimeOriginal] = subsec
    if lon is not None and lat is not None:
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps_ifd[gps.GPSVersionID] = b"\x02\x02\x00\x00"
        gps_ifd[gps.GPSLatitudeRef] = "S" if lat.startswith("-") else "N"
        gps_ifd[gps.GPSLatitude] = dms(lat)
        gps_ifd[gps.GPSLongitudeRef] = "W" if lon.startswith("-") else "E"
        gps_ifd[gps.GPSLongitude] = dms(lon)
        gps_ifd[gps.GPSMapDatum] = "WGS-84"
        if altitude is not None:
            gps_ifd[gps.GPSAltitudeRef] = b"\x01" if below_sea else b"\x00"
            gps_ifd[gps.GPSAltitude] = IFDRational(altitude.numerator, altitude.denominator)
    return exif


def marked(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Blue picture with a red top-left corner block, to see where the corner went."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0] // 4, size[1] // 4))
    return img.convert(mode) if mode != "RGB" else img


def jpeg(
    size: tuple[int, int] = (800, 600), exif: Image.Exif | None = None, *, quality: int = 90, progressive: bool = False
) -> bytes:
    out = io.BytesIO()
    marked(size).save(
        out, "JPEG", quality=quality, progressive=progressive, **({"exif": exif} if exif is not None else {})
    )
    return out.getvalue()


def png(size: tuple[int, int] = (640, 480), mode: str = "RGB", **save) -> bytes:
    img = marked(size)
    if mode == "RGBA":
        img = img.convert("RGBA")
        img.putalpha(Image.new("L", size, 0))  # fully transparent: must become white
        img.paste((255, 0, 0, 255), (0, 0, size[0] // 4, size[1] // 4))
    elif mode == "I;16":
        # Real 16-bit samples (0..65535), as a 16-bit PNG holds them.
        img = img.convert("L").convert("I").point(lambda value: value * 257).convert("I;16")
    elif mode != "RGB":
        img = img.convert(mode)
    out = io.BytesIO()
    img.save(out, "PNG", **save)
    return out.getvalue()


def heic(size: tuple[int, int] = (640, 480), exif: Image.Exif | None = None) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    marked(size).save(out, "HEIF", quality=60, **({"exif": exif.tobytes()} if exif is not None else {}))
    return out.getvalue()


@functools.lru_cache(maxsize=None)
def jpeg_12mp() -> bytes:
    """4000x3000 with a gradient and noise, so it decodes like a photo, not a flat colour."""
    size = (4000, 3000)
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 30)
    img = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    img.paste(RED, (0, 0, 1000, 750))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=make_exif(orientation=6))
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg((1200, 900), make_exif(), quality=95)
    return data[: len(data) * 2 // 3]


def text_file() -> bytes:
    return "这不是图片，只是一段文字。\nnot an image\n".encode() * 20


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.lru_cache(maxsize=None)
def png_pixel_bomb(side: int = 30_000) -> bytes:
    """A valid 1-bit PNG of side x side black pixels: ~100 KB on disk, 900 MP decoded."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def jpeg_header_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A small JPEG whose frame header (SOF0) claims width x height pixels."""
    data = bytearray(jpeg((64, 64)))
    at = data.index(b"\xff\xc0")  # SOF0: marker, length(2), precision(1), height(2), width(2)
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)
