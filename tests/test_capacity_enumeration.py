"""Exhaustive enumeration: the exact ground truth for binary weights at small N."""
import itertools

import numpy as np
import pytest
import torch

from actlab.capacity import solvers
from actlab.capacity.enumeration import count_solutions
from actlab.capacity.machine import CommitteeMachine, random_problem
from actlab.errors import ActlabError


def _all_configs(machine):
    w = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=machine.K * machine.n)))
    return w.view(-1, machine.K, machine.n)


@pytest.mark.parametrize("act,K,N,tree,P", [("sign", 1, 9, True, 6), ("sign", 3, 9, True, 7), ("relu", 2, 10, True, 6),
                                            ("relu", 2, 8, True, 4), ("relu", 4, 3, False, 3),
                                            ("sign", 3, 4, False, 4)])
def test_counts_match_the_machine_on_every_configuration(act, K, N, tree, P):
    m = CommitteeMachine(act, K, N, tree=tree)
    prob = random_problem(m, P, 6, generator=torch.Generator().manual_seed(K * N + P))
    counts, W = count_solutions(m, prob)
    allw = _all_configs(m)
    expected = [int((m.errors(prob.patterns[b:b + 1], prob.labels[b:b + 1], allw) == 0).sum()) for b in range(6)]
    assert counts.tolist() == expected
    solvable = torch.from_numpy(counts > 0)
    assert int(m.errors(prob.patterns, prob.labels, W)[solvable].sum()) == 0


def test_one_pattern_halves_the_perceptron_configurations():
    m = CommitteeMachine("sign", 1, 15)          # N odd: no ties, w·ξ has the sign y for exactly half of all w
    counts, _ = count_solutions(m, random_problem(m, 1, 3, generator=torch.Generator().manual_seed(0)))
    assert counts.tolist() == [2**14] * 3


def test_stop_at_first_and_solvers_never_beat_the_ground_truth():
    m = CommitteeMachine("sign", 3, 15)
    prob = random_problem(m, 11, 24, generator=torch.Generator().manual_seed(3))
    counts, _ = count_solutions(m, prob)
    first, W = count_solutions(m, prob, stop_at_first=True)
    assert ((first > 0) == (counts > 0)).all() and set(first.tolist()) <= {0, 1}
    exact = solvers.solve(m, prob, "binary", "exact")
    assert (exact.solved.numpy() == (counts > 0)).all()
    annealed = solvers.solve(m, prob, "binary", "anneal", sweeps=50)
    assert not bool((annealed.solved & ~exact.solved).any())
    assert 0 < int(exact.solved.sum()) < 24


@pytest.mark.parametrize("N,patterns,weights", [(40, "pm1", "binary"), (9, "gaussian", "binary"),
                                                (9, "pm1", "spherical")])
def test_enumeration_refuses_what_it_cannot_decide(N, patterns, weights):
    m = CommitteeMachine("sign", 1, N)
    prob = random_problem(m, 3, 2, patterns=patterns, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ActlabError):
        solvers.solve(m, prob, weights, "exact")
