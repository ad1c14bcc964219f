"""The order of `np.argsort(scores)` in the official GenEval environment, on any numpy.

The official evaluator orders each class's detections by `np.argsort(s)[::-1]` over the
float32 scores, in an environment that pins numpy 1.23.1. That numpy's default sort
(`kind='quicksort'`) is numpy's generic introsort: median-of-3 quicksort, partitions of
at most 16 elements finished by insertion sort (stable), heapsort once too deep. Equal
scores therefore come out in an order the algorithm decides: for 16 detections or fewer
the later row first (after `[::-1]`); for more, wherever the partitioning put them.

Newer numpy (1.26 and 2.x on CPUs with AVX2/AVX-512) dispatches float32 argsort to
x86-simd-sort, which orders ties differently, even among 6 detections: for scores
[.4, .6, .6, .6, .6, .4], `np.argsort(s)[::-1]` is [4, 3, 2, 1, 5, 0] on numpy 1.23
and [4, 3, 1, 2, 5, 0] on numpy 2.4 with AVX-512. So calling `np.argsort` here would agree with the official
script only on some machines; `argsort_numpy123` is that introsort written out (from
numpy's `npysort/quicksort.cpp` and `heapsort.cpp` algorithms, checked against numpy
1.23.5 on thousands of arrays with ties, NaN and the heapsort fallback; the tests hold
orders numpy 1.23.5 printed), so the order is the official one everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SMALL_QUICKSORT = 15  # numpy: a partition with pr - pl <= 15 (at most 16 items) is insertion-sorted


def _less(a: float, b: float) -> bool:
    """numpy's float order: NaN after every number."""
    return a < b or (b != b and a == a)


def _heapsort(v: Sequence[float], idx: list[int], lo: int, n: int) -> None:
    """numpy's `aheapsort` of idx[lo : lo + n] by v (a 1-based heap, as numpy's)."""

    def at(k: int) -> int:
        return lo + k - 1

    def sift(i: int, tmp: int, size: int) -> None:
        j = i << 1
        while j <= size:
            if j < size and _less(v[idx[at(j)]], v[idx[at(j + 1)]]):
                j += 1
            if not _less(v[tmp], v[idx[at(j)]]):
                break
            idx[at(i)] = idx[at(j)]
            i, j = j, j + j
        idx[at(i)] = tmp

    for top in range(n >> 1, 0, -1):
        sift(top, idx[at(top)], n)
    while n > 1:
        tmp = idx[at(n)]
        idx[at(n)] = idx[at(1)]
        n -= 1
        sift(1, tmp, n)


def _partition(v: Sequence[float], idx: list[int], pl: int, pr: int) -> int:
    """One median-of-3 quicksort partition of idx[pl : pr + 1]; returns the pivot's place."""
    pm = pl + ((pr - pl) >> 1)
    if _less(v[idx[pm]], v[idx[pl]]):
        idx[pm], idx[pl] = idx[pl], idx[pm]
    if _less(v[idx[pr]], v[idx[pm]]):
        idx[pr], idx[pm] = idx[pm], idx[pr]
    if _less(v[idx[pm]], v[idx[pl]]):
        idx[pm], idx[pl] = idx[pl], idx[pm]
    vp = v[idx[pm]]
    pi, pj = pl, pr - 1
    idx[pm], idx[pj] = idx[pj], idx[pm]
    while True:
        pi += 1
        while _less(v[idx[pi]], vp):
            pi += 1
        pj -= 1
        while _less(vp, v[idx[pj]]):
            pj -= 1
        if pi >= pj:
            break
        idx[pi], idx[pj] = idx[pj], idx[pi]
    idx[pi], idx[pr - 1] = idx[pr - 1], idx[pi]
    return pi


def _insertion_sort(v: Sequence[float], idx: list[int], pl: int, pr: int) -> None:
    for i in range(pl + 1, pr + 1):
        vi = idx[i]
        j = i
        while j > pl and _less(v[vi], v[idx[j - 1]]):
            idx[j] = idx[j - 1]
            j -= 1
        idx[j] = vi


def argsort_numpy123(values: Sequence[float] | np.ndarray) -> list[int]:
    """`np.argsort(np.float32 values)` as numpy 1.23 computes it (ascending)."""
    v = [float(x) for x in np.asarray(values, dtype=np.float32).reshape(-1)]
    idx = list(range(len(v)))
    if len(v) < 2:
        return idx
    pl, pr = 0, len(v) - 1
    cdepth = (len(v).bit_length() - 1) * 2
    stack: list[tuple[int, int, int]] = []
    while True:
        if cdepth < 0:  # numpy checks the depth only for a segment taken off the stack
            _heapsort(v, idx, pl, pr - pl + 1)
        else:
            while pr - pl > SMALL_QUICKSORT:
                pi = _partition(v, idx, pl, pr)
                cdepth -= 1
                if pi - pl < pr - pi:  # the larger side waits on the stack
                    stack.append((pi + 1, pr, cdepth))
                    pr = pi - 1
                else:
                    stack.append((pl, pi - 1, cdepth))
                    pl = pi + 1
            _insertion_sort(v, idx, pl, pr)
        if not stack:
            return idx
        pl, pr, cdepth = stack.pop()
