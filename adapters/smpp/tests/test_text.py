from __future__ import annotations

from complaintkit_smpp.receipts import decode_user_data, parse_udh
from complaintkit_smpp.text import (
    DC_GSM,
    DC_UCS2,
    RefAllocator,
    encode_text,
    gsm_decode,
    gsm_encode,
    mask_number,
    part_count,
    split_ucs2,
)
from hypothesis import given, settings
from hypothesis import strategies as st

chinese = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=600)
any_text = st.text(max_size=700)  # includes astral characters (emoji) and surrogate-free BMP


def reassemble(encoded) -> str:
    if not encoded.udhi:
        return decode_user_data(encoded.parts[0], encoded.data_coding)[0]
    chunks = {}
    for part in encoded.parts:
        (_ref, total, seq), data = parse_udh(part)
        assert total == encoded.count
        chunks[seq] = data
    joined = b"".join(chunks[i] for i in range(1, encoded.count + 1))
    return decode_user_data(joined, encoded.data_coding)[0]


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_round_trip_and_part_limits(text):
    encoded = encode_text(text, ref=7)
    assert reassemble(encoded) == text
    assert encoded.count == part_count(text)
    for part in encoded.parts:
        if encoded.data_coding == DC_UCS2:
            assert len(part) <= 140
            user = part[6:] if encoded.udhi else part
            assert len(user) % 2 == 0
            last = int.from_bytes(user[-2:], "big") if user else 0
            assert not 0xD800 <= last <= 0xDBFF, "a part ends in a high surrogate"
        else:
            assert encoded.data_coding == DC_GSM
            assert len(part) - (6 if encoded.udhi else 0) <= (153 if encoded.udhi else 160)


@settings(max_examples=200, deadline=None)
@given(chinese)
def test_chinese_parts(text):
    encoded = encode_text(text, ref=1)
    units = len(text)
    expected = 1 if units <= 70 else -(-units // 67)
    assert encoded.count == expected
    assert encoded.data_coding == DC_UCS2 or text == ""
    assert reassemble(encoded) == text


def test_emoji_never_split():
    text = "好" * 66 + "😀" + "好" * 10  # the emoji would straddle the 67-unit boundary
    parts = split_ucs2(text)
    assert parts[0] == "好" * 66
    assert parts[1].startswith("😀")
    assert "".join(parts) == text


def test_long_complaint_sms_parts():
    text = ("【中国移动】尊敬的客户，您反映的“有余额被停机”问题已处理，请您测试。如问题仍未解决，"
            "请在12小时内回复1至10086，或拨打快速服务号码，我们将进一步为您处理。感谢您的支持！")
    encoded = encode_text(text, ref=3)
    assert encoded.count == 2 and encoded.udhi
    assert all(len(p) <= 140 for p in encoded.parts)
    assert encoded.parts[0][:6] == bytes([5, 0, 3, 3, 2, 1])


def test_references_do_not_repeat_per_destination():
    refs = RefAllocator(start=250)
    a = [refs.next("13800000001") for _ in range(256)]
    assert len(set(a)) == 256  # 256 long messages in a row before a repeat
    assert refs.next("13800000002") == 250  # another number has its own counter


def test_gsm_round_trip_and_mask():
    text = "Reply 1 {ok} €5 @home"
    assert gsm_decode(gsm_encode(text)) == text
    assert mask_number("13812345678") == "138****5678"
    assert "12345678" not in mask_number("8613812345678")
