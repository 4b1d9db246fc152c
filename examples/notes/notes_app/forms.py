"""The HTML pages' forms, and the CSRF protection every form POST goes through."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

# App-wide rather than per form, so a POST to any page without the token is refused (400),
# not just re-rendered with a form error.
csrf = CSRFProtect()


# Flask-WTF ships no type hints, so FlaskForm is Any to mypy.
class LoginForm(FlaskForm):  # type: ignore[misc]
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired()])


class NoteForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    body = TextAreaField("Body")
