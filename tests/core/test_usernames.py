import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missync.core.usernames import (
    DEFAULT_USERNAME_FORMAT,
    MAX_STEM_LENGTH,
    USERNAME_FORMATS,
    UsernameAllocator,
    username_stem,
)

NAMES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "🙂", "!!!", "Zoë", "O'Brien", "Smith-Jones", "王秀英", "Дмитрий", "john"]),
)
FORMATS = st.sampled_from(list(USERNAME_FORMATS))


def test_formats_are_listed_in_the_wizard_order() -> None:
    assert list(USERNAME_FORMATS) == [
        "forename-surname-initial",
        "full-name",
        "initials",
        "forename-initial-surname",
        "forename.surname",
        "surname-forename-initial",
    ]
    assert DEFAULT_USERNAME_FORMAT == "forename-surname-initial"
    assert USERNAME_FORMATS[DEFAULT_USERNAME_FORMAT] == "Forename + Surname initial (JohnS)"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("forename-surname-initial", "JohnS"),
        ("full-name", "JohnSmith"),
        ("initials", "JS"),
        ("forename-initial-surname", "JSmith"),
        ("forename.surname", "john.smith"),
        ("surname-forename-initial", "SmithJ"),
    ],
)
def test_each_format(fmt: str, expected: str) -> None:
    assert username_stem(fmt, "John", "Smith") == expected
    assert username_stem(fmt, "john", "smith") == expected


@pytest.mark.parametrize(
    ("fmt", "forename", "surname", "expected"),
    [
        ("forename-surname-initial", "Zoë", "O'Brien", "ZoeO"),
        ("full-name", "Zoë", "O'Brien", "ZoeOBrien"),
        ("full-name", "Siân", "smith-jones", "SianSmithJones"),
        ("forename-surname-initial", "Ella", "Smith-Jones", "EllaS"),
        ("full-name", "Ma'Aké", "Łukasz", "MaAkeLukasz"),
        ("full-name", "Mary Ann", "de la Cruz", "MaryAnnDeLaCruz"),
        ("full-name", "McKenzie", "DuPont", "McKenzieDuPont"),  # inner capitals are kept
        ("forename.surname", "Mary Ann", "Smith-Jones", "maryann.smithjones"),
        ("forename.surname", "", "Smith", "smith"),
        ("forename-surname-initial", "John2", "3Smith", "JohnS"),  # digits never reach a stem
        ("forename-surname-initial", "John", "", "John"),
        ("initials", "", "Smith", "S"),
        ("full-name", "王秀英", "李", "WangXiuYingLi"),
    ],
)
def test_names_are_transliterated_and_capitalised(
    fmt: str, forename: str, surname: str, expected: str
) -> None:
    assert username_stem(fmt, forename, surname) == expected


def test_names_without_latin_letters_use_the_fallback() -> None:
    assert username_stem("full-name", "🙂", "!!!") == "User"
    assert username_stem("full-name", "🙂", "!!!", fallback="pupil") == "Pupil"
    assert username_stem("initials", "", "", fallback="staff") == "Staff"
    assert username_stem("forename.surname", "", "", fallback="Pupil") == "pupil"
    assert username_stem("full-name", "", "", fallback="!!") == "User"


def test_stems_are_cut_to_24_characters() -> None:
    stem = username_stem("full-name", "Wolfeschlegelsteinhausen", "Bergerdorff")
    assert stem == "Wolfeschlegelsteinhausen"
    dotted = username_stem("forename.surname", "Abcdefghijklmnopqrstuvw", "Smith")
    assert dotted == "abcdefghijklmnopqrstuvw"  # the dot that would end it is dropped


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Unknown username format 'nickname'"):
        username_stem("nickname", "John", "Smith")
    with pytest.raises(ValueError, match="Unknown username format"):
        UsernameAllocator([]).allocate("nickname", "John", "Smith")


@given(FORMATS, NAMES, NAMES)
def test_stems_are_plain_and_short(fmt: str, forename: str, surname: str) -> None:
    stem = username_stem(fmt, forename, surname, fallback="pupil")
    assert re.fullmatch(r"[A-Za-z]+(\.[a-z]+)?", stem)
    assert len(stem) <= MAX_STEM_LENGTH


def test_clashes_get_the_smallest_free_number_from_2() -> None:
    allocator = UsernameAllocator(["johns", "JOHNS3", "AmyB"])
    assert allocator.allocate("forename-surname-initial", "John", "Smith") == "JohnS2"
    assert allocator.allocate("forename-surname-initial", "John", "Sykes") == "JohnS4"
    assert allocator.allocate("forename-surname-initial", "Jane", "Smith") == "JaneS"
    assert allocator.allocate("forename-surname-initial", "Jane", "Sykes") == "JaneS2"
    allocator.reserve("janes3")
    assert allocator.allocate("forename-surname-initial", "Jane", "Shah") == "JaneS4"


def test_is_taken_and_reserve_ignore_case() -> None:
    allocator = UsernameAllocator(["JSmith"])
    assert allocator.is_taken("jsmith")
    assert not allocator.is_taken("JSmith2")
    allocator.reserve("JSMITH2")
    assert allocator.is_taken("jsmith2")
    assert allocator.allocate("forename-initial-surname", "John", "Smith") == "JSmith3"
    assert allocator.is_taken("JSMITH3")


def test_many_identical_stems_stay_fast() -> None:
    allocator = UsernameAllocator(f"JohnS{number}" for number in range(2, 1000, 2))
    started = time.perf_counter()
    results = [allocator.allocate("forename-surname-initial", "John", "Smith") for _ in range(100_000)]
    elapsed = time.perf_counter() - started
    assert len({result.lower() for result in results}) == 100_000
    assert results[:4] == ["JohnS", "JohnS3", "JohnS5", "JohnS7"]
    assert elapsed < 5  # linear: well under a second on a laptop; quadratic would take minutes


@given(
    taken=st.lists(
        st.one_of(st.text(max_size=12), st.sampled_from(["JohnS", "johns2", "User", "user3", "ZoeO"])),
        max_size=20,
    ),
    people=st.lists(st.tuples(FORMATS, NAMES, NAMES), max_size=40),
)
def test_allocated_usernames_are_valid_unique_and_use_the_smallest_free_number(
    taken: list[str], people: list[tuple[str, str, str]]
) -> None:
    allocator = UsernameAllocator(taken)
    in_use = {username.strip().casefold() for username in taken}
    pre_taken = set(in_use)
    allocated: set[str] = set()
    for fmt, forename, surname in people:
        result = allocator.allocate(fmt, forename, surname)
        assert result
        assert re.fullmatch(r"[A-Za-z0-9.]+", result)
        assert result.casefold() not in allocated
        assert result.casefold() not in pre_taken
        # A simple model: the stem if free, otherwise the smallest free number from 2.
        stem = username_stem(fmt, forename, surname)
        expected = stem
        number = 2
        while expected.casefold() in in_use:
            expected = f"{stem}{number}"
            number += 1
        assert result == expected
        assert allocator.is_taken(result)
        allocated.add(result.casefold())
        in_use.add(result.casefold())
