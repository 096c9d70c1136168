import random
import re
import secrets
from collections.abc import Sequence
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missync.core.passwords import (
    ANIMALS,
    COLOURS,
    DEFAULT_PASSWORD_FORMATS,
    NOUNS_5,
    NOUNS_6,
    PASSWORD_FORMATS,
    PASSWORD_PATTERNS,
    PICTURE_PIN_ANIMALS,
    PICTURE_PIN_FORMATS,
    THINGS,
    RandomSource,
    default_password_format,
    generate_password,
)
from missync.core.years import YEAR_GROUPS

T = TypeVar("T")

# Whole words that must never appear in a child's password.
BLOCKED_WORDS = {
    "kill", "gun", "die", "dead", "sex", "poo", "pee", "wee", "bum", "fat", "hell", "war", "hoe", "nob",
    "drug", "bomb", "blood", "knife", "ghost", "devil", "skull", "grave", "zombie", "monster", "beer",
    "wine", "gin", "rum", "smoke", "rat", "pen",  # "Pen15" reads as something else
}  # fmt: skip
# Fragments that must not appear even inside a longer word ("spoon" has "poo", "grape" has "rape").
BLOCKED_FRAGMENTS = (
    "ass", "sex", "poo", "bum", "butt", "tit", "cum", "kill", "gun", "dead", "damn", "crap", "piss",
    "shit", "fuck", "cunt", "cock", "dick", "nazi", "rape", "fart", "knob", "porn", "slut", "wank",
    "twat", "bitch", "tard", "fag", "hate", "drug", "bomb", "gore", "arse", "boob",
)  # fmt: skip
ALL_WORDS = (*ANIMALS, *COLOURS, *THINGS, *NOUNS_5, *NOUNS_6, *PICTURE_PIN_ANIMALS)


class CountingRandom:
    """A predictable source: the first item of every sequence, and digits 0, 1, 2..."""

    def __init__(self) -> None:
        self.count = 0

    def choice(self, seq: Sequence[T], /) -> T:
        return seq[0]

    def randrange(self, stop: int, /) -> int:
        self.count += 1
        return (self.count - 1) % stop


def test_formats_and_labels() -> None:
    assert list(PASSWORD_FORMATS) == [
        "animals",
        "colours",
        "things",
        "picture-pin",
        "two-digit-picture-pin",
        "noun5-digits3",
        "noun6-digits4",
    ]
    assert PASSWORD_FORMATS["animals"] == "Animals (Dog33)"
    assert PASSWORD_FORMATS["noun6-digits4"] == "Six-letter word + 4 digits (stroll1666)"
    assert set(PICTURE_PIN_FORMATS) == {"picture-pin", "two-digit-picture-pin"}
    assert set(PASSWORD_PATTERNS) == set(PASSWORD_FORMATS)


@pytest.mark.parametrize(
    ("words", "pattern", "minimum"),
    [
        (ANIMALS, r"[A-Z][a-z]{2,5}", 40),
        (COLOURS, r"[A-Z][a-z]{2,5}", 15),
        (THINGS, r"[A-Z][a-z]{2,5}", 40),
        (NOUNS_5, r"[a-z]{5}", 60),
        (NOUNS_6, r"[a-z]{6}", 60),
    ],
)
def test_word_lists(words: tuple[str, ...], pattern: str, minimum: int) -> None:
    assert len(words) >= minimum
    assert len({word.lower() for word in words}) == len(words), "duplicate words"
    for word in words:
        assert re.fullmatch(pattern, word), word


@pytest.mark.parametrize("word", ALL_WORDS)
def test_words_are_child_safe(word: str) -> None:
    assert word.lower() not in BLOCKED_WORDS
    for fragment in BLOCKED_FRAGMENTS:
        assert fragment not in word.lower()


def test_picture_pin_animals() -> None:
    assert len(PICTURE_PIN_ANIMALS) == 10
    assert len(set(PICTURE_PIN_ANIMALS)) == 10


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("animals", f"{ANIMALS[0]}01"),
        ("colours", f"{COLOURS[0]}01"),
        ("things", f"{THINGS[0]}01"),
        ("picture-pin", "0123"),  # leading zeros are kept
        ("two-digit-picture-pin", "01"),
        ("noun5-digits3", f"{NOUNS_5[0]}012"),
        ("noun6-digits4", f"{NOUNS_6[0]}0123"),
    ],
)
def test_generate_password_shapes(fmt: str, expected: str) -> None:
    assert generate_password(fmt, CountingRandom()) == expected


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Unknown password format 'emoji'"):
        generate_password("emoji", random.Random(1))


def test_system_random_is_a_random_source() -> None:
    rng: RandomSource = secrets.SystemRandom()
    for fmt, pattern in PASSWORD_PATTERNS.items():
        assert pattern.fullmatch(generate_password(fmt, rng))


@given(st.integers(), st.sampled_from(list(PASSWORD_FORMATS)))
def test_generated_passwords_match_their_format(seed: int, fmt: str) -> None:
    rng = random.Random(seed)
    password = generate_password(fmt, rng)
    assert PASSWORD_PATTERNS[fmt].fullmatch(password)
    assert generate_password(fmt, random.Random(seed)) == password  # reproducible from a seed
    words = {"animals": ANIMALS, "colours": COLOURS, "things": THINGS, "noun5-digits3": NOUNS_5}
    words |= {"noun6-digits4": NOUNS_6}
    if fmt in words:
        assert password.rstrip("0123456789") in words[fmt]


def test_passwords_vary() -> None:
    rng = random.Random(7)
    assert len({generate_password("animals", rng) for _ in range(200)}) > 100


def test_default_formats_by_year_group() -> None:
    assert list(DEFAULT_PASSWORD_FORMATS) == list(YEAR_GROUPS)
    assert set(DEFAULT_PASSWORD_FORMATS.values()) <= set(PASSWORD_FORMATS)
    assert default_password_format("Nursery") == "two-digit-picture-pin"
    assert default_password_format("Reception") == "two-digit-picture-pin"
    assert default_password_format("Year 1") == "picture-pin"
    assert default_password_format("Year 2") == "picture-pin"
    assert default_password_format("Year 3") == "animals"
    assert default_password_format("Year 6") == "animals"
    assert default_password_format("Year 7") == "noun5-digits3"
    assert default_password_format("Year 13") == "noun5-digits3"
    assert default_password_format(None) == "animals"
    assert default_password_format("Leavers") == "animals"
