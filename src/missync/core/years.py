"""Year groups: the platform's list, and mapping the MIS's many spellings onto it.

Obvious spellings map themselves (`suggest_year`: "Y6", "Yr 6", "Year Six", "6", "R", "N1", OneRoster's
"KG"/"PK"/"01".."13"). Anything else ("Girls Reception", "Mixed Y5/6") is mapped once by the admin and
remembered (`map_year`), keyed by `normalise_key`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

YEAR_GROUPS: tuple[str, ...] = ("Nursery", "Reception", *(f"Year {number}" for number in range(1, 14)))

_NUMBER_WORDS: dict[str, int] = {
    word: number
    for number, word in enumerate(
        (
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
        ),
        start=1,
    )
}

# Whole names (after `normalise_key`, spaces removed) that mean Nursery or Reception. "FS1"/"F1" and
# "FS2"/"F2" are the two years of the Early Years Foundation Stage; "PK" and "KG" are OneRoster's
# pre-kindergarten and kindergarten grades, which UK schools use for Nursery and Reception.
_NURSERY_NAMES = frozenset(
    {"n", "n1", "n2", "nur", "nursery", "nurseryclass", "yearn", "yrn", "yn", "fs1", "f1", "pk"}
)
_RECEPTION_NAMES = frozenset(
    {"r", "rec", "reception", "receptionclass", "yearr", "yrr", "yr", "fs2", "f2", "kg"}
)
_SIXTH_FORM_NAMES: dict[str, int] = {"lowersixth": 12, "l6": 12, "uppersixth": 13, "u6": 13}

# "Year 6", "Yr. 6", "Y-6", "NC Year 6", "06", "Year Six", "six" (spaces already removed).
_NUMBERED = re.compile(r"(?:nc)?(?:year|yr\.?|y)?[-_]?(?P<number>\d{1,2}|[a-z]+)")


def normalise_key(mis_name: str) -> str:
    """Return the key a remembered MIS year name is stored under: case-folded, whitespace collapsed.

    `normalise_key(" Year  6 ") == normalise_key("YEAR 6") == "year 6"`.
    """
    return " ".join(unicodedata.normalize("NFC", mis_name).casefold().split())


def _year_number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word)


def suggest_year(mis_name: str | None) -> str | None:
    """Return the platform year group an MIS year name obviously means, or None if it is not obvious.

    Case and whitespace are ignored. Recognised: "Year 6", "Y6", "Yr 6", "Yr6", "Year6", "Year Six",
    "6", "06", "NC Year 6" (numbers 1-13 as digits or words); "R", "Rec", "YR", "Year R", "Reception",
    "Reception Class", "FS2", "F2", "KG" for Reception; "N", "N1", "N2", "Nur", "Nursery", "Year N",
    "FS1", "F1", "PK" for Nursery; "Lower Sixth"/"L6" and "Upper Sixth"/"U6" for Years 12 and 13.
    Anything else ("Girls Reception", "Mixed Y5/6", "Leavers", "Year 0", "") gives None: the admin
    maps it.
    """
    if mis_name is None:
        return None
    compact = normalise_key(mis_name).replace(" ", "")
    if not compact:
        return None
    if compact in _NURSERY_NAMES:
        return "Nursery"
    if compact in _RECEPTION_NAMES:
        return "Reception"
    if compact in _SIXTH_FORM_NAMES:
        return f"Year {_SIXTH_FORM_NAMES[compact]}"
    match = _NUMBERED.fullmatch(compact)
    if match is None:
        return None
    number = _year_number(match.group("number"))
    if number is None or not 1 <= number <= 13:
        return None
    return f"Year {number}"


def map_year(mis_name: str | None, remembered: Mapping[str, str]) -> str | None:
    """Return the platform year group for an MIS year name, or None if the admin must map it.

    A remembered mapping (the admin's earlier answer; keys compared with `normalise_key`) wins over
    `suggest_year`. Remembered values that are not platform year groups are ignored. The result is
    always a member of `YEAR_GROUPS` or None.
    """
    if mis_name is None:
        return None
    key = normalise_key(mis_name)
    exact = remembered.get(mis_name)
    if exact in YEAR_GROUPS:
        return exact
    for remembered_name, year_group in remembered.items():
        if year_group in YEAR_GROUPS and normalise_key(remembered_name) == key:
            return year_group
    return suggest_year(mis_name)


def year_order(year_group: str) -> int:
    """Return the position of a platform year group (Nursery 0, Reception 1, Year 1 2...), for sorting.

    Raises ValueError for a name that is not in `YEAR_GROUPS`.
    """
    try:
        return YEAR_GROUPS.index(year_group)
    except ValueError:
        raise ValueError(f"{year_group!r} is not a platform year group.") from None


def next_year(year_group: str) -> str | None:
    """Return the year group after this one (Year 6 -> Year 7), or None after Year 13.

    Raises ValueError for a name that is not in `YEAR_GROUPS`.
    """
    position = year_order(year_group) + 1
    return YEAR_GROUPS[position] if position < len(YEAR_GROUPS) else None
