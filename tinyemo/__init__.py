"""tinyemo: continuous speech emotion recognition on a NumPy/Numba engine."""
