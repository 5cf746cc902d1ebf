"""Group commit on its own: callers that arrive together share one flush."""

from __future__ import annotations

import asyncio

import pytest

from services.enrolment.batching import GroupCommit


class Recorder:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def flush(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await asyncio.sleep(0)  # a transaction: others arrive meanwhile
        if self.fail_on in items:
            raise RuntimeError("the database said no")
        return [i * 10 for i in items]


async def test_a_lone_caller_is_flushed_alone():
    recorder = Recorder()
    assert await GroupCommit(recorder.flush, max_batch=10).submit(1) == 10
    assert recorder.batches == [[1]]


async def test_callers_arriving_during_a_flush_share_the_next_one_and_get_their_own_result():
    recorder = Recorder()
    group = GroupCommit(recorder.flush, max_batch=100)
    results = await asyncio.gather(*(group.submit(i) for i in range(20)))
    assert results == [i * 10 for i in range(20)]
    assert recorder.batches[0] == [0] and len(recorder.batches) == 2
    assert sorted(i for batch in recorder.batches for i in batch) == list(range(20))


async def test_a_batch_never_exceeds_its_limit():
    recorder = Recorder()
    group = GroupCommit(recorder.flush, max_batch=3)
    assert await asyncio.gather(*(group.submit(i) for i in range(10))) == [
        i * 10 for i in range(10)]
    assert max(len(batch) for batch in recorder.batches) == 3


async def test_a_failed_flush_fails_exactly_the_callers_in_it():
    recorder = Recorder(fail_on=5)
    group = GroupCommit(recorder.flush, max_batch=100)
    results = await asyncio.gather(*(group.submit(i) for i in range(10)),
                                   return_exceptions=True)
    failed = {i for i, r in enumerate(results) if isinstance(r, RuntimeError)}
    assert failed == set(next(b for b in recorder.batches if 5 in b))
    assert all(results[i] == i * 10 for i in range(10) if i not in failed)


async def test_a_caller_that_goes_away_does_not_abort_the_flush_of_the_others():
    started, release = asyncio.Event(), asyncio.Event()
    flushed: list[list[int]] = []

    async def slow_flush(items: list[int]) -> list[int]:
        started.set()
        await release.wait()
        flushed.append(items)
        return items

    group = GroupCommit(slow_flush, max_batch=10)
    leader = asyncio.create_task(group.submit(1))
    await started.wait()
    follower = asyncio.create_task(group.submit(2))
    await asyncio.sleep(0)
    leader.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await follower == 2
    assert flushed == [[1], [2]]
