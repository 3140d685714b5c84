"""The memory replay store keeps the rules of spec §6.4."""
import unittest

import support  # noqa: F401

from reqauth.replay import FORGOTTEN, FRESH, REPLAYED, MemoryReplayStore, ReplayWindow, restart_floor

W = ReplayWindow(120_000, 30_000)
N = lambda i: i.to_bytes(16, "big")  # noqa: E731


class Clock:
    def __init__(self, t=1_000_000):
        self.t = t

    def __call__(self):
        return self.t


class ReplayStore(unittest.TestCase):
    def test_a_pair_is_fresh_once(self):
        s = MemoryReplayStore()
        self.assertEqual(s.check_and_remember("p", N(1), 10**13), FRESH)
        self.assertEqual(s.check_and_remember("p", N(1), 10**13), REPLAYED)
        self.assertEqual(s.check_and_remember("q", N(1), 10**13), FRESH)

    def test_restart_floor_refuses_what_was_issued_before_the_start(self):
        clock = Clock()
        s = MemoryReplayStore(now=clock)
        s.attach(W)
        start = clock.t
        self.assertEqual(s.check_and_remember("p", N(1), start - 1 + 150_000), FORGOTTEN)
        self.assertEqual(s.check_and_remember("p", N(2), start + 150_000), FRESH)
        self.assertEqual(restart_floor(start, W, True), start + 180_000)

    def test_share_eviction_raises_only_the_principal_floor_and_never_admits_a_replay(self):
        clock = Clock()
        s = MemoryReplayStore(max_entries=100, max_entries_per_principal=2, now=clock)
        exp = clock.t + 150_000
        self.assertEqual(s.check_and_remember("flood", N(1), exp + 5), FRESH)
        self.assertEqual(s.check_and_remember("flood", N(2), exp + 3), FRESH)
        self.assertEqual(s.check_and_remember("flood", N(3), exp + 4), FRESH)  # forgets N(1), floor exp+5
        self.assertEqual(s.check_and_remember("flood", N(1), exp + 5), FORGOTTEN)
        self.assertEqual(s.check_and_remember("flood", N(2), exp + 3), REPLAYED)  # remembered wins
        self.assertEqual(s.check_and_remember("flood", N(9), exp + 5), FORGOTTEN)
        self.assertEqual(s.check_and_remember("other", N(9), exp), FRESH)  # another principal is unaffected

    def test_full_store_makes_room_from_the_largest_principal(self):
        clock = Clock()
        s = MemoryReplayStore(max_entries=4, max_entries_per_principal=4, now=clock)
        exp = clock.t + 150_000
        for i in range(3):
            s.check_and_remember("big", N(i), exp + i)
        s.check_and_remember("small", N(100), exp)
        self.assertEqual(s.check_and_remember("small", N(101), exp), FRESH)
        self.assertEqual(s.size, 4)
        self.assertEqual(s.check_and_remember("big", N(0), exp), FORGOTTEN)
        self.assertEqual(s.check_and_remember("small", N(100), exp), REPLAYED)

    def test_expiry_raises_the_store_floor_even_if_the_clock_goes_back(self):
        clock = Clock()
        s = MemoryReplayStore(now=clock)
        exp = clock.t + 150_000
        s.check_and_remember("p", N(1), exp)
        clock.t = exp + 1
        s.check_and_remember("p", N(2), exp + 200_000)  # sweeps N(1): floor >= exp
        clock.t = exp - 100_000  # the clock jumps back
        self.assertEqual(s.check_and_remember("p", N(1), exp), FORGOTTEN)

    def test_memory_is_bounded(self):
        clock = Clock()
        s = MemoryReplayStore(max_entries=50, now=clock)
        for i in range(1000):
            s.check_and_remember(f"p{i % 7}", N(i), clock.t + 150_000 + i)
        self.assertLessEqual(s.size, 50)


if __name__ == "__main__":
    unittest.main()
