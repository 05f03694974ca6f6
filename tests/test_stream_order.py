"""The per-company ordering rules of the realtime dispatcher, as plain data."""

from __future__ import annotations

from hub.realtime.stream import CompanyStream


def ev(seq: int) -> dict:
    return {"seq": seq, "type": "member.updated", "company_id": "c", "at": "", "data": {}, "audience": {}}


def seqs(messages: list[dict]) -> list[int]:
    return [m["seq"] for m in messages]


def test_events_are_released_in_seq_order_whatever_order_they_arrive_in() -> None:
    stream = CompanyStream("c")
    assert stream.offer(ev(5)) == []  # held until the stream knows where it starts
    assert seqs(stream.start_at(4)) == []
    assert seqs(stream.offer(ev(6))) == []
    assert seqs(stream.offer(ev(4))) == [4, 5, 6]
    assert stream.position == 6


def test_duplicates_and_old_events_are_not_released_twice() -> None:
    stream = CompanyStream("c")
    stream.start_at(1)
    assert seqs(stream.offer(ev(1))) == [1]
    assert seqs(stream.offer(ev(1))) == []
    assert seqs(stream.offer(ev(3))) == []
    assert seqs(stream.offer(ev(3))) == []
    assert stream.missing() == (2, 2)
    assert seqs(stream.offer(ev(2))) == [2, 3]
    assert stream.missing() is None


def test_events_before_the_starting_point_are_left_to_replay() -> None:
    stream = CompanyStream("c")
    stream.offer(ev(2))
    stream.offer(ev(3))
    assert seqs(stream.start_at(3)) == [3]


def test_a_seq_that_never_committed_is_skipped_and_a_late_one_still_delivered_once() -> None:
    stream = CompanyStream("c")
    stream.start_at(1)
    stream.offer(ev(1))
    stream.offer(ev(4))
    assert stream.missing() == (2, 3)
    assert seqs(stream.skip_to(4, now=100.0)) == [4]
    assert stream.missing() is None
    late = stream.offer(ev(3))
    assert seqs(late) == [3] and late[0]["late"] is True
    assert stream.offer(ev(3)) == []


def test_the_stream_remembers_released_events_for_replay() -> None:
    stream = CompanyStream("c")
    stream.start_at(5)
    for seq in (5, 6, 8):  # 7 never committed
        stream.remember(ev(seq))
    assert stream.recent_after(4, 8) is not None and seqs(stream.recent_after(4, 8)) == [5, 6, 8]
    assert seqs(stream.recent_after(5, 6)) == [6]
    assert stream.recent_after(2, 8) is None, "memory does not reach back to 3: read the log"
    stream.remember({**ev(7), "late": True})
    assert stream.recent_after(4, 8) is None, "a late event breaks the order: read the log"
