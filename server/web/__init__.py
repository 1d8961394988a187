"""What every page shares: staff sign-in by session cookie, CSRF checks, translations in
templates, the base layout and its stylesheet. Features register their own blueprints."""

from .blueprint import bp, init_app
from .session import current_staff, staff_required

__all__ = ["bp", "init_app", "current_staff", "staff_required"]
