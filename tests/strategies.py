"""Hypothesis strategies shared by the property tests."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: Finite entries on a scale where float64 rounding stays far below the tolerances.
values = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)
sizes = st.integers(2, 7)


@st.composite
def feature_arrays(draw, min_dims: int = 2, max_dims: int = 4) -> np.ndarray:
    """Arrays of 2 to 4 dimensions with 2 to 7 entries per axis."""
    shape = tuple(draw(st.lists(sizes, min_size=min_dims, max_size=max_dims)))
    return draw(hnp.arrays(np.float64, shape, elements=values))


@st.composite
def gradient_lists(draw, min_size: int = 1) -> list[np.ndarray]:
    """Lists of 1 to 4 gradient arrays of different shapes."""
    shapes = draw(st.lists(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
                           min_size=min_size, max_size=4))
    return [draw(hnp.arrays(np.float64, s, elements=values)) for s in shapes]


norm_types = st.sampled_from([1.0, 2.0, 3.0, float("inf")])
steps = st.integers(0, 10_000)
rates = st.floats(1e-6, 10.0)
