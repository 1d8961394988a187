"""What every page shares: the staff session cookie, CSRF checks, translations in
templates, the base layout and its stylesheet, the fonts, speech, and the scripts every
page uses (`static/seira/`). Features register their own blueprints; the staff shell
(`staff/`) holds sign-in and the home page, which `SIGN_IN_VIEW` and `HOME_VIEW` name."""

from .blueprint import bp, init_app
from .session import current_staff, staff_required

__all__ = ["bp", "init_app", "current_staff", "staff_required"]
