"""What every command shares: the error boundary (each failure one ``error:`` line and exit
status 2, warnings ``warning:`` lines, Ctrl-C one line and status 130), progress output, the
checks of the options several commands have (threads, device, output paths), and the default
output folder.

Each command checks every option, path and file it will touch before it creates anything
(settings objects check themselves; their field names map to options: ``up_kernel_size`` →
``--up-kernel-size``). Thread counts are set by the commands and only there.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from tinyemo.engine.backend import cuda_module
from tinyemo.runs.folder import read_config
from tinyemo.util.notices import TinyemoWarning
from tinyemo.util.runtime import check_threads as _check_thread_count
from tinyemo.util.settings import SettingError

__all__ = ["run_command", "option_of", "Progress", "add_run_options", "check_model_run",
           "check_threads", "check_device",
           "check_out_path", "free_out"]

# Settings fields whose command-line option is not ``--<field-name>``.
_OPTION_OF = {"seeds": "--seed/--runs", "targets": "--target"}


def option_of(parser: argparse.ArgumentParser, field: str) -> str:
    """The option that sets ``field`` (an argparse dest or a settings field), or the field."""
    for action in parser._actions:
        if action.dest == field and action.option_strings:
            return max(action.option_strings, key=len)
    return _OPTION_OF.get(field, field)


def _os_error(exc: OSError) -> str:
    cause = exc.strerror or str(exc)
    return f"{exc.filename}: {cause}" if exc.filename else cause


def run_command(parser: argparse.ArgumentParser, run: Callable[[], int],
                interrupted: Callable[[], str] = lambda: "interrupted") -> int:
    """Run a command: its failures become one line each (never a traceback), its warnings
    ``warning:`` lines, Ctrl-C a line from ``interrupted`` and status 130."""
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, TinyemoWarning):
            print(f"warning: {message}", file=sys.stderr, flush=True)
        else:
            original(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", TinyemoWarning)
        warnings.showwarning = show
        try:
            return run()
        except KeyboardInterrupt:
            print(interrupted(), file=sys.stderr)
            return 130
        except SettingError as exc:
            print(f"error: {option_of(parser, exc.field)}: {exc.problem}", file=sys.stderr)
        except OSError as exc:
            print(f"error: {_os_error(exc)}", file=sys.stderr)
        except (ValueError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
        except MemoryError:
            print("error: out of memory", file=sys.stderr)
    return 2


class Progress:
    """Progress bars on stderr when it is a terminal (tqdm), nothing with --quiet or when it
    is not; notes (``say``) go to stdout unless --quiet."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.bars = not quiet and sys.stderr.isatty()

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, flush=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    def counter(self, desc: str, unit: str = "rec") -> Callable[[int, int], None] | None:
        """A ``progress(done, total)`` callback drawing one bar, or None."""
        if not self.bars:
            return None
        state: dict = {}

        def progress(done: int, total: int) -> None:
            if "bar" not in state:
                state["bar"] = tqdm(total=total, desc=desc, unit=unit, leave=False)
            bar = state["bar"]
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
        return progress

    def epochs(self):
        """A ``progress(items, desc)`` wrapper for a training epoch's recordings: no ETA (the
        first epoch includes compiling, and early stopping makes the epoch count unknown)."""
        if not self.bars:
            return None
        return lambda items, desc: tqdm(items, desc=desc, leave=False, unit="rec",
                                        bar_format="{desc}: {n_fmt}/{total_fmt} {unit} "
                                                   "[{elapsed}]")


def add_run_options(p, quiet: str = "no progress bar or notes") -> None:
    """``--device``, ``--threads`` and ``--quiet`` (its help ``quiet``): what every command
    that runs a model takes."""
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--threads", type=int)
    p.add_argument("--quiet", action="store_true", help=quiet)


def check_model_run(args) -> None:
    """The checks of :func:`add_run_options`' options and of ``--model`` (a folder tinyemo
    train or baseline wrote), before anything is created."""
    check_threads(args.threads)
    check_device(args.device)
    read_config(args.model)


def check_threads(threads: int | None) -> None:
    try:
        _check_thread_count(threads)
    except ValueError as exc:
        raise SettingError("threads", str(exc)) from None


def check_device(device: str) -> None:
    """``--device cuda`` needs a usable GPU: known before anything is created."""
    if device == "cuda":
        try:
            cuda_module()
        except RuntimeError as exc:
            raise SettingError("device", str(exc)) from None


def check_out_path(out: Path, option: str = "out") -> None:
    """A folder the command will write into: absent or a folder, never a file."""
    if out.exists() and not out.is_dir():
        raise SettingError(option, f"{out} exists and is not a folder")


def free_out(name: str) -> Path:
    """runs/<name>, or the first runs/<name>-N that is absent or an empty folder."""
    base = Path("runs") / name
    out, n = base, 1
    while out.exists() and (not out.is_dir() or any(out.iterdir())):
        n += 1
        out = base.with_name(f"{name}-{n}")
    return out
