"""The games, one package each: its game object, its solvers and its experiments.

- :mod:`gametheory.games.resource`: Game 1, the P/D split of a GPU budget (continuous and integer).
- :mod:`gametheory.games.caching`: Game 2, selfish KV caching on a topology with memory tiers.
- :mod:`gametheory.games.routing`: Game 3, routing over parallel workers (nonatomic, with cache affinity,
  and atomic).
- :mod:`gametheory.games.network`: multi-commodity congestion games on a graph (traffic assignment).
- :mod:`gametheory.games.coupled`: the three games played together (paper section 4.4).

The games import the curves layer (:mod:`gametheory.latency`, :mod:`gametheory.fitting`,
:mod:`gametheory.regimes`, :mod:`gametheory.bounds`) and never the serving models above them.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 4.
"""

__all__ = ["caching", "coupled", "network", "resource", "routing"]
