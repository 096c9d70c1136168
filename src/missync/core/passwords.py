"""Pupil passwords: the formats a school chooses per year group, and generating them.

Generation takes its randomness from an injected `RandomSource`: `secrets.SystemRandom()` in real runs,
a seeded `random.Random` in tests, so plans stay reproducible in tests without weakening real passwords.

The word lists are curated for children: short, familiar, nothing rude, scary or grown-up, and nothing
that reads as something rude with the digits after it (so no "Pen", which with "15" reads "PEN15").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

T = TypeVar("T")

PASSWORD_FORMATS: dict[str, str] = {
    "animals": "Animals (Dog33)",
    "colours": "Colours (Red54)",
    "things": "Things (Home45)",
    "picture-pin": "Picture PIN, 4 digits (1256)",
    "two-digit-picture-pin": "Two digit picture PIN (46)",
    "noun5-digits3": "Five-letter word + 3 digits (level654)",
    "noun6-digits4": "Six-letter word + 4 digits (stroll1666)",
}

PICTURE_PIN_FORMATS: frozenset[str] = frozenset({"picture-pin", "two-digit-picture-pin"})

# What each format produces; used to check generated (and stored) passwords.
PASSWORD_PATTERNS: dict[str, re.Pattern[str]] = {
    "animals": re.compile(r"[A-Z][a-z]+[0-9]{2}"),
    "colours": re.compile(r"[A-Z][a-z]+[0-9]{2}"),
    "things": re.compile(r"[A-Z][a-z]+[0-9]{2}"),
    "picture-pin": re.compile(r"[0-9]{4}"),
    "two-digit-picture-pin": re.compile(r"[0-9]{2}"),
    "noun5-digits3": re.compile(r"[a-z]{5}[0-9]{3}"),
    "noun6-digits4": re.compile(r"[a-z]{6}[0-9]{4}"),
}

# The animal shown over each digit 0-9 on a picture-PIN pad and login card: PICTURE_PIN_ANIMALS[digit].
PICTURE_PIN_ANIMALS: tuple[str, ...] = (
    "Cat",
    "Dog",
    "Fish",
    "Owl",
    "Frog",
    "Duck",
    "Bee",
    "Lion",
    "Pig",
    "Bear",
)

ANIMALS: tuple[str, ...] = (
    "Ant", "Bear", "Bee", "Camel", "Cat", "Chick", "Cow", "Crab", "Deer", "Dog",
    "Dove", "Duck", "Eagle", "Emu", "Finch", "Fish", "Fox", "Frog", "Gecko", "Goat",
    "Goose", "Hare", "Hen", "Hippo", "Horse", "Kitten", "Kiwi", "Koala", "Lamb", "Lark",
    "Lion", "Llama", "Mole", "Moth", "Mouse", "Newt", "Otter", "Owl", "Panda", "Pig",
    "Pony", "Puffin", "Puppy", "Rabbit", "Robin", "Seal", "Sheep", "Snail", "Swan", "Tiger",
    "Toad", "Whale", "Wren", "Yak", "Zebra",
)  # fmt: skip

COLOURS: tuple[str, ...] = (
    "Amber", "Aqua", "Blue", "Coral", "Cream", "Gold", "Green", "Grey", "Jade", "Lilac",
    "Lime", "Mint", "Navy", "Orange", "Peach", "Pink", "Plum", "Purple", "Red", "Rose",
    "Ruby", "Sand", "Silver", "Teal", "Yellow",
)  # fmt: skip

THINGS: tuple[str, ...] = (
    "Apple", "Ball", "Bell", "Bike", "Boat", "Book", "Boot", "Bread", "Bus", "Cake",
    "Car", "Chair", "Clock", "Cloud", "Coat", "Cup", "Desk", "Door", "Drum", "Flag",
    "Gate", "Hat", "Hill", "Home", "Jam", "Key", "Kite", "Lake", "Lamp", "Leaf",
    "Map", "Milk", "Moon", "Nest", "Pear", "Rain", "Rock", "Ship", "Sock", "Sofa",
    "Star", "Sun", "Toy", "Train", "Tree", "Van",
)  # fmt: skip

NOUNS_5: tuple[str, ...] = (
    "acorn", "apple", "badge", "bagel", "beach", "berry", "block", "bread", "brick", "brush",
    "cabin", "canal", "cello", "chair", "chalk", "clock", "cloud", "coast", "cocoa", "comet",
    "coral", "crown", "daisy", "dance", "dream", "eagle", "field", "flute", "fruit", "globe",
    "heart", "honey", "house", "igloo", "jelly", "juice", "kayak", "koala", "lemon", "level",
    "light", "llama", "lunch", "magic", "mango", "maple", "medal", "melon", "motor", "music",
    "novel", "ocean", "olive", "onion", "orbit", "otter", "panda", "paper", "party", "peach",
    "pearl", "petal", "piano", "pilot", "pizza", "plant", "plate", "puppy", "queen", "quilt",
    "radio", "ranch", "river", "robin", "robot", "salad", "scarf", "scone", "shelf", "skate",
    "smile", "snack", "space", "sport", "stone", "sugar", "swing", "table", "tiger", "toast",
    "torch", "tower", "trail", "train", "truck", "tulip", "wagon", "watch", "water", "whale",
    "wheat", "world", "yacht", "zebra",
)  # fmt: skip

NOUNS_6: tuple[str, ...] = (
    "anchor", "banana", "basket", "beaver", "bottle", "bridge", "bucket", "cactus", "camera", "candle",
    "carpet", "carrot", "castle", "cereal", "cheese", "circle", "cookie", "copper", "cotton", "desert",
    "dinner", "doctor", "donkey", "engine", "falcon", "farmer", "flower", "forest", "friend", "garden",
    "ginger", "guitar", "hamper", "helmet", "island", "jacket", "jigsaw", "kettle", "kitten", "ladder",
    "lizard", "magnet", "marble", "meadow", "mitten", "monkey", "muffin", "noodle", "number", "orange",
    "oyster", "parrot", "pebble", "pepper", "pickle", "planet", "pocket", "puffin", "puzzle", "rabbit",
    "rocket", "saddle", "sandal", "school", "spring", "square", "statue", "stroll", "summer", "sunset",
    "teapot", "ticket", "tomato", "turtle", "violin", "walnut", "window", "winter", "wizard", "yogurt",
    "zipper",
)  # fmt: skip

# Format -> (words, number of digits). Picture PINs have no word.
_WORDS_AND_DIGITS: dict[str, tuple[tuple[str, ...], int]] = {
    "animals": (ANIMALS, 2),
    "colours": (COLOURS, 2),
    "things": (THINGS, 2),
    "picture-pin": ((), 4),
    "two-digit-picture-pin": ((), 2),
    "noun5-digits3": (NOUNS_5, 3),
    "noun6-digits4": (NOUNS_6, 4),
}

# Typing is for Key Stage 2 and up; the youngest tap pictures.
DEFAULT_PASSWORD_FORMATS: dict[str, str] = {
    "Nursery": "two-digit-picture-pin",
    "Reception": "two-digit-picture-pin",
    "Year 1": "picture-pin",
    "Year 2": "picture-pin",
    **{f"Year {number}": "animals" for number in range(3, 7)},
    **{f"Year {number}": "noun5-digits3" for number in range(7, 14)},
}
FALLBACK_PASSWORD_FORMAT = "animals"


class RandomSource(Protocol):
    """Where passwords get randomness: `secrets.SystemRandom()` for real, `random.Random(seed)` in tests."""

    def choice(self, seq: Sequence[T], /) -> T:
        """Return one item of a non-empty sequence."""
        ...

    def randrange(self, stop: int, /) -> int:
        """Return an integer from 0 to stop - 1."""
        ...


def generate_password(fmt: str, rng: RandomSource) -> str:
    """Return a new password in format `fmt`, drawing randomness from `rng`.

    animals/colours/things: a capitalised word and 2 digits (Dog33); picture-pin: 4 digits (0412);
    two-digit-picture-pin: 2 digits (46); noun5-digits3: a lower-case five-letter word and 3 digits
    (level654); noun6-digits4: a lower-case six-letter word and 4 digits (stroll1666). Leading zeros are
    kept: a PIN is a string. Raises ValueError for an unknown format.
    """
    try:
        words, digit_count = _WORDS_AND_DIGITS[fmt]
    except KeyError:
        choices = ", ".join(PASSWORD_FORMATS)
        raise ValueError(f"Unknown password format {fmt!r}: choose one of {choices}.") from None
    word = rng.choice(words) if words else ""
    return word + "".join(str(rng.randrange(10)) for _ in range(digit_count))


def default_password_format(year_group: str | None) -> str:
    """Return the password format suggested for a platform year group.

    Nursery and Reception: two-digit picture PIN; Years 1-2: picture PIN; Years 3-6: animals;
    Years 7-13: five-letter word + 3 digits. An unknown or missing year group gets animals.
    """
    if year_group is None:
        return FALLBACK_PASSWORD_FORMAT
    return DEFAULT_PASSWORD_FORMATS.get(year_group, FALLBACK_PASSWORD_FORMAT)
