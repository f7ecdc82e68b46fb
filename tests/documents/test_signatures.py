"""Signatures captured on the phone: pushed with the record (sync) or posted (REST), judged by decoding,
kept as a re-encoded PNG photo, and printed on the 现场检查记录 and the hazard documents in place of the
blank line; a bad image is refused alone (problem+json / a rejected result with a code and Chinese text)."""

import base64
import hashlib
import io
import os
import re
import subprocess
import tempfile
import uuid

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from documents.models import Signature
from evidence.models import Photo
from tests.documents.conftest import _order, pdf_text

SIGNED_AT = "2026-11-22T10:20:00+08:00"


def drawn_signature(fmt="PNG", size=(600, 200), seed=0) -> str:
    """A hand-drawn-like stroke on a transparent (PNG) or white (JPEG) canvas, base64."""
    mode = "RGBA" if fmt == "PNG" else "RGB"
    img = Image.new(mode, size, (255, 255, 255, 0) if fmt == "PNG" else (255, 255, 255))
    draw = ImageDraw.Draw(img)
    points = [(20 + i * 18, size[1] // 2 + int(50 * ((i * 7 + seed) % 5 - 2) / 2)) for i in range(30)]
    draw.line(points, fill=(0, 0, 0, 255) if fmt == "PNG" else (0, 0, 0), width=6)
    out = io.BytesIO()
    img.save(out, fmt)
    return base64.b64encode(out.getvalue()).decode()


def _body(record_id, role="party", document="site_inspection_record", image=None, **extra) -> dict:
    body = {
        "document": document,
        "record_id": str(record_id),
        "role": role,
        "image": image or drawn_signature(),
        "signed_at": SIGNED_AT,
    }
    body.update(extra)
    return body


def _images(pdf: bytes) -> int:
    """Raster images in the PDF (pdfimages -list; the QR code is vector)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        listing = subprocess.run(["pdfimages", "-list", f.name], capture_output=True, check=True, text=True).stdout
    return sum(1 for line in listing.splitlines()[2:] if line.strip() and line.split()[2] == "image")


def _first_page_png(pdf: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "doc.pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", path, os.path.join(folder, "page")],
            check=True,
        )
        with open(os.path.join(folder, "page.png"), "rb") as f:
            return f.read()


def _flat(pdf: bytes) -> str:
    return re.sub(r"\s+", "", pdf_text(pdf, layout=False))


def test_signatures_posted_for_an_inspection_are_printed_on_its_record(
    client, login, demo, inspection_body, issue, first_items, session
):
    headers = login("inspector1")
    body = inspection_body(fail=[first_items[0]])
    assert client.post("/api/v1/inspections", headers=headers, json=body).status_code == 201
    unsigned = issue("inspector1", "inspections", body["id"], "site_inspection_record").get_json()
    unsigned_pdf = client.get(unsigned["pdf"], headers=headers).data
    assert _images(unsigned_pdf) == 0 and "被检查单位现场负责人（签名）" in _flat(unsigned_pdf)

    party = client.post("/api/v1/signatures", headers=headers, json=_body(body["id"], signer_name="李志强"))
    assert party.status_code == 201, party.get_json()
    signed = party.get_json()
    assert signed["role"] == "party" and signed["signer_name"] == "李志强" and signed["signed_at"] == SIGNED_AT
    # Kept as a PNG we wrote: grey, its hash the name of a photo.
    photo = session.get(Photo, signed["sha256"])
    assert photo.mime == "image/png" and (photo.width, photo.height) == (600, 200)
    original = client.get(signed["image"], headers=headers)
    assert original.status_code == 200 and hashlib.sha256(original.data).hexdigest() == signed["sha256"]
    assert Image.open(io.BytesIO(original.data)).mode == "L"
    for officer in ("inspector1", "inspector2"):
        made = client.post(
            "/api/v1/signatures",
            headers=headers,
            json=_body(
                body["id"],
                role="officer",
                signer_id=str(demo.users[officer].id),
                image=drawn_signature("JPEG", seed=len(officer) + (officer == "inspector2")),
            ),
        )
        assert made.status_code == 201, made.get_json()
        assert made.get_json()["signer_name"] == demo.users[officer].name
    again = client.post(
        "/api/v1/signatures", headers=headers, json=_body(body["id"], signer_name="李志强") | {"id": str(uuid.uuid4())}
    )
    assert again.status_code == 201  # signed again: the latest is printed, once

    corrected = issue("inspector1", "inspections", body["id"], "site_inspection_record", replaces=unsigned["id"])
    assert corrected.status_code == 201, corrected.get_json()
    pdf = client.get(corrected.get_json()["pdf"], headers=headers).data
    assert _images(pdf) == 3  # the party once, both inspectors
    text_ = _flat(pdf)
    assert "李志强2026年11月22日" in text_ and f"{demo.users['inspector2'].name}2026年11月22日" in text_
    assert _first_page_png(pdf) != _first_page_png(unsigned_pdf)
    # The enterprise's officer sees the signatures of its record; another town's grid worker does not.
    assert client.get(signed["image"], headers=login("enterprise1")).status_code == 200
    assert client.get(signed["image"], headers=login("gridworker3")).status_code == 404


def test_a_rectification_order_prints_the_partys_signature(client, login, raise_hazards, clock, issue):
    general, _ = raise_hazards()
    headers = login("inspector1")
    assert _order(client, headers, clock, general).status_code == 200
    made = client.post(
        "/api/v1/signatures", headers=headers, json=_body(general, document="rectification_order", signer_name="王建国")
    )
    assert made.status_code == 201, made.get_json()
    order = issue("inspector1", "hazards", general, "rectification_order").get_json()
    pdf = client.get(order["pdf"], headers=headers).data
    assert _images(pdf) == 1 and "王建国2026年11月22日" in _flat(pdf)
    recheck = issue("inspector1", "hazards", general, "on_site_measures")  # not signable: never printed there
    assert recheck.status_code in (409, 422)


def test_a_bad_signature_is_refused_alone_in_a_push_and_the_rest_is_applied(
    client, login, demo, inspection_body, first_items, session, issue
):
    headers = login("inspector1")
    body = inspection_body(fail=[first_items[0]])
    inspection_id = body.pop("id")
    big = base64.b64encode(os.urandom(600 * 1024)).decode()
    out = io.BytesIO()
    Image.new("L", (2100, 2000), 255).save(out, "PNG")  # 4.2 MP of white: small file, too many pixels
    huge = base64.b64encode(out.getvalue()).decode()
    not_image = base64.b64encode(b"%PDF-1.4 not a signature").decode()
    good_id = str(uuid.uuid4())

    def change(entity, record_id, data):
        return {
            "entity": entity,
            "op": "create",
            "id": record_id,
            "recorded_at": "2026-11-22T10:21:00+08:00",
            "data": data,
        }

    changes = [
        change("inspection", inspection_id, body),
        change("signature", str(uuid.uuid4()), _body(inspection_id, signer_name="李志强", image=not_image)),
        change("signature", str(uuid.uuid4()), _body(inspection_id, signer_name="李志强", image=big)),
        change("signature", str(uuid.uuid4()), _body(inspection_id, signer_name="李志强", image=huge)),
        change("signature", str(uuid.uuid4()), _body(inspection_id, signer_name="李志强", image="不是base64")),
        change("signature", good_id, _body(inspection_id, signer_name="李志强")),
    ]
    batch = {"batch_id": str(uuid.uuid4()), "sent_at": "2026-11-22T10:22:00+08:00", "changes": changes}
    response = client.post("/api/v1/sync/push", headers=headers, json=batch)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected", "rejected", "rejected", "applied"]
    assert [r.get("code") for r in results[1:5]] == [
        "signature.not_an_image",
        "signature.too_large",
        "signature.too_many_pixels",
        "signature.not_an_image",
    ]
    for rejected in results[1:5]:
        assert rejected["retryable"] is False
        (error,) = rejected["errors"]
        assert error["field"] == "data.image" and re.search(r"[\u4e00-\u9fff]", error["message"])
    assert session.scalar(select(func.count()).select_from(Signature)) == 1
    # Exactly once: the same batch again answers the same; the good change alone again is a duplicate.
    assert client.post("/api/v1/sync/push", headers=headers, json=batch).get_json()["results"] == results
    resent = client.post(
        "/api/v1/sync/push",
        headers=headers,
        json={"batch_id": str(uuid.uuid4()), "sent_at": "2026-11-22T10:23:00+08:00", "changes": [changes[-1]]},
    )
    assert resent.get_json()["results"][0]["status"] == "duplicate"
    reused = client.post(
        "/api/v1/sync/push",
        headers=headers,
        json={
            "batch_id": str(uuid.uuid4()),
            "sent_at": "2026-11-22T10:23:00+08:00",
            "changes": [change("signature", good_id, _body(inspection_id, signer_name="别人"))],
        },
    )
    assert reused.get_json()["results"][0]["code"] == "sync.id_reused"

    document = issue("inspector1", "inspections", inspection_id, "site_inspection_record").get_json()
    pdf = client.get(document["pdf"], headers=headers).data
    assert _images(pdf) == 1 and "李志强" in _flat(pdf)


def test_a_bad_signature_is_refused_over_rest_with_a_code_and_nothing_is_stored(
    client, login, inspection_body, session, demo
):
    headers = login("inspector1")
    body = inspection_body()
    assert client.post("/api/v1/inspections", headers=headers, json=body).status_code == 201
    out = io.BytesIO()
    Image.new("RGB", (2100, 2000), "white").save(out, "JPEG", quality=20)
    heic_like = base64.b64encode(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64).decode()
    for image, status, code in (
        (base64.b64encode(b"hello").decode(), 422, "signature.not_an_image"),
        (heic_like, 422, "signature.not_an_image"),
        (base64.b64encode(os.urandom(513 * 1024)).decode(), 413, "signature.too_large"),
        (base64.b64encode(out.getvalue()).decode(), 413, "signature.too_many_pixels"),
    ):
        refused = client.post(
            "/api/v1/signatures", headers=headers, json=_body(body["id"], signer_name="李志强", image=image)
        )
        assert refused.status_code == status and refused.mimetype == "application/problem+json"
        problem = refused.get_json()
        assert problem["code"] == code and problem["errors"][0]["field"] == "image", problem
        assert re.search(r"[\u4e00-\u9fff]", problem["title"]) and re.search(r"[\u4e00-\u9fff]", problem["detail"])
    assert session.scalar(select(func.count()).select_from(Signature)) == 0
    assert session.scalar(select(func.count()).select_from(Photo).where(Photo.mime == "image/png")) == 0


def test_who_may_sign_what(client, login, demo, inspection_body, raise_hazards):
    headers = login("inspector1")
    body = inspection_body(inspectors=[demo.users["inspector1"].id, demo.users["inspector2"].id])
    assert client.post("/api/v1/inspections", headers=headers, json=body).status_code == 201
    no_name = client.post("/api/v1/signatures", headers=headers, json=_body(body["id"]))
    assert no_name.status_code == 422 and no_name.get_json()["errors"][0]["field"] == "signer_name"
    desk = client.post(
        "/api/v1/signatures",
        headers=headers,
        json=_body(body["id"], role="officer", signer_id=str(demo.users["desk"].id)),
    )
    assert desk.get_json()["errors"][0]["code"] == "signature.not_an_officer"
    assert (
        client.post(
            "/api/v1/signatures", headers=login("enterprise1"), json=_body(body["id"], signer_name="李志强")
        ).status_code
        == 403
    )
    unknown = client.post("/api/v1/signatures", headers=headers, json=_body(uuid.uuid4(), signer_name="李志强"))
    assert unknown.get_json()["code"] == "sync.unknown_reference"
    general, _ = raise_hazards()
    wrong_kind = client.post("/api/v1/signatures", headers=headers, json=_body(general, signer_name="李志强"))
    assert wrong_kind.get_json()["code"] == "sync.unknown_reference"  # a hazard id is no inspection


def test_a_record_outside_the_callers_scope_is_404_for_its_signature(client, login):
    """A hazard reported (by admin) outside the district: the district's inspector may not see it, so a
    signature for it is 404, its existence not revealed — over REST and in a push."""
    hazard_id = str(uuid.uuid4())
    made = client.post(
        "/api/v1/hazards",
        headers=login("admin"),
        json={
            "id": hazard_id,
            "level": "general",
            "description": "区外的隐患",
            "found_at": "2026-11-22T09:00:00+08:00",
            "location": {"lon": 100.0, "lat": 25.0},
        },
    )
    assert made.status_code == 201, made.get_json()
    headers = login("inspector1")
    refused = client.post(
        "/api/v1/signatures",
        headers=headers,
        json=_body(hazard_id, document="rectification_order", signer_name="李志强"),
    )
    assert refused.status_code == 404 and refused.get_json()["code"] == "scope.not_visible"
    pushed = client.post(
        "/api/v1/sync/push",
        headers=headers,
        json={
            "batch_id": str(uuid.uuid4()),
            "sent_at": "2026-11-22T10:22:00+08:00",
            "changes": [
                {
                    "entity": "signature",
                    "op": "create",
                    "id": str(uuid.uuid4()),
                    "recorded_at": "2026-11-22T10:21:00+08:00",
                    "data": _body(hazard_id, document="rectification_order", signer_name="李志强"),
                }
            ],
        },
    )
    result = pushed.get_json()["results"][0]
    assert result["status"] == "rejected" and result["code"] == "scope.not_visible"
