"""N3 / A1: one MSISDN pattern — every number form the kit accepts is also masked in its logs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaintkit.core.errors import InvalidInput
from complaintkit.core.masking import mask_id_card, mask_name, mask_number, mask_text, msisdn_digits
from complaintkit.core.model import Msisdn

FORMS = [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "+86 138 1234 5678",
    "+8613812345678",
    "8613812345678",
    "86 13812345678",
    "008613812345678",
    "0086-13812345678",
    "0086 138-1234-5678",
    "(+86) 138 1234 5678",
    "１３８１２３４５６７８",  # full-width, as an IME types it
    "＋８６　１３８　１２３４　５６７８",
]
ANY_RUN_OF_THE_NUMBER = re.compile(r"1234\D?5678|3812|８１２")


@pytest.mark.parametrize("form", FORMS)
def test_A1_every_form_is_accepted_as_the_same_number(form: str) -> None:
    assert Msisdn.parse(form).digits == "13812345678"
    assert msisdn_digits(form) == "13812345678"


@pytest.mark.parametrize("form", FORMS)
def test_N3_every_accepted_form_is_masked_inside_a_text(form: str) -> None:
    masked = mask_text(f"客户{form}来电，称信号差")
    assert not ANY_RUN_OF_THE_NUMBER.search(masked), masked
    assert masked.startswith("客户") and masked.endswith("来电，称信号差")
    assert "****" in masked


@pytest.mark.parametrize("form", ["13812345678", "+86 138 1234 5678", "138-1234-5678", "008613812345678"])
def test_N3_a_masked_number_keeps_its_first_three_and_last_four_digits(form: str) -> None:
    assert mask_text(form) == "138****5678"


@pytest.mark.parametrize("text", [
    "1381234567",           # 10 digits
    "138123456789",         # 12 digits
    "23812345678",          # no mobile prefix
    "12812345678",          # 12x is not a mobile range
    "+1 138 1234 5678 0",
    "١٣٨١٢٣٤٥٦٧٨",          # Arabic-Indic digits: \d, but not a number the kit stores
    "13812345678\x00",
    "",
])
def test_A1_other_text_is_not_a_number(text: str) -> None:
    assert msisdn_digits(text) is None
    with pytest.raises(InvalidInput):
        Msisdn.parse(text)


def test_N3_numbers_glued_to_other_digits_are_something_else() -> None:
    # an order number that happens to contain a mobile-like run is not cut in pieces
    assert mask_text("订单 20260302138123456789") == "订单 20260302138123456789"


@pytest.mark.parametrize(("text", "masked"), [
    ("身份证 110101199003071234", "身份证 110101************"),
    ("身份证 11010119900307123X", "身份证 110101************"),
    ("身份证 11010119900307123x，已核实", "身份证 110101************，已核实"),
    ("旧证 110101900307123", "旧证 110101*********"),
])
def test_N3_id_card_numbers_keep_only_the_region(text: str, masked: str) -> None:
    assert mask_id_card(text) == masked
    assert mask_text(text) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("Customer(msisdn=Msisdn(digits='13812345678'), name='张三丰', value_tier='high')",
     "Customer(msisdn=Msisdn(digits='138****5678'), name='张**', value_tier='high')"),
    ('{"customer_name": "李四", "count": 1}', '{"customer_name": "李*", "count": 1}'),
    ("客户姓名：王五，电话13912345678", "客户姓名：王*，电话139****5678"),
    ("filename='report.txt'", "filename='report.txt'"),
])
def test_N3_names_written_with_their_key_are_masked_in_text(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_N3_masks_never_raise_on_odd_values() -> None:
    assert mask_number(b"13812345678") == "138****5678"
    assert mask_number(None) == "****"
    assert mask_number("") == ""
    assert mask_name(None) == "N***"
    assert mask_text(13812345678) == "138****5678"
    assert mask_text("\ud800 13812345678") == "\ud800 138****5678"

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    assert mask_text(Broken()) == "<Broken>"


def test_N3_refused_number_is_masked_in_the_error() -> None:
    with pytest.raises(InvalidInput) as info:
        Msisdn.parse("138 1234 56789")
    assert "1234 5678" not in str(info.value) and "123456789" not in str(info.value)


_gap = st.sampled_from(["", " ", "-"])
_prefix = st.sampled_from(["", "+86", "86", "0086", "+86 ", "0086-", "(+86) "])
_no_digits = st.text(st.characters(exclude_categories=("Nd",)), max_size=6)


@settings(max_examples=200, deadline=None)
@given(_prefix, st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9), _gap, _gap,
       _no_digits, _no_digits)
def test_N3_whatever_parse_accepts_the_mask_hides(prefix: str, second: str, rest: str, gap1: str, gap2: str,
                                                   before: str, after: str) -> None:
    written = f"{prefix}1{second}{rest[0]}{gap1}{rest[1:5]}{gap2}{rest[5:]}"
    assert msisdn_digits(written) == f"1{second}{rest}"
    masked = mask_text(f"{before} {written} {after}")
    # only the first three and the last four digits are left
    assert "".join(re.findall(r"\d", masked)) == f"1{second}{rest[0]}{rest[5:]}"
