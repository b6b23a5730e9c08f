"""One engine model: the scheduler limits of a serving engine and the cluster built from it.

Every serving model of the toolkit reads the same two objects: the discrete-event simulator
(:mod:`gametheory.serving.simulator`), the closed-loop analytic model (:mod:`gametheory.serving.queueing`),
Game 1's pool costs (:mod:`gametheory.serving.pool_costs`) and the configuration of NVIDIA Dynamo's mocker
workers in the replay (:mod:`gametheory.serving.dynamo`).

- :class:`EngineConfig`: per-worker scheduler limits. Decode slots per worker (``max_num_seqs``), tokens per
  engine step (``max_num_batched_tokens``), requests per prefill step (``max_prefill_seqs``), chunked or
  whole-prompt prefill, prefix caching on the prefill worker, KV block size.
- :class:`Cluster`: a measured step-latency profile (:func:`gametheory.serving.profiles.load_profile`), an nP/mD
  layout, the KV-transfer link and an :class:`EngineConfig`; it answers the timing questions every model asks
  (prefill step time for a token count, decode step time at a batch size, KV-transfer time, the prefill batch a
  full step holds).

Defaults (:data:`VLLM_DEFAULTS`) are vLLM's, the engine under the paper's Dynamo 0.9.0 deployment (its
``vllm-runtime:0.9.0`` container ships vLLM v0.14.1, per Dynamo's v0.9.0 release-artifacts page). vLLM's V1
engine (``vllm/engine/arg_utils.py``, the ``EngineArgs`` batch defaults; read in a stored copy of the 0.11
series, where the rule sits in ``_set_default_args``, and in later copies' ``get_batch_defaults``: the v0.14.1
tag itself could not be read here) sets, for a GPU with at least 70 GiB that is not an A100 (B200: 192 GB)
and the OpenAI-server usage context that Dynamo's vLLM worker uses: ``max_num_batched_tokens = 8192`` and
``max_num_seqs = 1024`` (8192 / 256 on smaller GPUs; 16384 / 1024 offline), chunked prefill always on,
automatic prefix caching on; the KV block size on CUDA is 16 tokens (also the Dynamo KV router's default
``kv_block_size``). vLLM has no separate limit on requests per prefill step: a prefill-only worker batches up
to ``max_num_seqs`` requests within the token budget, so ``max_prefill_seqs = None`` means exactly that.
Dynamo 1.6.1's mocker defaults differ in two places (``max_num_seqs = 256``, ``block_size = 64``;
``max_num_batched_tokens = 8192``, prefix caching and chunked prefill on, read from
``dynamo.mocker.config.normalize_mocker_config()``): the replay is configured from the :class:`EngineConfig`,
not from the mocker's defaults.

The paper's three setups (:data:`PAPER_SETUPS`, :func:`paper_cluster`) come from :mod:`gametheory.paper_setup`:
Nemotron-4-340B TP8 1P/2D (KV over InfiniBand), Llama-3.1-70B TP4 1P/2D and 1P/5D (KV over NVLink), all on B200
FP8.

References
----------
.. [1] vLLM, ``vllm/engine/arg_utils.py`` (EngineArgs default batch limits by device memory and usage
   context) and ``vllm/config/scheduler.py`` (SchedulerConfig), https://github.com/vllm-project/vllm.
.. [2] NVIDIA Dynamo v0.9.0 release artifacts (vllm-runtime:0.9.0 = vLLM v0.14.1); Dynamo 1.6.1
   ``dynamo.mocker`` engine defaults; ``lib/mocker/src/common/perf_model.rs`` (prefill time of a step =
   interpolation at the step's total new tokens), https://github.com/ai-dynamo/dynamo.
.. [3] W. Kwon et al., "Efficient Memory Management for Large Language Model Serving with PagedAttention",
   SOSP 2023 (continuous batching, block-granular prefix caching).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from gametheory import paper_setup
from gametheory._validate import choice
from gametheory.errors import InvalidInputError

__all__ = [
    "Cluster",
    "EngineConfig",
    "PAPER_SETUPS",
    "VLLM_DEFAULTS",
    "paper_cluster",
]


def _positive_int(value, name: str, *, allow_none: bool = False, maximum: int = 1_000_000):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= maximum:
        raise InvalidInputError(f"{name} must be an integer in 1..{maximum:,}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class EngineConfig:
    """Scheduler limits of one serving engine (the same on every worker of a pool).

    Parameters
    ----------
    max_num_seqs : int
        Decode batch slots per worker: at most this many requests decode at once; a request whose KV arrives
        at a full worker waits there (FIFO) for a slot.
    max_num_batched_tokens : int
        Tokens one engine step may process (the prefill step's token budget).
    max_prefill_seqs : int or None
        Requests one prefill step may hold; ``None`` = ``max_num_seqs`` (vLLM has no separate limit).
    chunked_prefill : bool
        Split a prompt that does not fit the step's remaining budget (vLLM V1: always on); otherwise such a
        prompt waits for the next step (a prompt larger than the whole budget runs alone).
    prefix_caching : bool
        The prefill worker reuses cached KV blocks of a shared prefix (whole blocks only; the last prompt token
        is always computed, as in vLLM).
    block_size : int
        Tokens per KV block (prefix-cache granularity and the router's block costs).
    prefix_cache_blocks : int or None
        Capacity of a prefill worker's prefix cache in blocks (LRU over templates); ``None`` = unbounded (the
        KV budget of a B200 worker, tens of thousands of blocks, dwarfs the paper's 5 templates).

    Raises
    ------
    InvalidInputError
        A limit that is not an integer >= 1 (zero or negative slots, a batch limit below one request).

    References
    ----------
    vLLM ``EngineArgs`` / ``SchedulerConfig`` (module docstring).
    """

    max_num_seqs: int = 1024
    max_num_batched_tokens: int = 8192
    max_prefill_seqs: int | None = None
    chunked_prefill: bool = True
    prefix_caching: bool = True
    block_size: int = 16
    prefix_cache_blocks: int | None = None

    def __post_init__(self):
        _positive_int(self.max_num_seqs, "EngineConfig.max_num_seqs (decode slots per worker)")
        _positive_int(self.max_num_batched_tokens, "EngineConfig.max_num_batched_tokens", maximum=10**12)
        _positive_int(self.max_prefill_seqs, "EngineConfig.max_prefill_seqs (requests per prefill step)",
                      allow_none=True)
        _positive_int(self.block_size, "EngineConfig.block_size")
        _positive_int(self.prefix_cache_blocks, "EngineConfig.prefix_cache_blocks", allow_none=True)
        for name in ("chunked_prefill", "prefix_caching"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise InvalidInputError(f"EngineConfig.{name} must be True or False, got {getattr(self, name)!r}")

    @property
    def prefill_seqs(self) -> int:
        """Requests one prefill step may hold (``max_prefill_seqs``, else ``max_num_seqs``)."""
        return self.max_num_seqs if self.max_prefill_seqs is None else self.max_prefill_seqs

    def prefill_batch(self, uncached_tokens: float) -> float:
        """Requests of ``uncached_tokens`` new tokens each in one full prefill step.

        Parameters
        ----------
        uncached_tokens : float
            New (not prefix-cached) tokens per request, >= 1.

        Returns
        -------
        float
            ``min(prefill_seqs, budget / tokens)`` with chunked prefill (a step fills its token budget exactly;
            the last request continues in the next step), ``min(prefill_seqs, floor(budget / tokens))``
            otherwise; at least 1.

        Raises
        ------
        InvalidInputError
            ``uncached_tokens`` below 1 or not finite.
        """
        u = float(uncached_tokens)
        if not (math.isfinite(u) and u >= 1):
            raise InvalidInputError(f"uncached_tokens must be a finite number >= 1, got {uncached_tokens!r}")
        fit = self.max_num_batched_tokens / u
        if not self.chunked_prefill:
            fit = math.floor(fit)
        return max(1.0, min(float(self.prefill_seqs), fit))

    def uncached_tokens(self, input_tokens: float, prefix_tokens: float) -> float:
        """New tokens a prefill computes for a prompt whose first ``prefix_tokens`` are cached.

        Parameters
        ----------
        input_tokens : float
            Prompt length (tokens).
        prefix_tokens : float
            Tokens of the prompt held in the prefix cache.

        Returns
        -------
        float
            ``input_tokens`` minus the cached whole blocks (at least the last token is computed, as in vLLM); all
            of them without prefix caching.
        """
        n = float(input_tokens)
        if not self.prefix_caching:
            return n
        cached = math.floor(float(prefix_tokens) / self.block_size) * self.block_size
        return n - min(cached, n - 1.0)


#: vLLM v0.14.1 defaults on a B200 under the OpenAI-server usage context (module docstring)
VLLM_DEFAULTS = EngineConfig()


#: the paper's setups (:data:`gametheory.paper_setup.SETUPS`) by name
PAPER_SETUPS = paper_setup.SETUPS
#: the largest prefill step the timing table holds (tokens); larger steps are computed from the curve
_TABLE_MAX_TOKENS = 65536
_LABELS = {"340b_1p2d": "340B TP8 1P/2D", "70b_1p2d": "70B TP4 1P/2D", "70b_1p5d": "70B TP4 1P/5D"}


@dataclass(frozen=True)
class Cluster:
    """A measured profile, an nP/mD layout, a KV link and an engine configuration.

    Parameters
    ----------
    profile : Profile
        Step latencies of one worker (:func:`gametheory.serving.profiles.load_profile`).
    n_prefill, n_decode : int
        Prefill and decode workers (>= 1 each).
    link_gb_per_s : float
        KV-transfer bandwidth from a prefill to a decode worker (GB/s, > 0), or 0 for no transfer time.
    engine : EngineConfig
        Scheduler limits of every worker.
    name : str
        A label for tables.

    Raises
    ------
    InvalidInputError
        Worker counts below 1, a negative or non-finite bandwidth, an engine that is not an EngineConfig.

    References
    ----------
    Module docstring.
    """

    profile: object
    n_prefill: int = 1
    n_decode: int = 2
    link_gb_per_s: float = paper_setup.NVLINK_GB_PER_S
    engine: EngineConfig = field(default_factory=EngineConfig)
    name: str = ""

    def __post_init__(self):
        _positive_int(self.n_prefill, "Cluster.n_prefill", maximum=10_000)
        _positive_int(self.n_decode, "Cluster.n_decode", maximum=10_000)
        bw = self.link_gb_per_s
        if isinstance(bw, bool) or not isinstance(bw, (int, float, np.floating)) or not math.isfinite(bw) or bw < 0:
            raise InvalidInputError(f"Cluster.link_gb_per_s must be a finite number >= 0 (0 = no KV transfer "
                                    f"time), got {bw!r}")
        if not isinstance(self.engine, EngineConfig):
            raise InvalidInputError(f"Cluster.engine must be an EngineConfig, got {type(self.engine).__name__}")
        for attr in ("prefill_ms", "decode_step_ms", "kv_transfer_ms"):
            if not callable(getattr(self.profile, attr, None)):
                raise InvalidInputError(f"Cluster.profile must be a Profile (load_profile); it lacks {attr}()")

    def with_engine(self, **changes) -> Cluster:
        """This cluster with some engine fields changed.

        Parameters
        ----------
        **changes
            :class:`EngineConfig` fields and their new values.

        Returns
        -------
        Cluster
        """
        return replace(self, engine=replace(self.engine, **changes))

    def with_layout(self, n_prefill: int, n_decode: int) -> Cluster:
        """This cluster with another nP/mD layout (same profile, link and engine).

        Parameters
        ----------
        n_prefill, n_decode : int
            Prefill and decode workers (>= 1 each).

        Returns
        -------
        Cluster
        """
        return replace(self, n_prefill=n_prefill, n_decode=n_decode,
                       name=f"{self.name.rsplit(' ', 1)[0]} {n_prefill}P/{n_decode}D" if self.name else "")

    # ---- timing --------------------------------------------------------------------------------------
    @cached_property
    def prefill_table(self) -> np.ndarray:
        """Prefill step time (ms) for 0 .. max(min(max_num_batched_tokens, 65536), 16384) tokens in the step
        (index = tokens; entry 0 is 0): the profile's fitted prefill curve, tabulated once (larger steps are
        computed from the curve when asked, so a huge token budget costs no memory)."""
        top = max(min(self.engine.max_num_batched_tokens, _TABLE_MAX_TOKENS), 16384)
        tab = np.asarray(self.profile.prefill_ms(np.arange(top + 1, dtype=float)), float)
        tab[0] = 0.0
        return tab

    def prefill_ms(self, tokens: float) -> float:
        """Time of one prefill step.

        Parameters
        ----------
        tokens : float
            New tokens of the step (all its requests together).

        Returns
        -------
        float
            Milliseconds (0 for no tokens).
        """
        t = float(tokens)
        if t <= 0:
            return 0.0
        tab = self.prefill_table
        return float(tab[int(round(t))]) if t < tab.size - 1 else float(self.profile.prefill_ms(t))

    def decode_slots(self, context: float) -> int:
        """Decode batch limit of one worker at a mean context.

        Parameters
        ----------
        context : float
            Mean KV length of a decoding request (tokens).

        Returns
        -------
        int
            ``max_num_seqs``, or fewer when the KV budget of the profile holds fewer sequences of that length.
        """
        limit = self.engine.max_num_seqs
        if hasattr(self.profile, "max_decode_batch"):
            limit = min(limit, int(self.profile.max_decode_batch(context)))
        return max(limit, 1)

    def step_table(self, context: float) -> np.ndarray:
        """Decode step times of one worker against its batch.

        Parameters
        ----------
        context : float
            Mean KV length of a decoding request (tokens).

        Returns
        -------
        ndarray
            Step time (ms) at batch 0 .. ``decode_slots(context)`` (entry 0 is 0).
        """
        slots = self.decode_slots(context)
        steps = np.asarray(self.profile.decode_step_ms(np.arange(1, slots + 1, dtype=float), context), float)
        return np.concatenate([[0.0], steps])

    def transfer_ms(self, input_tokens) -> np.ndarray | float:
        """KV-transfer time of a prompt's KV cache over the cluster's link.

        Parameters
        ----------
        input_tokens : float or array_like
            Prompt length(s) (tokens).

        Returns
        -------
        float or ndarray
            Milliseconds (0 when the link is 0).
        """
        if not self.link_gb_per_s:
            return np.zeros_like(np.asarray(input_tokens, float)) if np.ndim(input_tokens) else 0.0
        return self.profile.kv_transfer_ms(input_tokens, self.link_gb_per_s)


def paper_cluster(setup: str, engine: EngineConfig | None = None) -> Cluster:
    """The cluster of one of the paper's setups (:data:`PAPER_SETUPS`) with an engine configuration.

    Parameters
    ----------
    setup : str
        ``"340b_1p2d"``, ``"70b_1p2d"`` or ``"70b_1p5d"``.
    engine : EngineConfig, optional
        Default :data:`VLLM_DEFAULTS`.

    Returns
    -------
    Cluster

    Raises
    ------
    InvalidInputError
        An unknown setup name.
    """
    from gametheory.serving.profiles import load_profile

    setup = choice(setup, "setup", tuple(sorted(PAPER_SETUPS)))
    if engine is not None and not isinstance(engine, EngineConfig):
        raise InvalidInputError(f"engine must be an EngineConfig, got {type(engine).__name__}")
    s = PAPER_SETUPS[setup]
    return Cluster(load_profile(s.profile), s.n_prefill, s.n_decode, paper_setup.KV_LINK_GB_PER_S[setup],
                   engine or VLLM_DEFAULTS, _LABELS.get(setup, setup))
