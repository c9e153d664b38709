"""The catalogue's rules without the app: checking models, the CSV format, the seed file."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashinsight_core.exceptions import InvalidInput
from plugins.calculator import catalogue
from plugins.calculator.catalogue import CatalogueFileError, ModelSpec, ModeSpec

S21 = {
    "vendor": "Bitmain",
    "model": "Antminer S21",
    "hashrate_ths": 200,
    "power_w": 3500,
    "cooling": "air",
}
HEADER = "vendor,model,hashrate_ths,power_w,cooling,release_year,is_active,source,notes,power_modes"


# --- one model -----------------------------------------------------------------------------


def test_typed_text_and_json_numbers_give_the_same_model():
    typed = catalogue.clean_model(
        {
            "vendor": "  Bitmain ",
            "model": "Antminer   S21",
            "hashrate_ths": "200",
            "power_w": "3,500",
            "cooling": " AIR ",
            "release_year": "2024",
            "is_active": "yes",
        }
    )
    assert typed == catalogue.clean_model({**S21, "release_year": 2024, "is_active": True})
    assert typed.model == "Antminer S21"  # inner spacing collapsed


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"hashrate_ths": -1}, "hashrate_ths", "greater than 0"),
        ({"hashrate_ths": 0}, "hashrate_ths", "greater than 0"),
        ({"hashrate_ths": math.nan}, "hashrate_ths", "finite"),
        ({"power_w": math.inf}, "power_w", "finite"),
        ({"power_w": "0,06"}, "power_w", "use a dot for decimals"),
        ({"power_w": True}, "power_w", "must be a number"),
        ({"power_w": ""}, "power_w", "is needed"),
        ({"hashrate_ths": 100_001}, "hashrate_ths", "at most 100,000 TH/s"),
        ({"power_w": 100_001, "hashrate_ths": 5000}, "power_w", "at most 100,000 W"),
        ({"power_w": 35}, "power_w", "0.175 J/TH"),  # kW typed as W... and then some
        ({"hashrate_ths": 0.2}, "power_w", "1.75e+04 J/TH"),  # GH/s typed as TH/s
        ({"cooling": "oil"}, "cooling", "air, hydro, immersion (got 'oil')"),
        ({"cooling": ""}, "cooling", "(got nothing)"),
        ({"release_year": 2008}, "release_year", "between 2009"),
        ({"release_year": "2024.5"}, "release_year", "between 2009"),
        ({"is_active": "maybe"}, "is_active", "true or false"),
        ({"vendor": ""}, "vendor", "is needed"),
        ({"model": "x" * 101}, "model", "at most 100 characters"),
        ({"model": "S21\x00Pro"}, "model", "control characters"),
        ({"source": 5}, "source", "must be text"),
        ({"notes": "n" * 2001}, "notes", "at most 2,000"),
        ({"power_modes": "eco"}, "power_modes", "must be a list"),
        ({"power_modes": [{"name": "a"}] * 31}, "power_modes", "at most 30"),
        (
            {"power_modes": [{"name": "", "hashrate_ths": 1, "power_w": 30}]},
            "power_modes[0].name",
            "is needed",
        ),
        (
            {"power_modes": [{"name": "a*", "hashrate_ths": 1, "power_w": 30}]},
            "power_modes[0].name",
            "':', ';' or '*'",
        ),
        (
            {"power_modes": [{"name": "a", "hashrate_ths": 1, "power_w": 0.5}]},
            "power_modes[0].power_w",
            "J/TH",
        ),
    ],
)
def test_bad_values_are_refused_naming_the_field(change, field, message):
    with pytest.raises(InvalidInput) as error:
        catalogue.clean_model({**S21, **change})
    assert error.value.field == field
    assert message in str(error.value)


def test_an_update_keeps_what_is_not_sent_and_checks_the_result():
    base = catalogue.clean_model(
        {**S21, "power_modes": [{"name": "eco", "hashrate_ths": 180, "power_w": 2900}]}
    )
    updated = catalogue.clean_model({"power_w": 3600}, base=base)
    assert (updated.power_w, updated.hashrate_ths, updated.power_modes) == (
        3600,
        200,
        base.power_modes,
    )
    # A change that makes the pair absurd is refused even though power_w was not sent.
    with pytest.raises(InvalidInput, match="J/TH"):
        catalogue.clean_model({"hashrate_ths": 0.001}, base=base)


def test_two_default_modes_are_refused_and_names_clash_ignoring_case():
    modes = [
        {"name": "eco", "hashrate_ths": 180, "power_w": 2900, "is_default": True},
        {"name": "turbo", "hashrate_ths": 230, "power_w": 4300, "is_default": True},
    ]
    with pytest.raises(InvalidInput, match="modes 1 and 2 both are") as error:
        catalogue.clean_modes(modes, catalogue.human_mode_field)
    assert error.value.field == "mode 2 is_default"
    with pytest.raises(InvalidInput, match="used twice"):
        catalogue.clean_modes([{**modes[0]}, {**modes[1], "name": "ECO", "is_default": False}])


def test_duplicates_are_found_ignoring_case_and_spacing():
    assert catalogue.name_key("Bitmain", "Antminer S21") == catalogue.name_key(
        " BITMAIN", "antminer  s21 "
    )
    assert catalogue.name_key("Bitmain", "Antminer S21") != catalogue.name_key(
        "Bitmain", "Antminer S21+"
    )


# --- CSV -----------------------------------------------------------------------------------


def test_modes_text_reads_and_writes_the_same_modes():
    text = "96T bin:96:2832;100T*:100:3050;104T bin:104:3082"
    modes = catalogue.clean_modes(catalogue.parse_modes(text))
    assert modes == (
        ModeSpec("96T bin", 96, 2832, False),
        ModeSpec("100T", 100, 3050, True),
        ModeSpec("104T bin", 104, 3082, False),
    )
    assert catalogue.format_modes(modes) == text
    assert catalogue.parse_modes(" ; ") == []
    with pytest.raises(InvalidInput, match="must be name:hashrate_ths:power_w"):
        catalogue.parse_modes("eco:180")


def test_rows_are_numbered_as_a_spreadsheet_shows_them_even_with_line_breaks_in_a_cell():
    text = (
        "vendor,model,hashrate_ths,power_w,cooling,notes\n"
        'A,One,100,3000,air,"two\nlines"\n'
        "A,Two,100,-3000,air,\n"
        "A,Three,100,3000,air,\n"
        "A,Four,100,3000,air,\n"
        "A,Five,100,3000,air,\n"
        "A,Six,100,3000,air,\n"
        "A,Seven,100,3000,air,\n"
        "A,Eight,100,3000,air,\n"
        "A,Nine,100,3000,air,\n"
        "A,Ten,100,3000,air,\n"
        "A,Eleven,100,3000,air,\n"
        "A,Twelve,100,3000,air,\n"
        "A,Thirteen,100,3000,air,\n"
        "A,Fourteen,100,3000,air,\n"
        "A,Fifteen,100,3000,hot,\n"
    )
    with pytest.raises(CatalogueFileError) as error:
        catalogue.read_csv(text)
    assert [str(p) for p in error.value.problems] == [
        "row 3, column power_w: power_w must be greater than 0",
        "row 16, column cooling: cooling must be one of air, hydro, immersion (got 'hot')",
    ]
    assert str(error.value).endswith("(and 1 more problem)")


def test_mode_errors_in_a_file_name_the_power_modes_column_and_the_mode():
    text = f"{HEADER}\nA,B,100,3000,air,,,,,eco:90:2800;turbo:110:0\n"
    with pytest.raises(CatalogueFileError) as error:
        catalogue.read_csv(text)
    [problem] = error.value.problems
    assert (problem.row, problem.column) == (2, "power_modes")
    assert str(problem) == "row 2, column power_modes: mode 2 power_w must be greater than 0"


def test_the_problem_list_stops_at_a_limit():
    text = "vendor,model,hashrate_ths,power_w,cooling\n" + "A,B,x,1,air\n" * 100
    with pytest.raises(CatalogueFileError) as error:
        catalogue.read_csv(text)
    assert len(error.value.problems) == catalogue.MAX_PROBLEMS and error.value.more


def test_cells_a_spreadsheet_would_run_as_formulas_are_escaped_and_read_back():
    spec = ModelSpec(
        vendor="=HYPERLINK(1)",
        model="+S21",
        hashrate_ths=200,
        power_w=3500,
        cooling="air",
        notes="@risk",
        source="'=not a formula",
        power_modes=(ModeSpec("-3", 180, 2900), ModeSpec("+1", 220, 4000, True)),
    )
    text = catalogue.write_csv([spec])
    line = text.splitlines()[1]
    assert line.startswith("'=HYPERLINK(1),'+S21,") and ",'-3:180:2900;+1*:220:4000" in line
    assert catalogue.read_csv(text) == [spec]


def test_line_breaks_in_notes_are_kept_as_newlines_whatever_sent_them():
    spec = catalogue.clean_model({**S21, "notes": " first\r\nsecond\rthird\n"})
    assert spec.notes == "first\nsecond\nthird"


def test_byte_order_mark_and_windows_line_ends_are_fine():
    text = "\ufeffvendor,model,hashrate_ths,power_w,cooling\r\nA,B,100,3000,air\r\n"
    assert catalogue.read_csv(text.encode("utf-8"))[0].vendor == "A"


# Text that survives the format: no control characters, spacing already collapsed.
words = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=12,
)
names = st.lists(words, min_size=1, max_size=3).map(" ".join)
mode_names = names.filter(lambda n: not set(n) & set(":;*") and len(n) <= 40)
hashrates = st.floats(min_value=0.01, max_value=10_000, allow_nan=False)


def efficiencies(hashrate: float):
    """J/TH values that keep the power within one machine's limit."""
    return st.floats(min_value=1.5, max_value=min(4_000, catalogue.MAX_POWER_W / hashrate * 0.99))


