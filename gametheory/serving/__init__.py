"""The serving side of the toolkit: one engine model, one simulator, the closed-loop analytic model, the
paper's PoA-hat estimator, the adaptive controller and NVIDIA Dynamo's real router.

Import the modules themselves (``gametheory.serving.engine``, ``.simulator``, ``.queueing``, ``.estimator``,
``.calibration``, ``.experiments``, ``.controller``, ``.dynamo``, ...); this package exports nothing of its own.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026.
"""

__all__: list[str] = []
