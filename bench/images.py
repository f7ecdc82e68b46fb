"""Phone photos for the photo section: 12 MP (4000×3000) JPEGs of 3–5 MB with the EXIF a phone writes
(camera, time, GPS, orientation). A few scenes are encoded once; further photos are the same scene
with another EXIF block spliced in (another time and position), so every photo has its own SHA-256
and decodes like a real one without paying for an encode each."""

from __future__ import annotations

import hashlib
import io
import random
import struct
from dataclasses import dataclass
from fractions import Fraction

from PIL import ExifTags, Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

SIZE = (4000, 3000)


@dataclass(frozen=True)
class Photo:
    sha256: str
    data: bytes
    lon: float
    lat: float


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    seconds = Fraction(abs(value)).limit_denominator(10_000_000) * 3600
    degrees, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (IFDRational(int(degrees)), IFDRational(int(minutes)), IFDRational(seconds.numerator, seconds.denominator))


def exif_block(lon: float, lat: float, taken: str, unique: str = "") -> bytes:
    exif = Image.Exif()
    tags, gps = ExifTags.Base, ExifTags.GPS
    if unique:
        exif[tags.ImageDescription] = unique
    exif[tags.Make] = "HUAWEI"
    exif[tags.Model] = "HUAWEI P40"
    exif[tags.Orientation] = 6  # held upright: the sensor image is turned by 90°
    exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    exif_ifd[tags.DateTimeOriginal] = taken
    exif_ifd[tags.OffsetTimeOriginal] = "+08:00"
    gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps_ifd[gps.GPSVersionID] = b"\x02\x02\x00\x00"
    gps_ifd[gps.GPSLatitudeRef] = "N"
    gps_ifd[gps.GPSLatitude] = _dms(lat)
    gps_ifd[gps.GPSLongitudeRef] = "E"
    gps_ifd[gps.GPSLongitude] = _dms(lon)
    gps_ifd[gps.GPSAltitudeRef] = b"\x00"
    gps_ifd[gps.GPSAltitude] = IFDRational(3215, 10)
    return exif.tobytes()


def scene(seed: int, quality: int = 90) -> bytes:
    """A 12 MP photo-like JPEG (gradients, shapes and sensor noise): 3–5 MB, like a phone's."""
    rng = random.Random(seed)
    gradient = Image.linear_gradient("L").resize(SIZE)
    noise = Image.effect_noise(SIZE, 22 + seed % 5)
    img = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rng.randrange(SIZE[0]), rng.randrange(SIZE[1])
        w, h = rng.randrange(100, 900), rng.randrange(100, 700)
        draw.rectangle((x, y, x + w, y + h), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, exif=exif_block(107.8, 30.7, "2026:11:22 09:00:00"))
    return out.getvalue()


def with_exif(jpeg: bytes, exif: bytes) -> bytes:
    """The same JPEG with its Exif APP1 segment replaced (inserted right after SOI)."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos, kept = 2, []
    while pos < len(jpeg):
        if jpeg[pos] != 0xFF:
            raise ValueError("bad JPEG segment")
        marker = jpeg[pos + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            kept.append(jpeg[pos:])
            break
        length = struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
        segment = jpeg[pos : pos + 2 + length]
        if not (marker == 0xE1 and segment[4:10] == b"Exif\x00\x00"):
            kept.append(segment)
        pos += 2 + length
    payload = b"Exif\x00\x00" + exif
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return b"\xff\xd8" + app1 + b"".join(kept)


def make_photos(
    count: int, places: list[tuple[float, float]], scenes: int = 3, seed: int = 7, salt: str = ""
) -> list[Photo]:
    """``count`` distinct photos taken at ``places`` (lon, lat; cycled); ``salt`` makes them new to a server
    that already holds the photos of an earlier run."""
    bases = [scene(seed + i) for i in range(min(scenes, count))]
    photos = []
    for i in range(count):
        lon, lat = places[i % len(places)]
        taken = f"2026:11:22 {8 + i // 60 % 10:02d}:{i % 60:02d}:{(i * 7) % 60:02d}"
        data = with_exif(bases[i % len(bases)], exif_block(lon, lat, taken, f"{salt}-{i}" if salt else ""))
        photos.append(Photo(sha256=hashlib.sha256(data).hexdigest(), data=data, lon=lon, lat=lat))
    return photos
