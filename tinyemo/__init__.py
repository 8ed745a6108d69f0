"""tinyemo: continuous speech emotion recognition (Khorram et al., Interspeech 2017) on a
NumPy/Numba engine with hand-written autograd.

``import tinyemo`` is light: it never imports ``numba.cuda``, and kernels compile (or load
from Numba's cache) on first use.
"""
from tinyemo.engine import functional  # noqa: E402
from tinyemo.engine.autograd import Tensor, no_grad
from tinyemo.engine.ops import arithmetic as _arithmetic  # noqa: F401  (installs Tensor operators)

__version__ = "0.1.0"
__all__ = ["Tensor", "no_grad", "functional", "__version__"]
