"""The paper's setups and workload constants, in one place.

Source: A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081 (2026), sections 6-8.
Every constant here is either stated by the paper or, where the paper is silent, our assumption, marked as
such. The bottom layer of the package: plain numbers and names, importing nothing from the package.

Cluster (section 7): 3 nodes of 8 NVIDIA B200 GPUs, InfiniBand between nodes. Deployments: Nemotron-4-340B
at TP8 (one worker per node) as 1P/2D; Llama-3.1-70B at TP4 as 1P/2D and 1P/5D; FP8 weights.

Workload (section 7): homogeneous and prefix-sharing, 5 prompt templates, 128 input tokens, deterministic
generation, closed-loop concurrency C. Not stated by the paper, and our assumptions:

- the shared prefix of a template, :data:`SHARED_PREFIX_TOKENS` = 96 tokens (6 of the 8 KV blocks of 16
  tokens; the remaining 2 blocks are the request's own). The paper gives no number. 96 is the value the
  toolkit's serving workload, its closed-loop model and the coupled system's default already shared; 112
  (7 of 8 blocks, the coupled section) and 64 (half the prompt, the Dynamo replay's ``shared_prefix_ratio``
  of 0.5, an example value and not Dynamo's default of 0) were single modules' choices. One value for all
  keeps the simulator, the replay, Game 1's pool costs and the coupled system comparable;
- the output length, :data:`OUTPUT_TOKENS` = 128 tokens.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026.
.. [2] NVIDIA Dynamo documentation, "Planner" (adjustment interval) and "KV Router" (block size 16).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BLOCK_TOKENS",
    "GPUS_PER_NODE",
    "INFINIBAND_GB_PER_S",
    "INPUT_TOKENS",
    "KV_LINK_GB_PER_S",
    "NODES",
    "NVLINK_GB_PER_S",
    "OUTPUT_TOKENS",
    "PAPER_KNEE",
    "PLANNER_INTERVAL_S",
    "PROFILE_340B",
    "PROFILE_70B",
    "ROUTER_TABLE",
    "SETUPS",
    "SHARED_PREFIX_TOKENS",
    "Setup",
    "TEMPLATES",
    "THETA_340B_S",
    "TOTAL_GPUS",
    "TP_340B",
    "TP_70B",
    "WORKERS_340B",
    "WORKERS_70B",
]

# --------------------------------------------------------------------------------------------- cluster
#: nodes of the paper's cluster and B200 GPUs per node (section 7)
NODES = 3
GPUS_PER_NODE = 8
#: the GPU budget the P/D split shares (Game 1)
TOTAL_GPUS = NODES * GPUS_PER_NODE

#: shipped measured profiles of the paper's two models (B200, FP8)
PROFILE_70B = "b200_llama31_70b_tp4_fp8_trtllm"
PROFILE_340B = "b200_nemotron4_340b_tp8_fp8_vllm"
#: tensor parallelism per worker, and the workers the cluster holds at that TP
TP_70B = 4
TP_340B = 8
WORKERS_70B = TOTAL_GPUS // TP_70B
WORKERS_340B = TOTAL_GPUS // TP_340B


@dataclass(frozen=True)
class Setup:
    """One of the paper's deployments.

    Parameters
    ----------
    name : str
        Short key, e.g. ``"70b_1p5d"``.
    profile : str
        Name of the shipped measured profile of its model.
    n_prefill, n_decode : int
        Prefill and decode workers.
    """

    name: str
    profile: str
    n_prefill: int
    n_decode: int


#: the paper's three deployments (section 7): one prefill worker each
SETUPS = {
    "340b_1p2d": Setup("340b_1p2d", PROFILE_340B, 1, 2),
    "70b_1p2d": Setup("70b_1p2d", PROFILE_70B, 1, 2),
    "70b_1p5d": Setup("70b_1p5d", PROFILE_70B, 1, 5),
}

#: KV-transfer bandwidth, GB/s: NVLink 5 inside a B200 node (one direction per GPU), one 400 Gb/s NDR
#: InfiniBand link across nodes (our assumption: the paper says InfiniBand, not how many links a transfer uses)
NVLINK_GB_PER_S = 900.0
INFINIBAND_GB_PER_S = 50.0
#: the KV link of each setup: the 340B TP8 workers fill a node each, so prefill-to-decode transfers cross
#: nodes; the 70B TP4 setups are taken as NVLink-connected (our assumption; transfer times are tens of
#: microseconds either way for 128-token prompts)
KV_LINK_GB_PER_S = {"340b_1p2d": INFINIBAND_GB_PER_S, "70b_1p2d": NVLINK_GB_PER_S, "70b_1p5d": NVLINK_GB_PER_S}

# --------------------------------------------------------------------------------------------- workload
#: prompt templates (request classes) of the paper's workload
TEMPLATES = 5
#: input tokens per request (paper)
INPUT_TOKENS = 128
#: tokens of a template shared by all its requests (our assumption, see the module docstring)
SHARED_PREFIX_TOKENS = 96
#: output tokens per request (our assumption: the paper does not state its output length)
OUTPUT_TOKENS = 128
#: tokens per KV block (Dynamo's and vLLM's default block size)
BLOCK_TOKENS = 16

# --------------------------------------------------------------------------------------------- results
#: the knee of the paper's experiments: C = 128 is the first grid point past it, 96 the last before it
PAPER_KNEE = (96, 128)
#: the Planner's adjustment interval in the paper's experiments, seconds (+-1 worker per interval)
PLANNER_INTERVAL_S = 30.0
#: router settings (tau, omega) per regime, the paper's Table 2: below saturation, transition, saturated
ROUTER_TABLE = ((0.0, 1.0), (0.7, 1.0), (0.8, 0.1))
#: the adaptive controller's TTFT P99 thresholds (theta1, theta2) for the 340B model, seconds
THETA_340B_S = (1.0, 10.0)
