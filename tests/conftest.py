import os

from hypothesis import HealthCheck, settings

# JIT compilation makes first examples slow: no deadlines. CI runs the default profile.
settings.register_profile("default", deadline=None, max_examples=25,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=300,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("TINYEMO_HYPOTHESIS_PROFILE", "default"))
