"""Photos named by inspections, hazards and patrols: visible exactly to who may see those records."""

import hashlib

from tests.evidence.images import jpeg, make_exif


def test_photo_of_an_inspection_follows_the_inspection_scope(client, login, inspection_body, first_items):
    data = jpeg(exif=make_exif())
    sha = hashlib.sha256(data).hexdigest()
    inspector = login("inspector1")
    assert (
        client.put(f"/api/v1/photos/{sha}", headers={**inspector, "Content-Type": "image/jpeg"}, data=data).status_code
        == 201
    )
    body = inspection_body(fail=[first_items[0]])
    for answer in body["answers"]:
        if answer["result"] == "fail":
            answer["photos"] = [sha]
    out = client.post("/api/v1/inspections", headers=inspector, json=body).get_json()
    assert out["missing_photos"] == []
    # The grid worker of that grid sees it (through the hazard and the inspection); the neighbour does not.
    seen = client.get(f"/api/v1/photos/{sha}", headers=login("gridworker1"))
    assert seen.status_code == 200
    entities = {g["entity"] for g in seen.get_json()["geotag"]}
    assert {"inspection", "hazard"} <= entities
    assert client.get(f"/api/v1/photos/{sha}", headers=login("gridworker2")).status_code == 404
    assert client.get(f"/api/v1/photos/{sha}/thumb", headers=login("gridworker1")).status_code == 200
