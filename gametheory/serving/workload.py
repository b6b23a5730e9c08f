"""Request workloads: the paper's 5-template prefix-sharing workload and user-defined ones.

A workload draws, per request, a template index (shared prefix), an input length and an output length
(tokens). The paper's workload: 5 templates, 128-token inputs; the shared prefix (96 tokens) and the output
length (128) are our assumptions (:mod:`gametheory.paper_setup`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, SHARED_PREFIX_TOKENS, TEMPLATES


@dataclass(frozen=True)
class Workload:
    """n_templates shared prefixes of ``prefix_tokens``; input/output lengths fixed or drawn uniformly in
    [lo, hi] (tokens); template popularity ``weights`` (uniform if None). think_ms: mean exponential think
    time of closed-loop clients (0 = none). arrival_rate_per_s: if set, open Poisson arrivals instead."""

    n_templates: int = TEMPLATES
    input_tokens: tuple[int, int] = (INPUT_TOKENS, INPUT_TOKENS)
    output_tokens: tuple[int, int] = (OUTPUT_TOKENS, OUTPUT_TOKENS)
    prefix_tokens: int = SHARED_PREFIX_TOKENS
    weights: tuple[float, ...] | None = None
    think_ms: float = 0.0
    arrival_rate_per_s: float | None = None

    def __post_init__(self):
        if self.n_templates < 1:
            raise InvalidInputError("n_templates must be >= 1")
        for name in ("input_tokens", "output_tokens"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise InvalidInputError(f"{name} must satisfy 1 <= lo <= hi, got {(lo, hi)}")
        if not 0 <= self.prefix_tokens <= self.input_tokens[0]:
            raise InvalidInputError("prefix_tokens must lie in [0, min input length]")
        if self.weights is not None and (len(self.weights) != self.n_templates or min(self.weights) < 0
                                         or sum(self.weights) <= 0):
            raise InvalidInputError("weights must have n_templates nonnegative entries with a positive sum")
        if self.think_ms < 0:
            raise InvalidInputError("think_ms must be >= 0")
        if self.arrival_rate_per_s is not None and self.arrival_rate_per_s <= 0:
            raise InvalidInputError("arrival_rate_per_s must be > 0")

    def sample(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw n requests: arrays ``template``, ``input_tokens``, ``output_tokens`` (int64)."""
        p = None if self.weights is None else np.asarray(self.weights, float) / sum(self.weights)
        return {
            "template": rng.choice(self.n_templates, size=n, p=p).astype(np.int64),
            "input_tokens": rng.integers(self.input_tokens[0], self.input_tokens[1] + 1, n),
            "output_tokens": rng.integers(self.output_tokens[0], self.output_tokens[1] + 1, n),
        }


def paper_workload(output_tokens: int = OUTPUT_TOKENS) -> Workload:
    """The paper's workload: 5 templates, 128-token inputs; the 96-token shared prefix and the output length
    are our assumptions (not stated in the paper; :mod:`gametheory.paper_setup`)."""
    return Workload(output_tokens=(output_tokens, output_tokens))
