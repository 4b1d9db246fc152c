"""Signing in and out of the HTML pages: Flask-Login sessions, a Flask-WTF form."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, login_user, logout_user
from sqlalchemy import select

from notes_app.db import db
from notes_app.forms import LoginForm
from notes_app.models import User

bp = Blueprint("auth", __name__)

login_manager = LoginManager()
login_manager.login_view = "auth.login"


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


# Registered by a call, not as a decorator: LoginManager is untyped, and would untype it.
login_manager.user_loader(load_user)


def _safe_next(target: str | None) -> str:
    # Flask-Login's docs warn that an unchecked `next` turns the login page into an open
    # redirect; only a path on this site is followed ("//host" and "/\host" are other sites
    # to a browser).
    if target and target.startswith("/") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.list_notes")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == form.username.data))
        if user is not None and user.check_password(form.password.data):
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong username or password.", "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))
