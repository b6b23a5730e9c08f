import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.workload import Workload, paper_workload


def test_paper_workload_sample():
    w = paper_workload()
    s = w.sample(1000, np.random.default_rng(0))
    assert set(np.unique(s["template"])) == set(range(5))
    assert (s["input_tokens"] == 128).all() and (s["output_tokens"] == 128).all()


def test_user_workload_ranges_and_weights():
    w = Workload(n_templates=3, input_tokens=(64, 256), output_tokens=(10, 20), prefix_tokens=32,
                 weights=(1, 0, 0))
    s = w.sample(500, np.random.default_rng(1))
    assert (s["template"] == 0).all()
    assert s["input_tokens"].min() >= 64 and s["input_tokens"].max() <= 256


def test_bad_workload():
    with pytest.raises(InvalidInputError):
        Workload(n_templates=0)
    with pytest.raises(InvalidInputError):
        Workload(prefix_tokens=500)
