"""Run folders: the folder an experiment (N seeds × targets, :mod:`.experiment`) or a baseline
is written into, its layout (:mod:`.layout`) and ``config.json`` schema for both kinds
(:mod:`.schema`), prediction CSVs, the paper's results table, and a trained folder read back as
one predictor (:class:`.ensemble.Ensemble`)."""
