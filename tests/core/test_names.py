import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missync.core.names import (
    ascii_letters,
    ascii_name_parts,
    clean_name,
    name_key,
    similar_forenames,
    similar_names,
    similar_surnames,
)

ASCII_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-' ", max_size=20)


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (None, ""),
        ("", ""),
        ("  Zoë \t Smith\n", "Zoë Smith"),
        ("Zoe\u0308", "Zoë"),  # decomposed (NFD) input is composed
        ("\u200bAmy\ufeff", "Amy"),  # zero-width space and BOM from copy and paste
        ("A\x00m\x07y", "Amy"),
        ("Mary\u00a0Ann", "Mary Ann"),  # non-breaking space
        ("Mary\r\nAnn", "Mary Ann"),
        ("Smith - Jones", "Smith - Jones"),
        (
            "\u0645\u0647\u200c\u0633\u0627",
            "\u0645\u0647\u200c\u0633\u0627",
        ),  # ZWNJ in a Persian name is kept
    ],
)
def test_clean_name(raw: str | None, cleaned: str) -> None:
    assert clean_name(raw) == cleaned


@given(st.text())
def test_clean_name_is_clean_and_idempotent(text: str) -> None:
    cleaned = clean_name(text)
    assert clean_name(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert unicodedata.normalize("NFC", cleaned) == cleaned
    assert not any(unicodedata.category(char) in ("Cc", "Cs") for char in cleaned)
    assert not any(char.isspace() and char != " " for char in cleaned)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Zoë", "Zoe"),
        ("Siân", "Sian"),
        ("O'Brien", "OBrien"),
        ("Smith-Jones", "SmithJones"),
        ("Ma'Aké", "MaAke"),
        ("Łukasz", "Lukasz"),
        ("Nguyễn", "Nguyen"),
        ("Þór", "Thor"),
        ("de la Cruz", "delaCruz"),
        ("王秀英", "WangXiuYing"),
        ("🙂🙂", ""),  # anyascii would spell emoji out as ":slight_smile:"
        ("!!!", ""),
        ("", ""),
        ("Anne2", "Anne2"),
    ],
)
def test_ascii_letters(name: str, expected: str) -> None:
    assert ascii_letters(name) == expected


@pytest.mark.parametrize("name", ["Дмитрий", "محمد", "王秀英", "Αλέξανδρος", "שרה", "अनन्या"])
def test_non_latin_names_get_a_latin_transliteration(name: str) -> None:
    assert re.fullmatch(r"[A-Za-z]+", ascii_letters(name))


def test_cyrillic_transliteration() -> None:
    assert ascii_letters("Дмитрий").startswith("Dmitri")


@given(st.text())
def test_ascii_letters_gives_only_ascii_letters_and_digits(text: str) -> None:
    result = ascii_letters(text)
    assert re.fullmatch(r"[A-Za-z0-9]*", result)
    assert ascii_letters(result) == result


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Smith-Jones", ["Smith", "Jones"]),
        ("O'Brien", ["O", "Brien"]),
        ("de la Cruz", ["de", "la", "Cruz"]),
        ("Zoë", ["Zoe"]),
        ("🙂", []),
    ],
)
def test_ascii_name_parts(name: str, parts: list[str]) -> None:
    assert ascii_name_parts(name) == parts


def test_name_key_ignores_case_accents_and_punctuation() -> None:
    assert name_key("Zoë") == name_key("ZOE") == "zoe"
    assert name_key("O'Brien") == name_key("obrien")


@pytest.mark.parametrize(
    ("forename_a", "surname_a", "forename_b", "surname_b"),
    [
        ("John", "Smith", "john", "SMITH"),
        ("Zoë", "O'Brien", "Zoe", "OBrien"),
        ("Amelia", "Jones", "Amelie", "Jones"),
        ("Sam", "Jones", "Samuel", "Jones"),
        ("Alex", "Khan", "Alexander", "Khan"),
        ("Jon", "Smith", "John", "Smith"),
        ("Mary", "Smith", "Mary-Ann", "Smith"),
        ("Ella", "Smith", "Ella", "Smith-Jones"),
        ("Ella", "Smith Jones", "Ella", "Jones-Smith"),
        ("Ella", "Jones", "Ella", "Smith-Jones"),
    ],
)
def test_similar_names(forename_a: str, surname_a: str, forename_b: str, surname_b: str) -> None:
    assert similar_names(forename_a, surname_a, forename_b, surname_b)
    assert similar_names(forename_b, surname_b, forename_a, surname_a)


@pytest.mark.parametrize(
    ("forename_a", "surname_a", "forename_b", "surname_b"),
    [
        ("John", "Smith", "John", "Smyth-Jones"),
        ("John", "Smith", "Jane", "Smith"),
        ("Tom", "Smith", "Thomas", "Smith"),  # nicknames that are not prefixes are not caught
        ("Jo", "Smith", "Joanna", "Smith"),  # prefix too short
        ("Ella", "Smith", "Ella", "Smithson"),  # a longer surname is not a hyphenated part
        ("", "Smith", "", "Smith"),
        ("John", "", "John", ""),
        ("🙂", "Smith", "🙂", "Smith"),
    ],
)
def test_not_similar_names(forename_a: str, surname_a: str, forename_b: str, surname_b: str) -> None:
    assert not similar_names(forename_a, surname_a, forename_b, surname_b)


@given(st.text(max_size=15), st.text(max_size=15))
def test_similar_forenames_and_surnames_are_symmetric(a: str, b: str) -> None:
    assert similar_forenames(a, b) == similar_forenames(b, a)
    assert similar_surnames(a, b) == similar_surnames(b, a)


@given(ASCII_NAMES, ASCII_NAMES)
def test_a_name_is_similar_to_itself_in_any_case(forename: str, surname: str) -> None:
    expected = bool(name_key(forename)) and bool(name_key(surname))
    assert similar_names(forename, surname, forename.upper(), surname.lower()) == expected
