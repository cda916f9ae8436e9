"""Password rules beyond Django's own validators (等保 level 3 password complexity).

``AUTH_PASSWORD_VALIDATORS`` in settings puts these beside Django's minimum length
(``PASSWORD_MIN_LENGTH``, ``JINGZHUN_PASSWORD_MIN_LENGTH``, default 10), user-attribute
similarity, common-password and all-digits validators. Every way a password is set goes through
them: ``jingzhun create-user`` and ``county-setup``, the first-run page, the admin's add-user and
set-password forms, and a user's own password change.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> set[str]:
    """Return which of the four classes (lower, upper, digit, other) the password uses."""
    found: set[str] = set()
    for char in password:
        if char.isdigit():
            found.add("digit")
        elif char.islower():
            found.add("lower")
        elif char.isupper():
            found.add("upper")
        else:
            found.add("other")  # punctuation, spaces, and letters without case (汉字)
    return found


class CharacterClassesValidator:
    """Require characters of at least `min_classes` of: lower case, upper case, digits, others."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                self.get_help_text(), code="password_too_simple", params={"n": self.min_classes}
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must mix at least %(n)d kind of character: lower-case letters, "
            "upper-case letters, digits, other characters.",
            "Your password must mix at least %(n)d kinds of characters: lower-case letters, "
            "upper-case letters, digits, other characters.",
            self.min_classes,
        ) % {"n": self.min_classes}


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


class NotContainingUsernameValidator:
    """Refuse a password that contains the user name, forwards or backwards.

    Django's UserAttributeSimilarityValidator refuses a password close to the user name as a
    whole; this also refuses ``zhangsan@2024`` for user ``zhangsan``. User names shorter than
    `min_length` are not looked for (they occur in too many words).
    """

    def __init__(self, min_length: int = 3) -> None:
        self.min_length = min_length

    def validate(self, password: str, user: Any = None) -> None:
        username = _fold(str(getattr(user, "username", "") or "")) if user is not None else ""
        if len(username) < self.min_length:
            return
        folded = _fold(password)
        if username in folded or username[::-1] in folded:
            raise ValidationError(
                _("Your password must not contain your user name."),
                code="password_contains_username",
            )

    def get_help_text(self) -> str:
        return _("Your password must not contain your user name.")
