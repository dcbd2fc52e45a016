"""Every tolerance the checks use, in one place, each with its reason.

A correct answer written any reasonable way (loops, ``E[x**2] - E[x]**2``, einsum,
``np.linalg.norm``, ``standard_normal() * std``, numpy scalars for floats) must pass; each
catalogued mistake must fail by a wide margin.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Closeness:
    """``|got - expected| <= atol + rtol * |expected|``, element by element."""

    rtol: float
    atol: float
    why: str


#: Deterministic values (norms, gradients, schedules, fans, gains).
#: rtol 1e-5: float64 rounding differences between equivalent formulas are ~1e-15 relative,
#: and ~1e-12 for ``E[x**2] - E[x]**2`` on the checks' inputs (|mean| <= 5 * std), so this
#: leaves six orders of margin; clipping without PyTorch's ``+ 1e-6`` guard differs by
#: 1e-6 / total_norm <= 1e-5 for the norms the checks use (>= 0.5). The closest catalogued
#: mistake, ``std + eps`` instead of ``sqrt(var + eps)``, differs by 5e-6 relative on
#: unit-variance data, so the checks also use small-variance inputs, where it differs by ~5%.
#: atol 1e-8: outputs near zero (a constant input normalizes to ~1e-13, not exactly 0).
VALUE = Closeness(rtol=1e-5, atol=1e-8, why="float64 rounding of equivalent formulas")

#: Orthogonality, ``W @ W.T == gain**2 * I``: a QR factorization in float64 is orthogonal
#: to ~1e-15 per entry; 1e-8 accepts any QR or SVD route and rejects a Gaussian matrix
#: (off-diagonal entries ~ 1/sqrt(cols)).
ORTHOGONAL = Closeness(rtol=0.0, atol=1e-8, why="float64 QR is orthogonal to ~1e-15")

#: Random initializations are judged by statistics of at least ``MIN_SAMPLES`` draws.
#: The sample std of n draws has a relative standard error of about 1 / sqrt(2 n)
#: (0.22% at n = 100,000), so a 2% band is 9 standard errors wide: a correct sampler fails
#: with odds far below one in a billion. Every catalogued mistake moves the std by 10% or more
#: on the checks' shapes (fans differ by a factor of 4; tanh 5/3 vs sqrt(2) is 15%).
MIN_SAMPLES = 100_000
STD_RELATIVE = 0.02

#: The sample mean must lie within this many standard errors (std / sqrt(n)) of 0.
MEAN_STANDARD_ERRORS = 6.0

#: Uniform draws: none may exceed the bound (beyond rounding, 1e-12 relative), and with
#: n >= 100,000 the largest |w| comes within 0.1% of it (the chance that it does not is
#: (0.999) ** n < 1e-43), so a bound that is too small is caught too.
BOUND_ROUNDING = 1e-12
BOUND_REACH = 0.999

#: Normal draws: the share of |w| beyond 2 std is 4.55% for a normal (a uniform with the
#: same std has none). Its standard error at n = 100,000 is 0.066%, so [3.5%, 5.6%] is
#: more than 15 standard errors wide and still excludes a uniform or a truncated normal.
NORMAL_TAIL_RANGE = (0.035, 0.056)