@st.composite
def model_specs(draw):
    hashrate = draw(hashrates)
    power = hashrate * draw(efficiencies(hashrate))
    mode_count = draw(st.integers(0, 4))
    mode_names_drawn = draw(
        st.lists(mode_names, min_size=mode_count, max_size=mode_count, unique_by=str.casefold)
    )
    default = draw(st.integers(-1, mode_count - 1)) if mode_count else -1
    modes = []
    for index, name in enumerate(mode_names_drawn):
        mode_hashrate = draw(hashrates)
        mode_power = mode_hashrate * draw(efficiencies(mode_hashrate))
        modes.append(ModeSpec(name, mode_hashrate, mode_power, index == default))
    return ModelSpec(
        vendor=draw(names.filter(lambda n: len(n) <= 100)),
        model=draw(names.filter(lambda n: len(n) <= 100)),
        hashrate_ths=hashrate,
        power_w=power,
        cooling=draw(st.sampled_from(["air", "hydro", "immersion"])),
        release_year=draw(st.none() | st.integers(2009, 2027)),
        is_active=draw(st.booleans()),
        source=draw(st.lists(words, max_size=4).map(" ".join)),
        notes=draw(st.lists(words, max_size=4).map("\n".join)),
        power_modes=tuple(modes),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(model_specs(), min_size=1, max_size=4, unique_by=lambda s: s.key))
