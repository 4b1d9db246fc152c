"""Pydantic models: what v2 accepts (the same rules as legacy) and what it answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from shared import rules
from shared.models import User
from shared.queries import ArticleView, CommentView
from shared.timefmt import isoformat
from v2.errors import RULE_ERROR


def _rule(problem: Callable[[Any], str | None]) -> AfterValidator:
    """A Pydantic validator from one of ``shared.rules``' problem functions."""

    def check(value: Any) -> Any:
        if (message := problem(value)) is not None:
            raise PydanticCustomError(RULE_ERROR, message)
        return value

    return AfterValidator(check)


def _strip(value: str) -> str:
    return value.strip()


Trimmed = Annotated[str, AfterValidator(_strip)]
Text = Annotated[Trimmed, _rule(rules.text_problem)]
Title = Annotated[Trimmed, _rule(rules.title_problem)]
Username = Annotated[Trimmed, _rule(rules.username_problem)]
Email = Annotated[Trimmed, _rule(rules.email_problem), AfterValidator(str.lower)]
Password = Annotated[str, _rule(rules.password_problem)]
TagName = Annotated[Trimmed, _rule(rules.tag_problem)]
Limit = Annotated[int, _rule(rules.limit_problem)]
Offset = Annotated[int, _rule(rules.offset_problem)]
Filter = Annotated[str, _rule(rules.filter_problem)]


def _blank_to_none(value: str | None) -> str | None:
    return value or None  # an empty string clears the field


def _unless_empty(problem: Callable[[str], str | None]) -> Callable[[str | None], str | None]:
    return lambda value: problem(value) if value else None


Bio = Annotated[
    Trimmed | None, _rule(_unless_empty(rules.bio_problem)), AfterValidator(_blank_to_none)
]
Image = Annotated[
    Trimmed | None, _rule(_unless_empty(rules.image_problem)), AfterValidator(_blank_to_none)
]


class _Input(BaseModel):
    # Unknown fields (ids, author, counts, timestamps...) are ignored, never stored.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Update(_Input):
    """Every field optional, at least one given; only ``bio`` and ``image`` may be null."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in {"bio", "image"}:
            raise PydanticCustomError(RULE_ERROR, rules.NULL)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Any:
        if not self.model_fields_set:
            raise PydanticCustomError(RULE_ERROR, rules.NO_FIELDS)
        return self


class LoginUser(_Input):
    email: Annotated[Trimmed, _rule(rules.text_problem), AfterValidator(str.lower)]
    password: Annotated[str, _rule(rules.login_password_problem)]


class NewUser(_Input):
    username: Username
    email: Email
    password: Password


class UpdateUser(_Update):
    username: Username | None = None
    email: Email | None = None
    password: Password | None = None
    bio: Bio = None
    image: Image = None


class NewArticle(_Input):
    title: Title
    description: Text
    body: Text
    tag_list: list[TagName] = Field(default_factory=list, alias="tagList")


class UpdateArticle(_Update):
    title: Title | None = None
    description: Text | None = None
    body: Text | None = None
    tag_list: list[TagName] | None = Field(default=None, alias="tagList")


class NewComment(_Input):
    body: Text


# Output ---------------------------------------------------------------------------------

Timestamp = Annotated[datetime, PlainSerializer(isoformat, return_type=str)]


class _Output(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Profile(_Output):
    username: str
    bio: str | None
    image: str | None
    following: bool

    @classmethod
    def of(cls, user: User, *, following: bool) -> Profile:
        return cls(username=user.username, bio=user.bio, image=user.image, following=following)


class UserOut(_Output):
    email: str
    token: str
    username: str
    bio: str | None
    image: str | None

    @classmethod
    def of(cls, user: User, *, token: str) -> UserOut:
        return cls(
            email=user.email, token=token, username=user.username, bio=user.bio, image=user.image
        )


def _article_fields(view: ArticleView) -> dict[str, Any]:
    article = view.article
    return {
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "tag_list": article.tag_list,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "favorited": view.favorited,
        "favorites_count": view.favorites_count,
        "author": Profile.of(article.author, following=view.following),
    }


class ArticleListItem(_Output):
    """An article as listings show it: without its body."""

    slug: str
    title: str
    description: str
    tag_list: list[str]
    created_at: Timestamp
    updated_at: Timestamp
    favorited: bool
    favorites_count: int
    author: Profile


class ArticleOut(ArticleListItem):
    body: str

    @classmethod
    def of(cls, view: ArticleView) -> ArticleOut:
        return cls(**_article_fields(view), body=view.article.body)


class CommentOut(_Output):
    id: int
    created_at: Timestamp
    updated_at: Timestamp
    body: str
    author: Profile

    @classmethod
    def of(cls, view: CommentView) -> CommentOut:
        comment = view.comment
        return cls(
            id=comment.id,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            body=comment.body,
            author=Profile.of(comment.author, following=view.following),
        )


class UserEnvelope(_Output):
    user: UserOut


class ProfileEnvelope(_Output):
    profile: Profile


class ArticleEnvelope(_Output):
    article: ArticleOut


class ArticlesEnvelope(_Output):
    articles: list[ArticleListItem]
    articles_count: int


class CommentEnvelope(_Output):
    comment: CommentOut


class CommentsEnvelope(_Output):
    comments: list[CommentOut]


class TagsEnvelope(_Output):
    tags: list[str]


class ErrorBody(BaseModel):
    """Conduit's error shape: each field with what is wrong with it."""

    errors: dict[str, list[str]] = Field(examples=[{"title": ["can't be blank"]}])


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer, in Conduit's shape."""
    meaning = {
        401: "Missing or invalid token",
        403: "Not the author",
        404: "Not found",
        409: "Already taken",
        422: "Invalid input",
    }
    return {status: {"model": ErrorBody, "description": meaning[status]} for status in statuses}
