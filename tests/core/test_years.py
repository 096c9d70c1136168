import pytest
from hypothesis import given
from hypothesis import strategies as st

from missync.core.years import (
    YEAR_GROUPS,
    map_year,
    next_year,
    normalise_key,
    suggest_year,
    year_order,
)

SPELLINGS = {
    "Year 6": [
        "Y6", "Yr 6", "Yr6", "Year6", "Year  6", "Year Six", "6", "06", "NC Year 6", "Year 6 ", "year six",
        "YEAR 6", "Six", "Yr. 6", "Y 6", "Year-6", "\tYear\u00a06\n",
    ],
    "Reception": ["R", "Rec", "Year R", "YR", "Reception", "Reception Class", "FS2", "F2", "KG", "reception"],
    "Nursery": ["N", "N1", "N2", "Nur", "Nursery", "Year N", "FS1", "F1", "PK", "YN"],
    "Year 1": ["01", "1", "Year One", "Y1", "Yr 1"],
    "Year 10": ["10", "Y10", "Year Ten", "Yr10"],
    "Year 12": ["12", "Year Twelve", "Lower Sixth", "L6"],
    "Year 13": ["13", "Year 13", "Y13", "Year Thirteen", "thirteen", "Upper Sixth", "U6"],
}  # fmt: skip


def test_year_groups() -> None:
    assert YEAR_GROUPS == (
        "Nursery", "Reception", "Year 1", "Year 2", "Year 3", "Year 4", "Year 5", "Year 6", "Year 7",
        "Year 8", "Year 9", "Year 10", "Year 11", "Year 12", "Year 13",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mis_name", "year_group"),
    [(spelling, year_group) for year_group, spellings in SPELLINGS.items() for spelling in spellings],
)
def test_obvious_spellings(mis_name: str, year_group: str) -> None:
    assert suggest_year(mis_name) == year_group


@pytest.mark.parametrize(
    "mis_name",
    [
        None, "", "   ", "Girls Reception", "Mixed Y5/6", "Y5/6", "Leavers", "Year 0", "0", "00", "Year 14",
        "14", "Y56", "Sixth Form", "Year", "Yr", "Boys Year 6", "Year 6A", "Nurseryy", "Staff",
    ],
)  # fmt: skip
def test_odd_names_are_left_to_the_admin(mis_name: str | None) -> None:
    # "Yr" alone is the common spelling of Year R; everything else here is for the admin to decide.
    expected = "Reception" if mis_name == "Yr" else None
    assert suggest_year(mis_name) == expected


def test_normalise_key() -> None:
    assert normalise_key(" Year  6 ") == "year 6"
    assert normalise_key("GIRLS\tReception") == "girls reception"


def test_remembered_mapping_wins() -> None:
    remembered = {"Girls Reception": "Reception", "y6": "Year 5", "Leavers": "Gone"}
    assert map_year("Girls Reception", remembered) == "Reception"
    assert map_year("  girls   RECEPTION ", remembered) == "Reception"
    assert map_year("Y6", remembered) == "Year 5"  # the admin's answer beats the suggestion
    assert map_year("Leavers", remembered) is None  # not a platform year group: ignored
    assert map_year("Year 4", remembered) == "Year 4"
    assert map_year("Mixed Y5/6", remembered) is None
    assert map_year(None, remembered) is None


def test_remembered_value_that_is_not_a_year_falls_back_to_the_suggestion() -> None:
    assert map_year("Y6", {"Y6": "year six"}) == "Year 6"


@given(st.text(max_size=12), st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5))
def test_map_year_returns_only_platform_year_groups(mis_name: str, remembered: dict[str, str]) -> None:
    assert map_year(mis_name, remembered) in (*YEAR_GROUPS, None)
    assert suggest_year(mis_name) in (*YEAR_GROUPS, None)


def test_year_order_and_next_year() -> None:
    assert sorted(["Year 10", "Reception", "Year 2", "Nursery"], key=year_order) == [
        "Nursery",
        "Reception",
        "Year 2",
        "Year 10",
    ]
    assert year_order("Nursery") == 0
    assert next_year("Nursery") == "Reception"
    assert next_year("Reception") == "Year 1"
    assert next_year("Year 6") == "Year 7"
    assert next_year("Year 13") is None
    with pytest.raises(ValueError, match="not a platform year group"):
        year_order("Year 14")
    with pytest.raises(ValueError, match="not a platform year group"):
        next_year("Leavers")


@st.composite
def spelling_variants(draw: st.DrawFn) -> tuple[str, str]:
    """A platform year name in random case, with random extra whitespace around and between words."""
    year_group = draw(st.sampled_from(YEAR_GROUPS))
    whitespace = st.text(alphabet=" \t\u00a0", max_size=3)
    words = [
        "".join(char.upper() if draw(st.booleans()) else char.lower() for char in word)
        for word in year_group.split()
    ]
    variant = draw(whitespace) + (draw(whitespace) + " ").join(words) + draw(whitespace)
    return year_group, variant


@pytest.mark.parametrize("year_group", YEAR_GROUPS)
def test_platform_names_map_to_themselves(year_group: str) -> None:
    assert suggest_year(year_group) == year_group
    assert map_year(year_group, {}) == year_group


@given(spelling_variants())
def test_case_and_whitespace_variants_map_to_the_platform_name(case: tuple[str, str]) -> None:
    year_group, variant = case
    assert suggest_year(variant) == year_group
