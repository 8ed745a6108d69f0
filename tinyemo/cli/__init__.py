"""The command line: ``tinyemo COMMAND [options]`` (also ``python -m tinyemo``), one module per
command group over one shared boundary (:mod:`.boundary`) and one set of corpus options
(:mod:`.corpus`). Nothing in the library imports this package.

Each command checks every option, path and file it will touch before it creates anything, and
reports every failure as one ``error:`` line on stderr with exit status 2, warnings as
``warning:`` lines, and Ctrl-C as one line (status 130) saying how to continue.
"""
from __future__ import annotations

import importlib
import sys

from tinyemo import __version__

__all__ = ["main", "COMMANDS"]

# command → (module of tinyemo.cli, its entry function, one line for the usage). A command's
# module is imported when it runs, so ``tinyemo --help`` answers without loading the engine.
COMMANDS = {
    "train": ("train", "train_main", "train arousal/valence models on a corpus (default: the "
              "synthetic one) and print the paper's table"),
    "predict": ("predict", "predict_main", "write arousal and valence every 40 ms for audio "
                "files with a trained model"),
    "evaluate": ("predict", "evaluate_main", "score a trained model on a labelled corpus "
                 "partition (CCC, RMSE)"),
    "plot": ("plot", "plot_main", "plot prediction CSVs against the gold standard (the paper's "
             "Figure 5)"),
    "sweep": ("sweep", "sweep_main", "choose settings on the dev partition (Optuna), then "
              "train the best and score test"),
    "baseline": ("baseline", "baseline_main", "fit a literature baseline (AVEC 2016 eGeMAPS + "
                 "SVR, or windowed statistics + ridge) like a model"),
    "export": ("export", "export_main", "export a trained model (with its front end) to ONNX"),
    "profile": ("profile", "profile_main", "save a speaker profile for streaming prediction "
                "(predict --stream)"),
}


def command(name: str):
    """The entry function ``f(argv) -> exit status`` of the command ``name``."""
    module, function, _ = COMMANDS[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)


def _usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: tinyemo COMMAND [options]   (tinyemo COMMAND --help for its options)", "",
             f"tinyemo {__version__}: continuous speech emotion recognition (Khorram et al., "
             f"Interspeech 2017)", "", "commands:"]
    lines += [f"  {name:<{width}}  {summary}" for name, (_, _, summary) in COMMANDS.items()]
    lines += ["", "options:", "  -h, --help  this list", "  --version   the version"]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv and argv[0] == "--version":
        print(f"tinyemo {__version__}")
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(_usage(), file=sys.stderr)
        if argv:
            print(f"error: unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    return command(argv[0])(argv[1:])
