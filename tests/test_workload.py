import math

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.paper_setup import SHARED_PREFIX_TOKENS
from gametheory.serving.workload import Workload, paper_workload


def test_paper_workload_sample():
    w = paper_workload(33)
    s = w.sample(1000, np.random.default_rng(0))
    assert set(np.unique(s["template"])) == set(range(5))
    assert (s["input_tokens"] == 128).all() and (s["output_tokens"] == 33).all()
    assert w.prefix_tokens == SHARED_PREFIX_TOKENS and w.shared_prefix_ratio == SHARED_PREFIX_TOKENS / 128
    assert w.mean_context == 128 + 33 / 2


def test_user_workload_ranges_and_weights():
    w = Workload(n_templates=3, input_tokens=(64, 256), output_tokens=(10, 20), prefix_tokens=32,
                 weights=(1, 0, 0))
    s = w.sample(500, np.random.default_rng(1))
    assert (s["template"] == 0).all()
    assert s["input_tokens"].min() >= 64 and s["input_tokens"].max() <= 256


@pytest.mark.parametrize("kw, field", [
    (dict(n_templates=0), "n_templates"), (dict(prefix_tokens=500), "prefix_tokens"),
    (dict(output_tokens=(0, 3)), "output_tokens"), (dict(input_tokens=(5, 2)), "input_tokens"),
    (dict(think_ms=-1.0), "think_ms"), (dict(think_ms=math.nan), "think_ms"),
    (dict(arrival_rate_per_s=math.nan), "arrival_rate_per_s"), (dict(arrival_rate_per_s=-2.0), "arrival_rate_per_s"),
    (dict(arrival_rate_per_s=math.inf), "arrival_rate_per_s"), (dict(weights=(1, 2)), "weights"),
])
def test_bad_workload_names_the_field(kw, field):
    with pytest.raises(InvalidInputError, match=field):
        Workload(**kw)
