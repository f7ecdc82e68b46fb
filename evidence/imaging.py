"""Photo inspection and thumbnails: what a phone uploaded, judged by decoding it.

Pure functions over bytes or a path; no database, no Flask. Accepted types are
JPEG, PNG and HEIC (HEIF). EXIF GPS is WGS-84 (SYNC_PROTOCOL.md §5) and is
returned as decimal degrees; EXIF wall-clock times become aware datetimes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import io
import math
import os
import re
import struct
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, BinaryIO, Iterator, Union

from PIL import ExifTags, Image, ImageOps

from core.clock import SHANGHAI
from core.errors import TooLarge, UnsupportedMedia
from core.times import MAX_OFFSET, in_window
from geo.location import on_the_globe

__all__ = [
    "DecodeTooLarge",
    "ImageInfo",
    "NotAnImage",
    "TooManyPixels",
    "inspect_and_thumbnail",
    "inspect_image",
    "make_thumbnail",
    "read_exif",
]

Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]


class TooManyPixels(TooLarge):
    code = "photo.too_many_pixels"
    title = "图片像素过多，无法处理"


class DecodeTooLarge(TooLarge):
    code = "photo.too_large_to_decode"
    title = "图片解码所需内存超过上限，无法处理"


class NotAnImage(UnsupportedMedia):
    code = "photo.unsupported"
    title = "不是可识别的图片（仅支持完整的 JPEG、PNG、HEIC 文件）"


# Pillow format name -> the MIME type we store. MPO is how Pillow names a JPEG
# carrying a Multi-Picture index, which many phone cameras write.
_MIME = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}
# Restricting Image.open to these plugins also keeps every other decoder away from
# untrusted bytes.
_OPEN_FORMATS = ("JPEG", "PNG", "HEIF")

# Whatever a broken or hostile file makes a decoder raise. MemoryError is left out on
# purpose: it says the server is in trouble, not that the file is bad.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    TypeError,
    RuntimeError,
    KeyError,
    ZeroDivisionError,
)

_heif_lock = threading.Lock()
_heif_registered = False


def _register_heif() -> None:
    """Register pillow_heif's opener once, lazily (no side effects at import)."""
    global _heif_registered
    if _heif_registered:
        return
    with _heif_lock:
        if not _heif_registered:
            from pillow_heif import register_heif_opener

            register_heif_opener()
            _heif_registered = True


@dataclass(frozen=True)
class ImageInfo:
    """What we know about an accepted photo. ``width``/``height`` are as displayed,
    i.e. after the EXIF orientation is applied; ``gps`` is ``(lon, lat)`` WGS-84."""

    mime: str
    width: int
    height: int
    orientation: int
    taken_at: datetime | None
    gps: tuple[float, float] | None
    gps_altitude: float | None
    camera_make: str | None
    camera_model: str | None
    size_bytes: int

    @property
    def camera(self) -> str | None:
        """Make and model, e.g. "HUAWEI P40" (a make the model starts with is not repeated)."""
        make, model = self.camera_make, self.camera_model
        if make and model:
            return model if model.lower().startswith(make.lower()) else f"{make} {model}"
        return make or model

    def as_dict(self) -> dict[str, Any]:
        return {
            "mime": self.mime,
            "width": self.width,
            "height": self.height,
            "orientation": self.orientation,
            "taken_at": self.taken_at.isoformat() if self.taken_at else None,
            "gps": {"lon": self.gps[0], "lat": self.gps[1]} if self.gps else None,
            "gps_altitude": self.gps_altitude,
            "camera": self.camera,
            "size_bytes": self.size_bytes,
        }


# --------------------------------------------------------------------------- memory

# Bytes per pixel of Pillow's image memory (RGB is kept in four bytes); modes not named take four.
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# Modes Image.reduce takes as they are; the others need a full-size copy first (LA and RGBA are
# premultiplied into one, 1/P/I;16 converted into one).
_REDUCIBLE = ("L", "I", "F", "RGB", "CMYK", "YCbCr")
# libheif's own planes (YCbCr 4:2:0) and the interleaved copy it hands to Pillow, per pixel.
_HEIF_BUFFERS = 5
# A decode that held this much gives the memory back to the system when it is done.
_GIVE_BACK_FROM = 64 * 1024 * 1024


def _pixel_bytes(mode: str) -> int:
    return _PIXEL_BYTES.get(mode, 4)


@functools.cache
def _malloc_trim():
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "malloc_trim", None)
    except OSError:
        return None


