"""One training run: :class:`.loop.TrainConfig`, the loop with early stopping on dev CCC,
checkpoints and resume (:mod:`.loop`), and training-time augmentation (:mod:`.augment`).
Many seeds and targets trained into a run folder are :mod:`tinyemo.runs`."""