def test_any_valid_catalogue_survives_export_and_import_unchanged(specs):
    assert catalogue.read_csv(catalogue.write_csv(specs)) == specs
    assert catalogue.read_csv(catalogue.write_csv(specs).encode("utf-8")) == specs


# --- the shipped seed file -----------------------------------------------------------------


def seed() -> dict[str, ModelSpec]:
    return {spec.model: spec for spec in catalogue.load_seed_specs()}


def test_the_seed_file_covers_every_family_the_issue_asks_for():
    models = seed()
    assert len(models) >= 25
    for name in (
        "Antminer S19",
        "Antminer S19 XP",
        "Antminer S21",
        "Antminer S21 Pro",
        "Antminer S21 XP",
        "Antminer S21 Hyd",
        "Antminer S21 XP Hyd",
        "Antminer T21",
        "Whatsminer M30S+",
        "Whatsminer M50S",
        "Whatsminer M60S",
        "Whatsminer M63S",
        "Whatsminer M66S",
        "Avalon A1246",
        "Avalon A1366",
        "Avalon A16 XP",
        "SEALMINER A2",
        "Teraflux AH3880",
    ):
        assert name in models, name
    assert {s.vendor for s in models.values()} == {
        "Bitmain",
        "MicroBT",
        "Canaan",
        "Bitdeer",
        "Auradine",
    }
    assert {s.cooling for s in models.values()} == {"air", "hydro", "immersion"}


def test_every_seeded_model_cites_a_source_and_says_how_good_the_figure_is():
    for spec in seed().values():
        assert "http" in spec.source, spec.name
        # The reference's evidence codes: V (in the page), V* (computed from it),
        # M (manufacturer spec, republished) or D (derived from a public figure).
        assert spec.notes.startswith(("V:", "V*:", "M:", "D:", "V for")), spec.name
        assert spec.release_year is not None


@pytest.mark.parametrize(
    ("model", "hashrate", "power", "j_per_th"),
    [
        # Figures and efficiencies as the reference (mining-anchors.md section 2) gives them.
        ("Antminer S19", 95, 3250, 34.2),
        ("Antminer S19 XP Hyd", 255, 5304, 20.8),
        ("Antminer S21", 200, 3500, 17.5),
        ("Antminer S21 Hyd", 335, 5360, 16.0),
        ("Antminer T21", 190, 3610, 19.0),
        ("Antminer S21 XP", 270, 3645, 13.5),
        ("Antminer S21 XP Hyd", 473, 5676, 12.0),
        ("Whatsminer M60S", 186, 3441, 18.5),
        ("Whatsminer M63S", 390, 7215, 18.5),
        ("Avalon A1366", 130, 3250, 25.0),
        ("Avalon A16 XP", 300, 3850, 12.8),
        ("SEALMINER A2 Pro Hyd", 500, 7450, 14.9),
    ],
)
def test_seeded_figures_match_the_reference(model, hashrate, power, j_per_th):
    spec = seed()[model]
    assert (spec.hashrate_ths, spec.power_w) == (hashrate, power)
    assert round(spec.power_w / spec.hashrate_ths, 1) == j_per_th


def test_the_reference_bins_are_seeded_as_named_modes_with_one_default():
    modes = seed()["Antminer S19j Pro"].power_modes
    assert [(m.name, m.hashrate_ths, m.power_w) for m in modes] == [
        ("96T bin", 96, 2832),
        ("100T", 100, 3050),
        ("104T bin", 104, 3082),
    ]
    assert [m.is_default for m in modes] == [False, True, False]
    a1466i = seed()["Avalon A1466I"]
    default = next(m for m in a1466i.power_modes if m.is_default)
    assert (default.hashrate_ths, default.power_w) == (a1466i.hashrate_ths, a1466i.power_w)
