"""Putting a photo through the real API in tests."""

import hashlib


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(client, headers, data: bytes) -> str:
    """PUT the bytes as a new photo (201) and return its name."""
    response = client.put(f"/api/v1/photos/{sha_of(data)}", data=data, headers=headers)
    assert response.status_code == 201, response.get_json()
    return sha_of(data)


def statuses(client, headers, sha: str) -> list[int]:
    """What metadata, thumbnail and original answer the caller: 200 each, or 404 each."""
    out = []
    for path in ("", "/thumb", "/original"):
        response = client.get(f"/api/v1/photos/{sha}{path}", headers=headers)
        out.append(response.status_code)
        response.close()
    return out
