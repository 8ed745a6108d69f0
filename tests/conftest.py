import os

from hypothesis import HealthCheck, settings

# JIT compilation makes first examples slow: no deadlines.
# "ci" (the default, what `python -m pytest` and CI run): derandomised, so every run tries the
# same examples and a failure reproduces; no example database, so earlier runs do not change
# what is tried. "explore" and "thorough" draw fresh random examples each run (to hunt for
# bugs: TINYEMO_HYPOTHESIS_PROFILE=explore python -m pytest -q).
_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=25, derandomize=True, database=None, **_COMMON)
settings.register_profile("explore", max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=300, **_COMMON)
settings.load_profile(os.environ.get("TINYEMO_HYPOTHESIS_PROFILE", "ci"))
