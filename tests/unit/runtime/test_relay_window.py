"""The relay's read window: it follows what was read and adapts to hold about a batch."""

from __future__ import annotations

from services.runtime.outbox import PENDING
from services.runtime.relay import ReadWindow


def read(window: ReadWindow, *positions: int, bounded: bool = True) -> None:
    window.read([{"position": p} for p in positions], bounded=bounded)


def test_the_first_pass_reads_everything_pending() -> None:
    assert ReadWindow(100).bounded() is None


def test_after_a_pass_only_positions_up_to_the_last_read_plus_the_width_are_read() -> None:
    window = ReadWindow(100)
    read(window, 5, 7_000, 40, bounded=False)
    assert window.bounded() == {**PENDING, "position": {"$lte": 7_000 + 10**9}}


def test_a_full_window_narrows_and_a_sparse_one_widens() -> None:
    window = ReadWindow(100)
    read(window, *range(100))
    assert window.width == 10**9 // 2
    read(window, 200)
    assert window.width == 10**9


def test_the_width_stays_between_a_millisecond_and_an_hour() -> None:
    window = ReadWindow(4)
    for _ in range(40):
        read(window, 1, 2, 3, 4)
    assert window.width == ReadWindow.MIN_WIDTH_NS
    for _ in range(80):
        read(window)
    assert window.width == ReadWindow.MAX_WIDTH_NS


def test_a_straggler_behind_the_last_read_does_not_move_the_window_back() -> None:
    window = ReadWindow(100)
    read(window, 9_000, bounded=False)
    read(window, 3)
    assert window.after == 9_000