def _give_back_memory() -> None:
    """Return freed heap pages to the system (glibc): Pillow's large blocks freed by a worker thread
    otherwise stay in its malloc arena, and the worker's resident size with them."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class _DecodeBudget:
    """The memory this process's decodes may hold at once. A decode says beforehand what it will need
    (from the header); one needing more than the whole budget is refused, the others wait their turn."""

    def __init__(self):
        self._held = 0
        self._turn = threading.Condition()

    @contextmanager
    def hold(self, cost: int, budget: int | None) -> Iterator[None]:
        if budget is None:
            yield
            return
        if cost > budget:
            raise DecodeTooLarge(
                f"解码此图片约需 {cost // 2**20} MiB 内存，超过上限 {budget // 2**20} MiB",
                extra={"decode_bytes": cost, "max_decode_bytes": budget},
            )
        with self._turn:
            self._turn.wait_for(lambda: self._held + cost <= budget)
            self._held += cost
        try:
            yield
        finally:
            if cost >= _GIVE_BACK_FROM:
                # Before the next decode starts: it may allocate in another thread's arena.
                _give_back_memory()
            with self._turn:
                self._held -= cost
                self._turn.notify_all()


_BUDGET = _DecodeBudget()


# --------------------------------------------------------------------------- opening


class _Opened:
    """An opened (not yet decoded) image and its byte size; closes what it opened."""

    def __init__(self, src: Source):
        _register_heif()
        if isinstance(src, (bytes, bytearray, memoryview)):
            self.size_bytes = len(src)
            fp: BinaryIO | str = io.BytesIO(bytes(src))
        elif isinstance(src, (str, os.PathLike)):
            path = os.fspath(src)
            self.size_bytes = os.path.getsize(path)
            fp = path
        else:
            raise TypeError(f"expected bytes or a path, got {type(src).__name__}")
        try:
            self.img = Image.open(fp, formats=_OPEN_FORMATS)
        except Image.DecompressionBombError as exc:
            # Pillow's own process-wide guard (2 x Image.MAX_IMAGE_PIXELS) fired first.
            raise TooManyPixels(f"图片尺寸过大：{exc}") from None
        except _DECODE_ERRORS:
            raise NotAnImage() from None
        if self.img.format not in _MIME:
            self.img.close()
            raise NotAnImage()

    def __enter__(self) -> "_Opened":
        return self

    def __exit__(self, *exc: object) -> None:
        self.img.close()

    def check_pixels(self, max_pixels: int | None) -> None:
        # The size comes from the header: nothing has been decoded or allocated yet.
        width, height = self.img.size
        if max_pixels is not None and width * height > max_pixels:
            raise TooManyPixels(
                f"图片为 {width}×{height} 像素，超过上限 {max_pixels} 像素",
                extra={"width": width, "height": height, "max_pixels": max_pixels},
            )

    def _cost(self, full_size: tuple[int, int], shrinking: bool) -> int:
        """Bytes the decode will hold at its peak, from the header (after any draft)."""
        img = self.img
        pixels = img.size[0] * img.size[1]
        cost = pixels * _pixel_bytes(img.mode)
        if img.format in ("JPEG", "MPO") and img.info.get("progressive"):
            # A progressive JPEG keeps every DCT coefficient (2 bytes) of the full-size image, drafted or not.
            layers = getattr(img, "layer", None) or [(None, 1, 1, None)]
            h_max, v_max = max(layer[1] for layer in layers), max(layer[2] for layer in layers)
            cost += sum(
                math.ceil(full_size[0] * h / h_max) * math.ceil(full_size[1] * v / v_max) * 2 for _, h, v, _ in layers
            )
        if img.format == "HEIF":
            cost += pixels * _HEIF_BUFFERS
        if shrinking and img.mode not in _REDUCIBLE:
            cost += pixels * 4
        return cost

    @contextmanager
    def decoded(
        self, *, draft: str | None = None, side: int | None = None, max_decode_bytes: int | None = None
    ) -> Iterator[Image.Image]:
        """Decode all pixel data within the decode budget, so truncated or corrupt files are refused;
        yields the picture, at most about twice ``side`` on its longer side when ``side`` is given.
        The pixels are released on leaving (``self.img`` keeps its header and info).

        ``draft`` is "jpeg" (JPEG only: HEIF's draft decodes an embedded thumbnail instead of the
        primary image) or "any". A JPEG drafted to ``side`` (1 for the least) is decoded at reduced
        DCT scale: every entropy-coded byte is still read (truncation is still caught) but the IDCT
        and colour conversion run on up to 1/64 of the pixels. Other formats decode at full size
        and are then reduced by an integer factor before anything else copies them. Raises
        DecodeTooLarge (413) when the decode alone needs more than ``max_decode_bytes``; decodes
        of this process together wait for their share of it."""
        img = self.img
        full_size = img.size
        with _decode_errors():
            if draft == "any" or (draft == "jpeg" and img.format in ("JPEG", "MPO")):
                img.draft("RGB", (side or 1, side or 1))
        with _BUDGET.hold(self._cost(full_size, shrinking=side is not None), max_decode_bytes):
            try:
                with _decode_errors():
                    img.load()
                    picture = _shrink(img, 2 * side) if side is not None else img
                yield picture
            finally:
                img.close()  # the full-size pixels go before the budget passes to the next decode


@contextmanager
def _decode_errors() -> Iterator[None]:
    """What a broken or hostile file makes the decoder raise, as our refusals."""
    try:
        yield
    except Image.DecompressionBombError as exc:
        raise TooManyPixels(f"图片尺寸过大：{exc}") from None
    except _DECODE_ERRORS:
        raise NotAnImage() from None


def _shrink(img: Image.Image, side: int) -> Image.Image:
    """The picture reduced by the largest integer factor that keeps its longer side at least ``side``
    (box averaging, as Image.thumbnail does first), or the picture itself."""
    factor = max(img.size) // side
    if factor < 2:
        return img
    if img.mode not in _REDUCIBLE + ("LA", "RGBA"):
        if img.mode.startswith("I;16"):
            img = img.convert("I")
        elif img.mode == "1":
            img = img.convert("L")
        else:  # P, PA and the rare rest: colours, and the transparency when there is some
            img = img.convert("RGBA" if img.mode == "PA" or "transparency" in img.info else "RGB")
    return img.reduce(factor)


# --------------------------------------------------------------------------- EXIF

_EXIF_IFD = ExifTags.IFD.Exif
_GPS_IFD = ExifTags.IFD.GPSInfo
_T = ExifTags.Base
_G = ExifTags.GPS

# (time tag, IFD it lives in, its UTC-offset tag, its sub-second tag), best first.
_TIME_TAGS = (
    (_T.DateTimeOriginal, _EXIF_IFD, _T.OffsetTimeOriginal, _T.SubsecTimeOriginal),
    (_T.DateTimeDigitized, _EXIF_IFD, _T.OffsetTimeDigitized, _T.SubsecTimeDigitized),
    (_T.DateTime, None, _T.OffsetTime, _T.SubsecTime),
)
_EXIF_TIME = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^\s*([+-])(\d{2}):?(\d{2})\s*$")


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _parse_time(raw: Any, offset_raw: Any, subsec_raw: Any) -> datetime | None:
    text = _text(raw)
    match = _EXIF_TIME.match(text) if text else None
    if not match:
        return None
    try:
        # Cameras with an unset clock write "0000:00:00 00:00:00": datetime refuses it.
        naive = datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    subsec = _text(subsec_raw)
    if subsec and subsec.isdigit():
        naive = naive.replace(microsecond=int(subsec[:6].ljust(6, "0")))
    offset = _text(offset_raw)
    off_match = _EXIF_OFFSET.match(offset) if offset else None
    # No usable offset: these phones are in China, so their wall clock is Beijing time.
    taken_at = naive.replace(tzinfo=SHANGHAI)
    if off_match:
        sign, hours, minutes = off_match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta <= MAX_OFFSET:
            taken_at = naive.replace(tzinfo=timezone(-delta if sign == "-" else delta))
    # A clock set to year 1 or 9999 is no time at all (and could not be stored and shown).
    return taken_at if in_window(taken_at) else None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    # A 0/0 rational (written by some cameras without a fix) reads as NaN.
    return number if math.isfinite(number) else None


def _degrees(value: Any) -> float | None:
    """(deg, min, sec) rationals -> decimal degrees; some writers give fewer parts."""
    if not isinstance(value, (tuple, list)):
        value = (value,)
    parts = [_number(part) for part in value[:3]]
    if not parts or any(part is None for part in parts):
        return None
    return sum(part / 60**i for i, part in enumerate(parts))


def _gps(gps_ifd: dict) -> tuple[tuple[float, float] | None, float | None]:
    lat = _degrees(gps_ifd.get(_G.GPSLatitude)) if _G.GPSLatitude in gps_ifd else None
    lon = _degrees(gps_ifd.get(_G.GPSLongitude)) if _G.GPSLongitude in gps_ifd else None
    position = None
    if lat is not None and lon is not None:
        # A missing ref is read as N/E: writers that omit it are on those hemispheres.
        if (_text(gps_ifd.get(_G.GPSLatitudeRef)) or "N").upper().startswith("S"):
            lat = -lat
        if (_text(gps_ifd.get(_G.GPSLongitudeRef)) or "E").upper().startswith("W"):
            lon = -lon
        # Exactly (0, 0) is what some phones write when they had no fix.
        if on_the_globe(lon, lat) and (lat, lon) != (0.0, 0.0):
            position = (lon, lat)
    altitude = _number(gps_ifd.get(_G.GPSAltitude)) if _G.GPSAltitude in gps_ifd else None
    if altitude is not None:
        ref = gps_ifd.get(_G.GPSAltitudeRef)
        if isinstance(ref, bytes):
            ref = ref[:1] == b"\x01"
        if ref == 1 or ref is True:  # 1 = below sea level
            altitude = -altitude
    return position, altitude


def _exif_fields(img: Image.Image, size: tuple[int, int]) -> dict[str, Any]:
    """Metadata of an image whose header said ``size``; no pixel is decoded here. A damaged EXIF
    block loses the metadata, never the photo."""
    try:
        # Image's own getexif reads what the file has given so far; PNG's would decode every pixel
        # to look for an eXIf chunk after them (outside any memory budget).
        exif = Image.Image.getexif(img)
        exif_ifd = exif.get_ifd(_EXIF_IFD)
        gps_ifd = exif.get_ifd(_GPS_IFD)
    except _DECODE_ERRORS:
        exif, exif_ifd, gps_ifd = Image.Exif(), {}, {}

    if img.format == "HEIF":
        # libheif already applies the container's rotation and pillow_heif resets EXIF
        # Orientation to 1 (keeping the original aside), so the size is as displayed.
        orientation = img.info.get("original_orientation") or 1
        width, height = size
    else:
        orientation = exif.get(_T.Orientation) or 1
        width, height = size
        if orientation in (5, 6, 7, 8):  # the four that turn the picture by 90°
            width, height = height, width
    if not isinstance(orientation, int) or not 1 <= orientation <= 8:
        orientation = 1

    taken_at = None
    for tag, ifd, offset_tag, subsec_tag in _TIME_TAGS:
        source = exif if ifd is None else exif_ifd
        taken_at = _parse_time(source.get(tag), exif_ifd.get(offset_tag), exif_ifd.get(subsec_tag))
        if taken_at:
            break

    try:
        position, altitude = _gps(gps_ifd)
    except _DECODE_ERRORS:
        position, altitude = None, None
    return {
        "mime": _MIME[img.format],
        "width": width,
        "height": height,
        "orientation": orientation,
        "taken_at": taken_at,
        "gps": position,
        "gps_altitude": altitude,
        "camera_make": _text(exif.get(_T.Make)),
        "camera_model": _text(exif.get(_T.Model)),
    }


# --------------------------------------------------------------------------- public


def read_exif(data: Source) -> dict[str, Any]:
    """Metadata from the headers only: no pixel is decoded, so this is cheap
    (well under a millisecond) and works on files that would not decode.

    Keys: mime, width, height (as displayed), orientation, taken_at, gps ((lon, lat)
    or None), gps_altitude, camera_make, camera_model, size_bytes. Raises NotAnImage
    when the header is not JPEG, PNG or HEIF. PNG keeps EXIF in an eXIf chunk that
    may sit after the pixel data; such EXIF is only seen after decoding.
    """
    with _Opened(data) as opened:
        fields = _exif_fields(opened.img, opened.img.size)
        fields["size_bytes"] = opened.size_bytes
        return fields


def inspect_image(data: Source, *, max_pixels: int, max_decode_bytes: int | None = None) -> ImageInfo:
    """Accept or refuse an uploaded photo by decoding it.

    Raises TooManyPixels (413, ``photo.too_many_pixels``) when the header declares
    more than ``max_pixels`` pixels, before anything is decoded; DecodeTooLarge (413,
    ``photo.too_large_to_decode``) when decoding it would take more than
    ``max_decode_bytes``; and NotAnImage (415, ``photo.unsupported``) for anything
    that is not a complete JPEG, PNG or HEIC, whatever its name or first bytes claim.
    """
    with _Opened(data) as opened:
        opened.check_pixels(max_pixels)
        size = opened.img.size
        # Reduced-scale decoding still reads every byte of a JPEG (see _Opened.decoded).
        with opened.decoded(draft="jpeg", max_decode_bytes=max_decode_bytes):
            # Read after the pixels: a PNG may keep its EXIF behind them.
            return ImageInfo(size_bytes=opened.size_bytes, **_exif_fields(opened.img, size))


def make_thumbnail(
    data: Source,
    *,
    max_side: int = 512,
    quality: int = 80,
    max_pixels: int | None = None,
    max_decode_bytes: int | None = None,
) -> bytes:
    """A JPEG no larger than ``max_side`` on its longest side, turned upright.

    JPEGs are decoded at reduced scale (``Image.draft``), which halves the time for
    a 12 MP photo; HEIC may use an embedded thumbnail when one is big enough (an
    embedded thumbnail is fine for a thumbnail).
    """
    with _Opened(data) as opened:
        opened.check_pixels(max_pixels)
        with opened.decoded(draft="any", side=max_side, max_decode_bytes=max_decode_bytes) as img:
            return _encode_thumbnail(img, max_side, quality)


def inspect_and_thumbnail(
    data: Source, *, max_pixels: int, max_side: int = 512, quality: int = 80, max_decode_bytes: int | None = None
) -> tuple[ImageInfo, bytes]:
    """inspect_image and make_thumbnail with one decode: what an upload needs.

    For a JPEG the single reduced-scale decode both validates the file and feeds the
    thumbnail, so this costs about what make_thumbnail alone costs.
    """
    with _Opened(data) as opened:
        opened.check_pixels(max_pixels)
        size = opened.img.size
        with opened.decoded(draft="jpeg", side=max_side, max_decode_bytes=max_decode_bytes) as img:
            info = ImageInfo(size_bytes=opened.size_bytes, **_exif_fields(opened.img, size))
            return info, _encode_thumbnail(img, max_side, quality)


# --------------------------------------------------------------------------- thumbnails

_WHITE = (255, 255, 255)


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB for a JPEG. Transparency goes onto white: JPEG has no alpha and a plain
    convert would paint transparent screenshots black."""
    if img.mode == "RGB" and "transparency" not in img.info:
        return img
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        # 16-bit PNG: scale 0..65535 down to 8 bits (convert("L") alone would clip).
        img = img.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, _WHITE)
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _encode_thumbnail(img: Image.Image, max_side: int, quality: int) -> bytes:
    icc_profile = img.info.get("icc_profile")
    # Only an RGB profile describes the RGB pixels we write (bytes 16-20 of an ICC
    # header name its colour space); a CMYK or grey one would now be wrong.
    if not icc_profile or icc_profile[16:20] != b"RGB ":
        icc_profile = None
    try:
        upright = ImageOps.exif_transpose(img)
        # Palette and 1-bit images would be resized with NEAREST: convert first.
        rgb = _to_rgb(upright)
        rgb.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    except _DECODE_ERRORS:
        raise NotAnImage() from None
    out = io.BytesIO()
    # No EXIF in the thumbnail: the orientation is already applied (a kept Orientation
    # tag would turn it twice) and the GPS stays with the original. The ICC profile is
    # kept so Display-P3 photos from iPhones keep their colours.
    rgb.save(out, "JPEG", quality=quality, optimize=True, **({"icc_profile": icc_profile} if icc_profile else {}))
    return out.getvalue()


