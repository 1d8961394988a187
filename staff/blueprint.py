"""Every URL of the staff shell: the home page, sign-in and sign-out, one's own password."""

from flask import Blueprint

from . import views

bp = Blueprint("staff", __name__, template_folder="templates")

_RULES = [
    ("/", views.home, ["GET"]),
    ("/signin", views.sign_in, ["GET", "POST"]),
    ("/signout", views.sign_out, ["POST"]),
    ("/password", views.password, ["GET", "POST"]),
]

for rule, view, methods in _RULES:
    bp.add_url_rule(rule, view_func=view, methods=methods)

# what the shared page machinery (server/web) sends people to, by endpoint name
VIEWS = {
    "SIGN_IN_VIEW": "staff.sign_in",
    "HOME_VIEW": "staff.home",
    "SIGN_OUT_VIEW": "staff.sign_out",
    "PASSWORD_VIEW": "staff.password",
}
