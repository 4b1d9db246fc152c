"""The benchmark's data, seeded through the legacy API: 3 users, follows, 30 articles."""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

ARTICLES = 30
AUTHORS = ("author1", "author2")
READER = "reader"
PASSWORD = "benchmark-pw"


@dataclass(frozen=True)
class Seeded:
    token: str  # the reader's, who follows both authors
    slug: str  # one of the articles


def login_body(username: str = AUTHORS[0]) -> str:
    """A JSON login request for a seeded user."""
    return json.dumps({"user": {"email": f"{username}@example.com", "password": PASSWORD}})


def seed(api: str) -> Seeded:
    """Users, follows and articles (3 tags each) through the legacy API under ``api``."""
    tokens = []
    with httpx.Client(base_url=api, timeout=60) as http:
        for name in (*AUTHORS, READER):
            user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
            answer = http.post("/users", json={"user": user})
            answer.raise_for_status()
            tokens.append(answer.json()["user"]["token"])
        reader = {"Authorization": f"Token {tokens[-1]}"}
        for author in AUTHORS:
            http.post(f"/profiles/{author}/follow", headers=reader).raise_for_status()
        slug = ""
        for n in range(ARTICLES):
            article = {
                "title": f"Article {n}",
                "description": f"About {n}",
                "body": "Lorem ipsum dolor sit amet. " * 40,
                "tagList": [f"tag{n % 7}", f"topic{n % 5}", "bench"],
            }
            headers = {"Authorization": f"Token {tokens[n % len(AUTHORS)]}"}
            answer = http.post("/articles", json={"article": article}, headers=headers)
            answer.raise_for_status()
            slug = answer.json()["article"]["slug"]
    return Seeded(tokens[-1], slug)
