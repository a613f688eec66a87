"""One part-counting rule: FakeSms (what users test against) says what the SMPP adapter sends."""

from __future__ import annotations

import pytest
from complaintkit_smpp import encode_text, part_count

from complaintkit.core.sms_text import sms_parts, split_sms
from complaintkit.ports.transports import SendOutcome, SmsRequest
from complaintkit.testing import FakeSms

ALPHABETS = {"chinese": "您", "ascii": "a", "emoji": "😀", "gsm-extension": "€",
             "mixed": "工单a😀"}


def adapter_parts(text: str) -> int:
    return encode_text(text, ref=7).count


@pytest.mark.parametrize("alphabet", sorted(ALPHABETS))
def test_fake_and_adapter_agree_for_1_to_400_characters(alphabet: str) -> None:
    unit = ALPHABETS[alphabet]
    texts = [(unit * 400)[:n] for n in range(1, 401)]
    fake = FakeSms()
    results = fake.send_many([SmsRequest(f"k{n}", "13812345678", "10086", t)
                              for n, t in enumerate(texts, 1)])
    assert [r.parts for r in results] == [adapter_parts(t) for t in texts]
    assert [part_count(t) for t in texts] == [adapter_parts(t) for t in texts]


@pytest.mark.parametrize(("text", "parts"), [
    ("您" * 68, 1), ("您" * 70, 1), ("您" * 71, 2), ("您" * 134, 2), ("您" * 135, 3),
    ("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3),
    ("€" * 80, 1), ("€" * 81, 2),  # two septets each
    ("😀" * 35, 1), ("😀" * 36, 2),  # a surrogate pair each: 70 code units fit one SMS
    ("😀" * 66, 2), ("😀" * 67, 3),  # 33 per part: a 34th pair would straddle the 67th unit
])
def test_the_rule_at_its_limits(text: str, parts: int) -> None:
    assert sms_parts(text) == parts
    assert FakeSms().send_many([SmsRequest("k", "13812345678", "10086", text)])[0].parts == parts


def test_a_surrogate_pair_is_never_split() -> None:
    text = "您" * 66 + "😀" * 40
    split = split_sms(text)
    assert not split.gsm and "".join(split.pieces) == text
    for piece in split.pieces:
        assert len(piece.encode("utf-16-be")) <= 134
        piece.encode("utf-16-be")  # would raise on half a pair (a lone surrogate)


def test_the_adapter_reports_the_fakes_count_over_the_wire(make_pair) -> None:
    _smsc, transport = make_pair()
    texts = ["您" * n for n in (68, 69, 70, 71)] + ["a" * 160, "a" * 161, "😀" * 36]
    requests = [SmsRequest(f"w{i}", "13812345678", "10086", t) for i, t in enumerate(texts)]
    sent = transport.send_many(requests)
    faked = FakeSms().send_many(requests)
    assert all(r.outcome is SendOutcome.ACCEPTED for r in sent)
    assert [r.parts for r in sent] == [r.parts for r in faked] == [1, 1, 1, 2, 1, 2, 2]


def test_more_than_255_parts_is_refused_by_both(make_pair) -> None:
    _smsc, transport = make_pair()
    request = SmsRequest("huge", "13812345678", "10086", "您" * (67 * 255 + 1))
    [real] = transport.send_many([request])
    [fake] = FakeSms().send_many([request])
    assert real.outcome is fake.outcome is SendOutcome.FAILED
    assert real.detail == fake.detail == "256 parts, at most 255 allowed"
