"""marshmallow schemas: what the legacy API accepts and how it renders answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validates_schema,
)

from shared import rules
from shared.queries import ArticleView, CommentView, ProfileView
from shared.timefmt import isoformat

_MESSAGES: dict[str, Any] = {
    "required": rules.BLANK,
    "null": rules.NULL,
    "invalid": rules.NOT_STRING,
}


class Text(fields.String):
    """A string with surrounding whitespace removed, so "  " counts as blank."""

    default_error_messages = _MESSAGES

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).strip()


def _check(problem: Callable[[str], str | None]) -> Callable[[str], None]:
    """A marshmallow validator from one of ``shared.rules``' problem functions."""

    def validator(value: str) -> None:
        if (message := problem(value)) is not None:
            raise ValidationError(message)

    return validator


def _text(problem: Callable[[str], str | None], *, required: bool = False) -> Text:
    return Text(required=required, validate=_check(problem))


def _nullable(problem: Callable[[str], str | None]) -> Text:
    # Empty strings mean "clear it": the schema's post_load turns them into None.
    return Text(allow_none=True, validate=_check(problem))


def _password(problem: Callable[[str], str | None], *, required: bool) -> fields.String:
    # Never trimmed: spaces are part of a password.
    return fields.String(required=required, error_messages=_MESSAGES, validate=_check(problem))


class _Input(Schema):
    class Meta:
        # Unknown fields (ids, author, counts, timestamps...) are ignored, never stored.
        unknown = EXCLUDE


