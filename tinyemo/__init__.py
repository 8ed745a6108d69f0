"""tinyemo: continuous speech emotion recognition (Khorram et al., Interspeech 2017) on a
NumPy/Numba engine with hand-written autograd.

``import tinyemo`` is light: it never imports ``numba.cuda``, and kernels compile (or load
from Numba's cache) on first use.
"""
from tinyemo.engine import functional  # noqa: E402
from tinyemo.engine.autograd import Tensor, no_grad
from tinyemo.engine.ops import arithmetic as _arithmetic  # noqa: F401  (installs Tensor operators)

__version__ = "0.1.0"
__all__ = ["load", "Tensor", "no_grad", "functional", "__version__"]


def load(folder, device: str = "cpu"):
    """The model saved in ``folder`` (``tinyemo train`` or ``tinyemo baseline``) as a
    :class:`tinyemo.serve.load.Model`: ``targets``, ``sample_rate``, ``frame_period``,
    ``latency``; ``predict(signal, sampling_rate)``, ``predict_file(path)``,
    ``process_files/process_folder/process_index(...)`` → a pandas table."""
    from tinyemo.serve.load import load_model  # the serve layer (baselines, runs, nets) loads when asked: import tinyemo stays light
    return load_model(folder, device)
