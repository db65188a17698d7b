"""Reading ahead on a thread: bounded in items and in bytes, errors handed on, stoppable."""

import threading

import numpy as np
import pyarrow as pa
import pytest

from streamdrift.background import Background, Interleaved

MIB = 1 << 20


class Produced:
    """A generator of record batches that notes how far its reader has asked (``asked[n]``: item n wanted)."""

    def __init__(self, count: int, rows: int):
        self.batch = pa.record_batch({"x": np.arange(rows, dtype=np.float64)})
        self.count = count
        self.asked = [threading.Event() for _ in range(count + 2)]

    def __iter__(self):
        for n in range(self.count):
            self.asked[n].set()
            yield self.batch
        self.asked[self.count].set()


def test_the_reader_holds_at_most_max_bytes_ahead():
    items = Produced(10, MIB // 8)  # 1 MiB batches
    reader = Background(items, depth=64, max_bytes=3 * MIB)
    try:
        assert items.asked[3].wait(10)  # items 0-2 are queued: 3 MiB, the bound
        assert not items.asked[4].wait(0.3)  # item 3 waits for room (it would make 4 MiB)
        it = iter(reader)
        assert next(it) is items.batch  # one consumed: room for item 3, and item 4 is asked for
        assert items.asked[4].wait(10)
        assert not items.asked[5].wait(0.3)
        assert sum(1 for _ in it) == 9
    finally:
        reader.close()


def test_the_reader_holds_at_most_depth_items_ahead():
    items = Produced(10, 10)
    reader = Background(items, depth=2)
    try:
        assert items.asked[2].wait(10)
        assert not items.asked[3].wait(0.3)
        assert [b.num_rows for b in reader] == [10] * 10
    finally:
        reader.close()


def test_an_item_larger_than_the_bound_still_passes():
    items = Produced(3, MIB)  # 8 MiB each, bound 1 MiB: one at a time
    reader = Background(items, max_bytes=MIB)
    try:
        assert [b.num_rows for b in reader] == [MIB] * 3
    finally:
        reader.close()


def test_an_error_of_the_reader_is_raised_in_the_consumer():
    def failing():
        yield pa.record_batch({"x": [1.0]})
        raise OSError("disk gone")

    reader = Background(failing())
    it = iter(reader)
    assert next(it).num_rows == 1
    with pytest.raises(OSError, match="disk gone"):
        next(it)
    reader.close()


def test_close_stops_a_reader_waiting_for_room_and_closes_its_items():
    closed = threading.Event()

    def endless():
        try:
            while True:
                yield pa.record_batch({"x": np.zeros(1000)})
        finally:
            closed.set()

    reader = Background(endless(), depth=2)
    assert next(iter(reader)).num_rows == 1000
    reader.close()
    assert closed.wait(10)


def test_interleaved_gives_one_item_of_each_in_turn_and_closes_them_all():
    readers = [Background(iter([1, 2, 3])), Background(iter([10])), Background(iter([20, 21]))]
    both = Interleaved(readers)
    assert list(both) == [1, 10, 20, 2, 21, 3]
    waiting = Produced(10, MIB // 8)
    reader = Background(waiting, depth=1)
    both = Interleaved([reader])
    assert next(iter(both)) is waiting.batch
    assert waiting.asked[2].wait(10)  # held one, waits for room with the next
    both.close()
    reader._thread.join(10)
    assert not reader._thread.is_alive() and not waiting.asked[9].is_set()


def test_file_sides_are_read_ahead_each_on_its_own_thread_within_one_bound(tmp_path):
    import pyarrow.parquet as pq

    from streamdrift.background import READ_AHEAD_BYTES
    from streamdrift.counting import Counter
    from streamdrift.io import open_source

    sources = []
    for name in ("r", "c"):
        pq.write_table(pa.table({"x": np.arange(8000.0)}), tmp_path / f"{name}.parquet", row_group_size=1000)
        sources.append(open_source(tmp_path / f"{name}.parquet", name))
    with Counter(1, decoding=True) as counter:
        ahead = counter.read_ahead([(s, ["x"]) for s in sources], 1000)
        try:
            assert [r._max_bytes for r in ahead._readers] == [READ_AHEAD_BYTES // 2] * 2
            sides = [i for i, _ in ahead]
        finally:
            ahead.close()
    assert sides == [0, 1] * 8
