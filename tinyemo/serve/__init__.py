"""Using a saved model: load a run folder (nets or baseline; ``tinyemo.load``) and predict
signals and files as data (:mod:`.result`), many files and segments as one table
(:mod:`.collection`, :mod:`.segments`, on local processes or Dask: :mod:`.dask_files`), long
files in bounded memory (:mod:`.longform`), streams with the model's latency
(:mod:`.streaming`, :mod:`.stream_pipe`), speaker profiles, and evaluation on a labelled
partition."""
