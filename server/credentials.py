"""What a username and a password must be: one rule for the command line, the admin pages,
a reset and a change of one's own password.

A password is at least 12 characters, not only spaces, does not contain the username, and
is not one of the passwords people pick most (the list Django ships, in `data/`). Most such
passwords are short; the longer ones are keyboard runs and words with digits on the end,
so a password that is a listed one with a few digits or signs added is refused too.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib import resources

MIN_LENGTH = 12
USERNAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
USERNAME_MAX = 64
# digits and signs that people add to a common password to make it pass a rule
_DECORATION = re.compile(r"[\d\W_]{1,4}$")

TOO_SHORT = "a password needs at least 12 characters"
BLANK = "a password cannot be only spaces"
HAS_USERNAME = "a password cannot contain the username"
COMMON = "this password is too common"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once: about 20,000 lowercase passwords."""
    data = resources.files("server").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def is_common(password: str) -> bool:
    """Whether it is a listed password, or one with at most four digits or signs added."""
    lowered = password.lower()
    common = common_passwords()
    return lowered in common or _DECORATION.sub("", lowered) in common


def password_problem(username: str, password: str) -> str | None:
    """Why a password is refused (one of the messages above), or None."""
    if len(password) < MIN_LENGTH:
        return TOO_SHORT
    if not password.strip():
        return BLANK
    if username and username.lower() in password.lower():
        return HAS_USERNAME
    if is_common(password):
        return COMMON
    return None


def username_problem(username: str) -> str | None:
    """Why a username is refused, or None: lowercase letters, digits and single dashes."""
    if not USERNAME.match(username) or len(username) > USERNAME_MAX:
        return "a username is lowercase letters, digits and dashes"
    return None
