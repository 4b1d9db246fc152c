from flask import Blueprint

bp = Blueprint("articles", __name__, url_prefix="/api")
