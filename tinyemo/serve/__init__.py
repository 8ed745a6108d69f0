"""Using a saved model: load a run folder (nets or baseline) and predict files, long files in
bounded memory (:mod:`.longform`), streams with the model's latency (:mod:`.streaming`,
:mod:`.stream_pipe`), speaker profiles, and evaluation on a labelled partition."""
