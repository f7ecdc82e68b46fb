"""evidence.imaging against real images made by tests/evidence/images.py."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from core.clock import SHANGHAI
from core.errors import TooLarge, UnsupportedMedia
from evidence.imaging import (
    ImageInfo,
    NotAnImage,
    TooManyPixels,
    inspect_and_thumbnail,
    inspect_image,
    make_thumbnail,
    read_exif,
)
from tests.evidence import images

MAX_PIXELS = 50_000_000


def _near(color, expected, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(color, expected))


def _open_jpeg(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    img.load()
    return img


# --------------------------------------------------------------------------- inspect


def test_jpeg_exif_gps_time_camera():
    data = images.jpeg((800, 600), images.make_exif(offset="+08:00", subsec="25"))
    info = inspect_image(data, max_pixels=MAX_PIXELS)

    assert isinstance(info, ImageInfo)
    assert info.mime == "image/jpeg"
    assert (info.width, info.height, info.orientation) == (800, 600, 1)
    lon, lat = info.gps
    assert lon == pytest.approx(107.8123, abs=1e-6)
    assert lat == pytest.approx(30.7123, abs=1e-6)
    assert info.gps_altitude == pytest.approx(321.5)
    assert info.taken_at == datetime(2024, 5, 6, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=8)))
    assert info.taken_at.utcoffset() == timedelta(hours=8)
    assert (info.camera_make, info.camera_model, info.camera) == ("HUAWEI", "HUAWEI P40", "HUAWEI P40")
    assert info.size_bytes == len(data)
    assert info.as_dict()["gps"] == {"lon": lon, "lat": lat}


def test_naive_exif_time_is_beijing_time_and_other_offsets_are_kept():
    naive = inspect_image(images.jpeg(exif=images.make_exif()), max_pixels=MAX_PIXELS)
    assert naive.taken_at.tzinfo is SHANGHAI
    assert naive.taken_at.astimezone(timezone.utc) == datetime(2024, 5, 6, 1, 30, 15, tzinfo=timezone.utc)

    abroad = inspect_image(images.jpeg(exif=images.make_exif(offset="-05:30")), max_pixels=MAX_PIXELS)
    assert abroad.taken_at.astimezone(timezone.utc) == datetime(2024, 5, 6, 15, 0, 15, tzinfo=timezone.utc)


def test_datetime_fallback_and_unset_clock():
    only_ifd0 = images.make_exif(taken=None, datetime_ifd0="2023:12:31 23:59:59")
    info = inspect_image(images.jpeg(exif=only_ifd0), max_pixels=MAX_PIXELS)
    assert info.taken_at == datetime(2023, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)

    unset = images.make_exif(taken="0000:00:00 00:00:00")
    assert inspect_image(images.jpeg(exif=unset), max_pixels=MAX_PIXELS).taken_at is None


def test_southern_western_hemispheres_and_below_sea_level():
    exif = images.make_exif(lon="-70.6693", lat="-33.4489", below_sea=True)
    info = inspect_image(images.jpeg(exif=exif), max_pixels=MAX_PIXELS)
    assert info.gps == (pytest.approx(-70.6693, abs=1e-6), pytest.approx(-33.4489, abs=1e-6))
    assert info.gps_altitude == pytest.approx(-321.5)


def test_no_exif_at_all():
    info = inspect_image(images.jpeg(), max_pixels=MAX_PIXELS)
    assert (info.taken_at, info.gps, info.gps_altitude, info.camera) == (None, None, None, None)
    assert info.orientation == 1


def test_orientation_swaps_displayed_size():
    info = inspect_image(images.jpeg((800, 600), images.make_exif(orientation=6)), max_pixels=MAX_PIXELS)
    assert (info.width, info.height, info.orientation) == (600, 800, 6)


def test_png_accepted(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(images.png((640, 480), "RGBA"))
    info = inspect_image(path, max_pixels=MAX_PIXELS)  # from a path this time
    assert (info.mime, info.width, info.height) == ("image/png", 640, 480)
    assert info.size_bytes == path.stat().st_size
    assert info.gps is None


def test_heic_decoded_with_exif():
    data = images.heic((640, 480), images.make_exif(orientation=6, offset="+08:00"))
    info = inspect_image(data, max_pixels=MAX_PIXELS)
    assert info.mime == "image/heic"
    # libheif turns the picture upright itself; the size is as displayed either way.
    assert (info.width, info.height, info.orientation) == (480, 640, 6)
    assert info.gps == (pytest.approx(107.8123, abs=1e-6), pytest.approx(30.7123, abs=1e-6))
    assert info.taken_at == datetime(2024, 5, 6, 9, 30, 15, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_refused(progressive):
    data = images.jpeg((1200, 900), images.make_exif(), quality=95, progressive=progressive)
    with pytest.raises(NotAnImage) as caught:
        inspect_image(data[: len(data) * 2 // 3], max_pixels=MAX_PIXELS)
    assert isinstance(caught.value, UnsupportedMedia)
    assert caught.value.status == 415 and caught.value.code == "photo.unsupported"
    with pytest.raises(NotAnImage):
        inspect_image(data[:-2], max_pixels=MAX_PIXELS)  # only the end-of-image marker lost


def test_headers_still_readable_from_a_truncated_jpeg():
    # read_exif parses headers only: proof that it decodes no pixels.
    fields = read_exif(images.truncated_jpeg())
    assert fields["gps"] == (pytest.approx(107.8123, abs=1e-6), pytest.approx(30.7123, abs=1e-6))
    assert fields["mime"] == "image/jpeg" and fields["camera_make"] == "HUAWEI"


def test_text_named_jpg_refused(tmp_path):
    path = tmp_path / "photo.jpg"
    path.write_bytes(images.text_file())
    with pytest.raises(NotAnImage):
        inspect_image(path, max_pixels=MAX_PIXELS)
    with pytest.raises(NotAnImage):
        read_exif(path)


def test_other_image_formats_refused():
    out = io.BytesIO()
    images.marked((64, 64)).save(out, "GIF")
    with pytest.raises(NotAnImage):
        inspect_image(out.getvalue(), max_pixels=MAX_PIXELS)
    # JPEG magic followed by rubbish
    with pytest.raises(NotAnImage):
        inspect_image(b"\xff\xd8\xff\xe0" + b"\x00" * 500, max_pixels=MAX_PIXELS)
    with pytest.raises(NotAnImage):
        inspect_image(b"", max_pixels=MAX_PIXELS)


def test_png_pixel_bomb_refused_before_decoding():
    bomb = images.png_pixel_bomb()
    assert len(bomb) < 1_000_000  # small on disk, 900 MP decoded
    with pytest.raises(TooManyPixels) as caught:
        inspect_image(bomb, max_pixels=MAX_PIXELS)
    assert isinstance(caught.value, TooLarge)
    assert caught.value.status == 413 and caught.value.code == "photo.too_many_pixels"
    with pytest.raises(TooManyPixels):
        make_thumbnail(bomb, max_pixels=MAX_PIXELS)


def test_pillow_guard_still_maps_to_our_error_when_our_limit_is_higher():
    # 900 MP is past Pillow's own process-wide limit: DecompressionBombError -> TooManyPixels.
    with pytest.raises(TooManyPixels):
        inspect_image(images.png_pixel_bomb(), max_pixels=10**12)
    with pytest.raises(TooManyPixels):
        make_thumbnail(images.png_pixel_bomb())


def test_jpeg_header_bomb_refused():
    with pytest.raises(TooManyPixels) as caught:
        inspect_image(images.jpeg_header_bomb(8000, 8000), max_pixels=MAX_PIXELS)
    assert caught.value.extra == {"width": 8000, "height": 8000, "max_pixels": MAX_PIXELS}
    with pytest.raises(TooManyPixels):
        inspect_image(images.jpeg_header_bomb(), max_pixels=10**12)


def test_read_exif_orientation_and_size():
    fields = read_exif(images.jpeg((800, 600), images.make_exif(orientation=8)))
    assert (fields["width"], fields["height"], fields["orientation"]) == (600, 800, 8)
    assert fields["size_bytes"] > 0


# --------------------------------------------------------------------------- thumbnails


def test_thumbnail_applies_orientation():
    # Stored 800x600 landscape with Orientation=6: displayed as 600x800 portrait,
    # turned 90° clockwise, so the red top-left corner ends up top-right.
    data = images.jpeg((800, 600), images.make_exif(orientation=6))
    thumb = _open_jpeg(make_thumbnail(data))
    assert thumb.size == (384, 512)
    assert thumb.mode == "RGB"
    assert _near(thumb.getpixel((thumb.width - 10, 10)), images.RED)
    assert _near(thumb.getpixel((10, 10)), images.BLUE)
    assert not thumb.getexif()  # no Orientation to apply twice, no GPS in thumbnails


def test_thumbnail_of_12mp_jpeg_with_draft():
    data = images.jpeg_12mp()
    thumb = _open_jpeg(make_thumbnail(data))
    assert thumb.size == (384, 512)  # 4000x3000, Orientation=6
    assert _near(thumb.getpixel((thumb.width - 5, 5)), images.RED, tolerance=60)
    assert max(_open_jpeg(make_thumbnail(data, max_side=200)).size) == 200


def test_thumbnail_png_transparency_goes_white():
    thumb = _open_jpeg(make_thumbnail(images.png((1024, 768), "RGBA")))
    assert thumb.size == (512, 384)
    assert _near(thumb.getpixel((10, 10)), images.RED)
    assert _near(thumb.getpixel((500, 370)), (255, 255, 255))


GREY_RED, GREY_BLUE = (76, 76, 76), (29, 29, 29)  # their luma


@pytest.mark.parametrize(
    "mode, corner, rest",
    [
        ("P", images.RED, images.BLUE),
        ("L", GREY_RED, GREY_BLUE),
        ("I;16", GREY_RED, GREY_BLUE),  # 16-bit samples scaled down, not clipped to white
        ("1", None, None),  # dithered: only the size and mode are meaningful
    ],
)
def test_thumbnail_other_png_modes(mode, corner, rest):
    thumb = _open_jpeg(make_thumbnail(images.png((600, 300), mode)))
    assert thumb.mode == "RGB" and thumb.size == (512, 256)
    if corner:
        assert _near(thumb.getpixel((10, 10)), corner, tolerance=12)
        assert _near(thumb.getpixel((500, 250)), rest, tolerance=12)


def test_small_image_is_not_enlarged():
    thumb = _open_jpeg(make_thumbnail(images.png((100, 50))))
    assert thumb.size == (100, 50)


def test_thumbnail_of_heic():
    thumb = _open_jpeg(make_thumbnail(images.heic((1024, 768), images.make_exif(orientation=6))))
    assert thumb.size == (384, 512)
    assert _near(thumb.getpixel((thumb.width - 10, 10)), images.RED)


def test_thumbnail_refuses_broken_input():
    with pytest.raises(NotAnImage):
        make_thumbnail(images.truncated_jpeg())
    with pytest.raises(NotAnImage):
        make_thumbnail(images.text_file())


def test_inspect_and_thumbnail_in_one_decode():
    info, thumb = inspect_and_thumbnail(images.jpeg_12mp(), max_pixels=MAX_PIXELS)
    assert (info.width, info.height, info.orientation) == (3000, 4000, 6)
    assert info.gps == (pytest.approx(107.8123, abs=1e-6), pytest.approx(30.7123, abs=1e-6))
    assert _open_jpeg(thumb).size == (384, 512)
    with pytest.raises(NotAnImage):
        inspect_and_thumbnail(images.truncated_jpeg(), max_pixels=MAX_PIXELS)
    with pytest.raises(TooManyPixels):
        inspect_and_thumbnail(images.jpeg_12mp(), max_pixels=10_000_000)


def test_thumbnail_keeps_rgb_colour_profile_only():
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    images.marked((800, 600)).save(out, "JPEG", icc_profile=srgb)
    assert _open_jpeg(make_thumbnail(out.getvalue())).info.get("icc_profile") == srgb

    # A CMYK JPEG becomes RGB; its (CMYK) profile must not be carried over.
    cmyk = io.BytesIO()
    cmyk_profile = b"\0" * 16 + b"CMYK" + b"\0" * 108  # just the header field that matters
    images.marked((800, 600)).convert("CMYK").save(cmyk, "JPEG", icc_profile=cmyk_profile)
    thumb = _open_jpeg(make_thumbnail(cmyk.getvalue()))
    assert thumb.mode == "RGB" and "icc_profile" not in thumb.info
    assert _near(thumb.getpixel((10, 10)), images.RED)


# --------------------------------------------------------------------------- large pictures, reduced first


def _png_with_exif_after_the_pixels(size: tuple[int, int], exif: Image.Exif, mode: str = "RGB") -> bytes:
    """A PNG whose eXIf chunk follows its IDAT, as some writers place it."""
    plain = images.png(size, mode=mode)
    end = plain.rindex(b"IEND") - 4
    return plain[:end] + images._png_chunk(b"eXIf", exif.tobytes()) + plain[end:]


@pytest.mark.parametrize(
    "size, mode", [((600, 200), "RGB"), ((3000, 1000), "RGB"), ((3000, 1000), "P"), ((3000, 1000), "RGBA")]
)
def test_png_exif_behind_the_pixels_turns_and_places_a_picture_reduced_before_it_is_turned(size, mode):
    data = _png_with_exif_after_the_pixels(size, images.make_exif(orientation=6), mode=mode)
    info, thumb = inspect_and_thumbnail(data, max_pixels=MAX_PIXELS, max_decode_bytes=64 * 2**20)
    assert (info.width, info.height, info.orientation) == (size[1], size[0], 6)
    assert info.gps == pytest.approx((images.LON, images.LAT), abs=1e-6)
    img = _open_jpeg(thumb)
    long_side = min(512, max(size))
    assert img.size == (round(long_side * size[1] / size[0]), long_side)
    # Turned a quarter clockwise: the red top-left corner is now top-right.
    assert _near(img.getpixel((img.width - 5, 5)), images.RED)
    assert _near(img.getpixel((5, img.height - 5)), images.BLUE if mode != "RGBA" else (255, 255, 255))
