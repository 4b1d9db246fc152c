"""The Flask-SQLAlchemy extension, on a SQLAlchemy 2 declarative base."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:
    # mypy cannot subclass an attribute of an instance (python/mypy#8603); db.Model is
    # built from Base, so to the type checker the models are plain declarative classes.
    Model = Base
else:
    Model = db.Model
