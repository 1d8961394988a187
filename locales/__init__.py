"""gettext catalogs, one folder per language: <lang>/LC_MESSAGES/messages.po."""