class _Update(_Input):
    @validates_schema(pass_original=True)
    def _not_empty(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        if not data and not set(original or {}) & set(self.fields):
            raise ValidationError(rules.NO_FIELDS, field_name="body")


def _lower_email(data: dict[str, Any]) -> dict[str, Any]:
    if "email" in data:
        data["email"] = data["email"].lower()
    return data


class LoginSchema(_Input):
    email = _text(rules.text_problem, required=True)
    password = _password(rules.login_password_problem, required=True)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _lower_email(data)


class NewUserSchema(_Input):
    username = _text(rules.username_problem, required=True)
    email = _text(rules.email_problem, required=True)
    password = _password(rules.password_problem, required=True)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _lower_email(data)


class UpdateUserSchema(_Update):
    username = _text(rules.username_problem)
    email = _text(rules.email_problem)
    password = _password(rules.password_problem, required=False)
    bio = _nullable(rules.bio_problem)
    image = _nullable(rules.image_problem)

    @post_load
    def _normalise(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for name in ("bio", "image"):
            if data.get(name) == "":
                data[name] = None  # an empty string clears the field
        return _lower_email(data)


def _tag_list(*, required: bool = False) -> fields.List[str]:
    return fields.List(
        Text(validate=_check(rules.tag_problem)),
        required=required,
        error_messages={"null": rules.NULL, "invalid": rules.NOT_STRING_LIST},
    )


class NewArticleSchema(_Input):
    title = _text(rules.title_problem, required=True)
    description = _text(rules.text_problem, required=True)
    body = _text(rules.text_problem, required=True)
    tagList = _tag_list()


class UpdateArticleSchema(_Update):
    title = _text(rules.title_problem)
    description = _text(rules.text_problem)
    body = _text(rules.text_problem)
    tagList = _tag_list()


class NewCommentSchema(_Input):
    body = _text(rules.text_problem, required=True)


class PageArgs(_Input):
    limit = fields.Integer(
        load_default=rules.PAGE_LIMIT_DEFAULT,
        validate=_check(rules.limit_problem),  # type: ignore[arg-type]
        error_messages={"invalid": rules.NOT_INTEGER},
    )
    offset = fields.Integer(
        load_default=0,
        validate=_check(rules.offset_problem),  # type: ignore[arg-type]
        error_messages={"invalid": rules.NOT_INTEGER},
    )


class ArticleListArgs(PageArgs):
    tag = fields.String(validate=_check(rules.filter_problem))
    author = fields.String(validate=_check(rules.filter_problem))
    favorited = fields.String(validate=_check(rules.filter_problem))


# Output ---------------------------------------------------------------------------------


def profile_dict(user: Any, following: bool) -> dict[str, Any]:
    return {
        "username": user.username,
        "bio": user.bio,
        "image": user.image,
        "following": following,
    }


# What API doc generators (apispec) should say of the computed fields below.
_TIMESTAMP = {"type": "string", "format": "date-time"}
_PROFILE = {"allOf": [{"$ref": "#/components/schemas/LegacyProfile"}]}


class ProfileSchema(Schema):
    username = fields.String(attribute="user.username")
    bio = fields.String(attribute="user.bio", allow_none=True)
    image = fields.String(attribute="user.image", allow_none=True)
    following = fields.Boolean()


class UserSchema(Schema):
    email = fields.String()
    token = fields.String()
    username = fields.String()
    bio = fields.String(allow_none=True)
    image = fields.String(allow_none=True)


class ArticleSchema(Schema):
    slug = fields.String(attribute="article.slug")
    title = fields.String(attribute="article.title")
    description = fields.String(attribute="article.description")
    body = fields.String(attribute="article.body")
    tagList = fields.List(fields.String(), attribute="article.tag_list")
    createdAt = fields.Function(lambda v: isoformat(v.article.created_at), metadata=_TIMESTAMP)
    updatedAt = fields.Function(lambda v: isoformat(v.article.updated_at), metadata=_TIMESTAMP)
    favorited = fields.Boolean()
    favoritesCount = fields.Integer(attribute="favorites_count")
    author = fields.Function(
        lambda v: profile_dict(v.article.author, v.following), metadata=_PROFILE
    )


class CommentSchema(Schema):
    id = fields.Integer(attribute="comment.id")
    createdAt = fields.Function(lambda v: isoformat(v.comment.created_at), metadata=_TIMESTAMP)
    updatedAt = fields.Function(lambda v: isoformat(v.comment.updated_at), metadata=_TIMESTAMP)
    body = fields.String(attribute="comment.body")
    author = fields.Function(
        lambda v: profile_dict(v.comment.author, v.following), metadata=_PROFILE
    )


class ArticleListItemSchema(ArticleSchema):
    """Listings omit the body: the contract's MultipleArticlesResponse has none."""

    class Meta:
        exclude = ("body",)


# The envelopes every answer comes in; the views' docstrings document them (apispec).
class UserEnvelopeSchema(Schema):
    user = fields.Nested(UserSchema, required=True)


class ProfileEnvelopeSchema(Schema):
    profile = fields.Nested(ProfileSchema, required=True)


class ArticleEnvelopeSchema(Schema):
    article = fields.Nested(ArticleSchema, required=True)


class ArticlesEnvelopeSchema(Schema):
    articles = fields.List(fields.Nested(ArticleListItemSchema), required=True)
    articlesCount = fields.Integer(required=True)


class CommentEnvelopeSchema(Schema):
    comment = fields.Nested(CommentSchema, required=True)


class CommentsEnvelopeSchema(Schema):
    comments = fields.List(fields.Nested(CommentSchema), required=True)


class TagsSchema(Schema):
    tags = fields.List(fields.String(), required=True)


class ErrorsSchema(Schema):
    """Every error: ``{"errors": {"<field>": ["<message>", ...]}}``."""

    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


profile_schema = ProfileSchema()
user_schema = UserSchema()
article_schema = ArticleSchema()
articles_schema = ArticleListItemSchema(many=True)
comment_schema = CommentSchema()
comments_schema = CommentSchema(many=True)

__all__ = [
    "ArticleListArgs",
    "ArticleView",
    "CommentView",
    "LoginSchema",
    "NewArticleSchema",
    "NewCommentSchema",
    "NewUserSchema",
    "ProfileView",
    "UpdateArticleSchema",
    "UpdateUserSchema",
    "article_schema",
    "articles_schema",
    "comment_schema",
    "comments_schema",
    "profile_schema",
    "user_schema",
]
