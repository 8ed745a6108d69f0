"""The lowest layer: what every other layer uses and that knows nothing of emotion
recognition. Self-checking settings (:mod:`.settings`), ``warning:`` notices, atomic file
writes, thread and process set-up, the compile notice, and the scores (CCC, RMSE, Pearson)."""
