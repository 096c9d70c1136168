"""Usernames: the formats a school chooses from, and allocating unique ones.

A username is built from the name the person is known by (preferred forename), as plain ASCII letters
(`username_stem`), then made unique within the school, case-insensitively and counting archived accounts,
by appending the smallest free number from 2 (`UsernameAllocator`: JohnS, JohnS2, JohnS3...).

Stems are made of letters only (and the dot of `forename.surname`): digits in a name are dropped, so a
stem never ends in a digit and "JohnS2" can only ever mean "the second JohnS".
"""

from __future__ import annotations

from collections.abc import Iterable

from missync.core.names import ascii_name_parts

DEFAULT_USERNAME_FORMAT = "forename-surname-initial"

USERNAME_FORMATS: dict[str, str] = {
    "forename-surname-initial": "Forename + Surname initial (JohnS)",
    "full-name": "Full name (JohnSmith)",
    "initials": "Initials (JS)",
    "forename-initial-surname": "Forename initial + Surname (JSmith)",
    "forename.surname": "forename.surname, lower case (john.smith)",
    "surname-forename-initial": "Surname + Forename initial (SmithJ)",
}

# Long enough for nearly every real name, short enough to type and to fit on a login card.
MAX_STEM_LENGTH = 24
_LAST_RESORT_FALLBACK = "User"


def _capitalised_word(name: str) -> str:
    """The name's ASCII letters with each part's first letter upper-cased: "smith-jones" -> "SmithJones"."""
    letters_only = ("".join(char for char in part if char.isalpha()) for part in ascii_name_parts(name))
    return "".join(part[0].upper() + part[1:] for part in letters_only if part)


def _check_format(fmt: str) -> None:
    if fmt not in USERNAME_FORMATS:
        choices = ", ".join(USERNAME_FORMATS)
        raise ValueError(f"Unknown username format {fmt!r}: choose one of {choices}.")


def username_stem(fmt: str, forename: str, surname: str, fallback: str = "user") -> str:
    """Return the username a person would get if nobody else had it yet.

    `forename` should be the name the person is known by (preferred forename). Names are transliterated
    to ASCII letters ("Zoë" -> "Zoe", "O'Brien" -> "OBrien", "Smith-Jones" -> "SmithJones", initial "S")
    and each part's first letter is upper-cased: JohnS, JohnSmith, JS, JSmith, SmithJ; the
    `forename.surname` format is all lower case (john.smith). When a name part is empty the others are
    still used ("John" + "" -> "John"). When nothing is left (a name of emoji or punctuation only), the
    `fallback` is used, capitalised ("pupil" -> "Pupil"). Stems are cut to 24 characters.

    Raises ValueError for an unknown format.
    """
    _check_format(fmt)
    first, last = _capitalised_word(forename), _capitalised_word(surname)
    if fmt == "forename-surname-initial":
        stem = first + last[:1]
    elif fmt == "full-name":
        stem = first + last
    elif fmt == "initials":
        stem = first[:1] + last[:1]
    elif fmt == "forename-initial-surname":
        stem = first[:1] + last
    elif fmt == "surname-forename-initial":
        stem = last + first[:1]
    else:  # forename.surname
        stem = ".".join(part.lower() for part in (first, last) if part)
    stem = stem[:MAX_STEM_LENGTH].rstrip(".")
    if stem:
        return stem
    fallback_word = _capitalised_word(fallback)[:MAX_STEM_LENGTH] or _LAST_RESORT_FALLBACK
    return fallback_word.lower() if fmt == "forename.surname" else fallback_word


def _key(username: str) -> str:
    """Usernames are unique ignoring case: "JohnS" and "johns" are the same login."""
    return username.strip().casefold()


class UsernameAllocator:
    """Hands out usernames unique within one school, ignoring case.

    Give it every username already in use (active and archived accounts). Each username it allocates is
    reserved, so allocating for a whole roster in one pass never gives two people the same login.
    """

    def __init__(self, taken: Iterable[str]) -> None:
        """Start from the usernames already used in the school, active and archived."""
        self._taken: set[str] = {_key(username) for username in taken}
        # For each stem (as a key), the first number not yet known to be taken. Numbers below it are all
        # taken, and nothing is ever released, so this keeps allocation O(1) amortised per name even when
        # thousands of people share a stem.
        self._next_number: dict[str, int] = {}

    def is_taken(self, username: str) -> bool:
        """Return True if `username` (in any case) is already used or reserved."""
        return _key(username) in self._taken

    def reserve(self, username: str) -> None:
        """Mark `username` (in any case) as used, e.g. for an account created outside the allocator."""
        self._taken.add(_key(username))

    def allocate(self, fmt: str, forename: str, surname: str, fallback: str = "user") -> str:
        """Return a free username for this person in format `fmt`, and reserve it.

        The stem (`username_stem`) if nobody has it in any case, otherwise the stem followed by the
        smallest number from 2 that makes it free: JohnS, JohnS2, JohnS3... The case of the stem is kept.
        Raises ValueError for an unknown format.
        """
        stem = username_stem(fmt, forename, surname, fallback)
        stem_key = _key(stem)
        if stem_key not in self._taken:
            self._taken.add(stem_key)
            return stem
        number = self._next_number.get(stem_key, 2)
        while f"{stem_key}{number}" in self._taken:
            number += 1
        self._taken.add(f"{stem_key}{number}")
        self._next_number[stem_key] = number + 1
        return f"{stem}{number}"
