"""People's names: cleaning what the MIS sends, ASCII forms for usernames, and "similar name" checks.

Names keep their real spelling everywhere they are shown (`clean_name`). Only usernames and comparisons use
the plain ASCII form (`ascii_letters`, `name_key`), so "Zoë" and "Zoe" compare equal but "Zoë" is still
printed on her login card.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from anyascii import anyascii

# Zero-width (non-)joiners are format characters, but they change how Persian, Indic and other names
# are written, so they survive cleaning; other format characters (zero-width space, BOM, soft hyphen)
# are copy-and-paste debris.
_KEPT_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})
_NOT_ASCII_ALNUM = re.compile(r"[^A-Za-z0-9]+")
# Hyphens, dashes and whitespace separate the parts of a double-barrelled or multi-word surname.
_NAME_PART_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u00ad]+")

# Two forenames are "similar" at or above this difflib ratio (Amelia/Amelie is 0.83).
SIMILAR_FORENAME_RATIO = 0.8
# The shorter forename must have at least this many letters to count as a prefix of the other
# (Sam/Samuel, Alex/Alexander, but not Jo/Joanna).
MIN_PREFIX_LETTERS = 3


def clean_name(text: str | None) -> str:
    """Return a name as it should be stored and shown.

    Any whitespace (tabs, newlines, non-breaking spaces) becomes a plain space; other control and format
    characters (and lone surrogates) are dropped; the result is NFC-normalised, stripped, and runs of
    spaces are collapsed to one. `None` gives "". Cleaning twice changes nothing.
    """
    if not text:
        return ""
    if text.isascii() and text.isprintable():  # the common case, fast: only spaces to tidy
        return " ".join(text.split())
    kept: list[str] = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cs") or (
            unicodedata.category(char) == "Cf" and char not in _KEPT_FORMAT_CHARACTERS
        ):
            continue
        else:
            kept.append(char)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def _transliterate(text: str) -> str:
    """Letters, marks and numbers of `text` transliterated to ASCII; anything else becomes a space.

    Replacing symbols before transliterating matters: anyascii spells emoji out (":slight_smile:"),
    which must not become part of a username. Spaces keep the word boundaries ("O'Brien" -> "O Brien").
    """
    if text.isascii():  # the common case, fast: ASCII letters and digits are already what we want
        return _NOT_ASCII_ALNUM.sub(" ", text)
    wanted = "".join(char if unicodedata.category(char)[0] in "LMN" else " " for char in text)
    return anyascii(unicodedata.normalize("NFC", wanted))


def ascii_letters(text: str) -> str:
    """Return the name as plain ASCII letters and digits, case kept.

    Accented and non-Latin letters are transliterated with anyascii ("Zoë" -> "Zoe", "Łukasz" -> "Lukasz",
    "Дмитрий" -> "Dmitriy", "王秀英" -> "WangXiuYing"); everything else that is not [A-Za-z0-9] after
    transliteration is dropped ("O'Brien" -> "OBrien", "Smith-Jones" -> "SmithJones"). Emoji and other
    symbols give nothing, so a name made only of them gives "".
    """
    return _NOT_ASCII_ALNUM.sub("", _transliterate(text))


def ascii_name_parts(text: str) -> list[str]:
    """Return the ASCII words of a name: transliterated, split wherever a non-letter/digit was.

    "Smith-Jones" -> ["Smith", "Jones"], "O'Brien" -> ["O", "Brien"], "de la Cruz" -> ["de", "la", "Cruz"].
    Used to capitalise each part of a name in a username.
    """
    return [part for part in _NOT_ASCII_ALNUM.split(_transliterate(text)) if part]


def name_key(text: str) -> str:
    """Return the key for comparing names regardless of case, accents and punctuation.

    `name_key("Zoë") == name_key("zoe") == "zoe"`; `name_key("O'Brien") == "obrien"`.
    """
    return ascii_letters(text).lower()


def _surname_parts(surname: str) -> frozenset[str]:
    return frozenset(key for key in (name_key(part) for part in _NAME_PART_SEPARATORS.split(surname)) if key)


def similar_surnames(surname_a: str, surname_b: str) -> bool:
    """Return True when two surnames may belong to the same person.

    They are similar when their keys are equal ("O'Brien"/"OBRIEN", "Zoë"/"Zoe"), or when the hyphen- or
    space-separated parts of one are all among the parts of the other ("Smith" / "Smith-Jones",
    "Smith-Jones" / "Jones Smith"): a double-barrelled name is often entered by hand as one of its halves.
    A surname with no letters at all is never similar to anything.
    """
    key_a, key_b = name_key(surname_a), name_key(surname_b)
    if not key_a or not key_b:
        return False
    if key_a == key_b:
        return True
    parts_a, parts_b = _surname_parts(surname_a), _surname_parts(surname_b)
    return bool(parts_a and parts_b) and (parts_a <= parts_b or parts_b <= parts_a)


def similar_forenames(forename_a: str, forename_b: str) -> bool:
    """Return True when two forenames may belong to the same person.

    Compared on their keys (`name_key`), they are similar when equal ("Zoë"/"zoe"); when the shorter one
    has at least 3 letters and starts the longer ("Sam"/"Samuel", "Mary"/"Mary-Ann"; nicknames that are
    not prefixes, like "Tom"/"Thomas", are not caught); or when difflib's similarity ratio is at least
    0.8 ("Amelia"/"Amelie", "Jon"/"John"). A forename with no letters at all is never similar to anything.
    """
    key_a, key_b = name_key(forename_a), name_key(forename_b)
    if not key_a or not key_b:
        return False
    if key_a == key_b:
        return True
    shorter, longer = sorted((key_a, key_b), key=lambda key: (len(key), key))
    if len(shorter) >= MIN_PREFIX_LETTERS and longer.startswith(shorter):
        return True
    # Ordered so the answer does not depend on the argument order (the ratio is not always symmetric).
    first, second = sorted((key_a, key_b))
    return SequenceMatcher(None, first, second, autojunk=False).ratio() >= SIMILAR_FORENAME_RATIO


def similar_names(forename_a: str, surname_a: str, forename_b: str, surname_b: str) -> bool:
    """Return True when two people's names are close enough to flag a possible duplicate.

    Used to find an account typed in by hand that may be the same person as an MIS record. The rule:
    the surnames are similar (`similar_surnames`: same key, or one double-barrelled surname contains the
    other, e.g. "Smith" / "Smith-Jones") AND the forenames are similar (`similar_forenames`: same key,
    one a prefix of the other of at least 3 letters, e.g. "Sam" / "Samuel", or a difflib ratio of at
    least 0.8, e.g. "Amelia" / "Amelie"). Case, accents and punctuation never matter. The answer is the
    same whichever person is given first.
    """
    return similar_surnames(surname_a, surname_b) and similar_forenames(forename_a, forename_b)
