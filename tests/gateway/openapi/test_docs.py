"""``/docs`` and ``/redoc`` need no internet: every asset they load comes from the gateway."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pytest

from gateway.app import ASSETS_URL
from gateway.records.store import RecordStore
from shared.db import Database
from shared.settings import Settings
from tests.gateways import conduit_gateway
from tests.serving import running_server

PAGES = {
    "/docs": {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"},
    "/redoc": {"redoc.standalone.js", "favicon.png"},
}
CONTENT_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


class _AssetLinks(HTMLParser):
    """The URLs a page makes the browser fetch: scripts, stylesheets, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        url = attributes.get("src") if tag == "script" else None
        if tag == "link":
            url = attributes.get("href")
        if url:
            self.urls.append(url)


def _asset_urls(html: str) -> list[str]:
    parser = _AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", PAGES)
def test_the_page_loads_only_assets_the_gateway_serves(client: httpx.Client, page: str) -> None:
    response = client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = _asset_urls(response.text)
    assert not [url for url in urls if "//" in url]
    assert {url.rpartition("/")[2] for url in urls} == PAGES[page]
    assert all(url.startswith(f"{ASSETS_URL}/") for url in urls)
    for outside in ("cdn.jsdelivr.net", "unpkg.com", "fonts.googleapis.com", "tiangolo.com"):
        assert outside not in response.text


@pytest.mark.parametrize("page", PAGES)
def test_every_asset_of_the_page_answers_with_its_content_type(
    client: httpx.Client, page: str
) -> None:
    for url in _asset_urls(client.get(page).text):
        response = client.get(url)

        assert response.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url
        # The real bundles, not a stub: each JS/CSS file is over 100 kB.
        assert len(response.content) > (100_000 if suffix != ".png" else 1_000), url


def test_an_unknown_asset_is_404(client: httpx.Client) -> None:
    assert client.get(f"{ASSETS_URL}/nothing.js").status_code == 404


def test_the_swagger_ui_oauth2_redirect_page_is_served(client: httpx.Client) -> None:
    response = client.get("/docs/oauth2-redirect")

    assert response.status_code == 200
    assert "oauth2" in response.text


def test_the_schema_the_pages_read_is_openapi_3_1_without_the_doc_routes(
    client: httpx.Client,
) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.1")
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(schema["paths"])


def test_behind_a_proxy_that_strips_a_prefix_the_pages_use_prefixed_urls(
    settings: Settings, database: Database, records: RecordStore
) -> None:
    app = conduit_gateway(settings, database, records)

    with running_server(app, root_path="/gateway") as base, httpx.Client(base_url=base) as http:
        page = http.get("/docs").text
        urls = _asset_urls(page)
        assert urls
        assert all(url.startswith(f"/gateway{ASSETS_URL}/") for url in urls)
        assert "url: '/gateway/openapi.json'" in page
        # The proxy strips the prefix again on the way in.
        assert http.get(urls[0].removeprefix("/gateway")).status_code == 200
