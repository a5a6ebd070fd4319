"""Shared fixtures: the grid of Normal pairs and its encodings (computed once per session)."""

from __future__ import annotations

import numpy as np
import pytest

import rec_fast as rf

# (name, P loc, P scale, Q loc, Q scale): KL from ~0.01 to ~12 bits (and 20 for
# branch-and-bound only), proposals not centred at 0, narrow targets deep in P's tail.
GRID = [
    ("near-identical", 0.0, 1.0, 0.1, 0.97),
    ("wide-offset-proposal", 2.0, 3.0, 2.5, 1.5),
    ("talk-example", 0.0, 1.0, 1.0, 0.25),
    ("shifted-proposal", -1.0, 0.5, -1.2, 0.1),
    ("narrow-in-tail", 0.0, 1.0, 3.0, 0.1),
    ("left-tail", 0.0, 1.0, -4.0, 0.3),
    ("far-proposal-narrow", 10.0, 2.0, 10.3, 0.002),
    ("very-narrow-centred", 0.0, 1.0, 0.0, 0.00015),
    ("deep-tail-20-bits", 5.0, 1.0, 9.5, 0.05),
]
SAMPLES = 20_000
GLOBAL_MAX_DMAX_BITS = 13.0  # global GPRS and PFR need about 2^D∞ steps per sample
GLOBAL_METHODS = ("gprs", "pfr", "gprs-parallel")


def repeated(distribution, count: int):
    """``count`` copies of a scalar distribution: the same family and parameters, shape (count,)."""
    first, second = distribution._parameters()
    return type(distribution)(np.full(count, float(first)), float(second))


def grid_pair(entry):
    _, p_loc, p_scale, q_loc, q_scale = entry
    return rf.Normal(q_loc, q_scale), rf.Normal(p_loc, p_scale)


def applicable(entry, method: str) -> bool:
    Q, P = grid_pair(entry)
    return method not in GLOBAL_METHODS or float(rf.max_divergence(Q, P)) <= GLOBAL_MAX_DMAX_BITS


@pytest.fixture(scope="session")
def grid_encodings():
    """{(name, method): (Q, P, Encoding)} for SAMPLES copies of every applicable grid pair."""
    results = {}
    for index, entry in enumerate(GRID):
        for method in rf.METHODS:
            if not applicable(entry, method):
                continue
            Q1, P1 = grid_pair(entry)
            Q = rf.Normal(np.full(SAMPLES, float(Q1.loc)), float(Q1.scale))
            results[(entry[0], method)] = (Q1, P1, rf.encode(Q, P1, seed=1000 + index, method=method))
    return results