# --------------------------------------------------------------------------- signatures

SIGNATURE_FORMATS = ("PNG", "JPEG", "MPO")


@dataclass(frozen=True)
class Reencoded:
    png: bytes
    width: int
    height: int


def reencode_signature(
    data: bytes, *, max_pixels: int, max_side: int = 1200, max_decode_bytes: int | None = None
) -> Reencoded:
    """A signature drawn on the phone (PNG or JPEG), judged by decoding it whole and written again as a
    grey PNG on white, at most ``max_side`` pixels wide or high: what is printed and kept is only pixels
    we made, never the bytes the phone sent (no metadata, no second image, no trailing payload).
    TooManyPixels (413) past ``max_pixels`` from the header, before anything is decoded; NotAnImage (415)
    for anything else, a HEIC included."""
    with _Opened(data) as opened:
        if opened.img.format not in SIGNATURE_FORMATS:
            raise NotAnImage("签名图片须为 PNG 或 JPEG")
        opened.check_pixels(max_pixels)
        with opened.decoded(max_decode_bytes=max_decode_bytes) as picture:
            with _decode_errors():
                grey = _to_rgb(ImageOps.exif_transpose(picture)).convert("L")
    grey.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    grey.save(out, "PNG", optimize=True)
    return Reencoded(out.getvalue(), grey.width, grey.height)
