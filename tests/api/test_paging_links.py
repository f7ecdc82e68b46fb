"""Paged lists carry RFC 8288 ``Link`` headers (first, prev, next, last) beside the body's page,
per_page and total; following ``next`` from the first page visits every record once."""

import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest

LINK = re.compile(r'<(?P<url>[^>]*)>;\s*rel="(?P<rel>[a-z]+)"')
LISTS = [
    "/api/v1/enterprises",
    "/api/v1/grids",
    "/api/v1/people",
    "/api/v1/hazards",
    "/api/v1/plans",
    "/api/v1/public/random-draws",
]


def links(response) -> dict:
    return {m["rel"]: m["url"] for m in LINK.finditer(response.headers.get("Link", ""))}


def page_of(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["page"][0])


def test_following_next_visits_every_enterprise_once_and_keeps_the_filters(client, login):
    desk = login("desk")
    url, seen, pages = "/api/v1/enterprises?industry=fireworks&per_page=7", [], 0
    total = client.get(url, headers=desk).get_json()["total"]
    assert total > 14
    last = math.ceil(total / 7)
    while url:
        response = client.get(url, headers=desk)
        body, rels = response.get_json(), links(response)
        pages += 1
        assert body["page"] == pages
        seen += [item["id"] for item in body["items"]]
        assert page_of(rels["first"]) == 1 and page_of(rels["last"]) == last
        assert ("prev" in rels) == (pages > 1) and ("next" in rels) == (pages < last)
        for target in rels.values():
            query = parse_qs(urlsplit(target).query)
            assert query["industry"] == ["fireworks"] and query["per_page"] == ["7"]
        url = rels.get("next")
    assert pages == last and len(seen) == len(set(seen)) == total


@pytest.mark.parametrize("path", LISTS)
def test_every_paged_list_links_its_pages_and_documents_it(client, login, path):
    response = client.get(path, headers=login("admin"), query_string={"per_page": 1, "page": 1})
    assert response.status_code == 200
    body, rels = response.get_json(), links(response)
    assert page_of(rels["first"]) == 1 and page_of(rels["last"]) == max(1, body["total"])
    assert "prev" not in rels and ("next" in rels) == (body["total"] > 1)
    document = client.get("/api/v1/openapi.json").get_json()
    assert "Link" in document["paths"][path]["get"]["responses"]["200"]["headers"]


def test_a_page_past_the_end_links_back_to_the_last(client, login):
    response = client.get("/api/v1/people", headers=login("desk"), query_string={"per_page": 5, "page": 999})
    rels, total = links(response), response.get_json()["total"]
    assert response.get_json()["items"] == [] and "next" not in rels
    assert page_of(rels["prev"]) == page_of(rels["last"]) == math.ceil(total / 5)
