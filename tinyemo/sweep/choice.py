"""Which complete trial a sweep chooses (``--choose best`` or ``simplest-within-1se``) and how
much of that choice is luck: for the chosen trial, the runner-up and the defaults trial, the
dev CCC with its bootstrap interval over the dev recordings (:mod:`.luck`) and its seed spread,
and the paired differences, chosen − runner-up and chosen − defaults.

With ``--selection-folds`` the bootstrap resamples the held-out recordings of all folds pooled
(each train and dev recording once) and its statistic is the pooled held-out CCC; trials are
still ranked by their selection score (the mean over folds), and the one-standard-error rule
takes the standard error of the best trial's pooled bootstrap."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyemo.models.nets import build_model
from tinyemo.runs.predictions import read_predictions
from tinyemo.sweep.luck import (DRAWS, PREDICTIONS, bootstrap, bootstrap_sums, draws_of,
                                recording_sums, simplest_within_1se)
from tinyemo.sweep.objective import DEFAULTS, trial_configs

__all__ = ["pick", "candidates", "trial_folder", "trial_name", "trial_label", "DefaultsTrial", "luck_lines",
           "against_defaults", "against_defaults_lines"]


def _weights(settings: dict, target: str, in_channels: int) -> int:
    model_cfg, _ = trial_configs(settings, target, in_channels)
    return build_model(model_cfg).num_parameters()


@dataclass(frozen=True)
class DefaultsTrial:
    """The defaults trial as a candidate of the choice, beside Optuna's complete trials (the
    same ``number``, ``value`` and ``user_attrs``): a search that finds nothing better on dev
    than the defaults chooses the defaults."""

    outcome: dict
    number: int = DEFAULTS

    @property
    def value(self) -> float:
        return self.outcome["dev_ccc_mean"]

    @property
    def user_attrs(self) -> dict:
        return self.outcome


def candidates(complete: list, defaults: dict | None) -> list:
    """The complete trials, and the defaults trial when it completed."""
    if defaults and defaults.get("status") == "complete":
        return list(complete) + [DefaultsTrial(defaults)]
    return list(complete)


def trial_folder(out: Path, target: str, number: int) -> Path:
    """``OUT/trials/<target>/<nnnn>``, or ``…/defaults`` for the defaults trial."""
    return out / "trials" / target / ("defaults" if number == DEFAULTS else f"{number:04d}")


def pick(out: Path, target: str, complete: list, settings_of, config, in_channels: int,
         defaults: dict | None) -> tuple[object, dict]:
    """(the chosen trial, the luck entry of ``best.json``) among the ``complete`` trials of
    ``target`` and its defaults trial (``defaults``: its outcome), which competes like any
    other; ``settings_of(trial)`` gives a trial's settings."""
    ranked = sorted(candidates(complete, defaults), key=lambda t: (-t.value, t.number))
    folders = {t.number: trial_folder(out, target, t.number) for t in ranked}
    folders = {n: f for n, f in folders.items() if (f / PREDICTIONS).exists()}
    if ranked[0].number not in folders:           # a sweep saved before predictions were kept
        return ranked[0], {}
    with np.load(folders[ranked[0].number] / PREDICTIONS) as f:
        recordings = int(f["lengths"].size)
    counts = draws_of(recordings, config.seed)
    boots = {n: bootstrap(f, counts) for n, f in folders.items()}
    chosen = ranked[0]
    if config.choose == "simplest-within-1se":
        scored = [(t, t.value, _weights(settings_of(t), target, in_channels))
                  for t in ranked if t.number in boots]
        chosen = simplest_within_1se(scored, boots[ranked[0].number].se)
    entry = {"draws": DRAWS, "recordings": recordings, "folds": config.selection_folds,
             "rule": config.choose,
             "best_se": boots[ranked[0].number].se,
             "chosen": _side(trial_name(chosen.number), boots[chosen.number])}
    others = [t for t in ranked if t.number != chosen.number and t.number in boots]
    if others:
        entry["runner_up"] = _side(trial_name(others[0].number), boots[others[0].number],
                                   boots[chosen.number])
    if chosen.number != DEFAULTS and DEFAULTS in boots:
        side = _side("defaults", boots[DEFAULTS], boots[chosen.number])
        difference, low, _ = side["chosen_minus"]
        spread = max(entry["chosen"]["seed_std"], side["seed_std"])
        side["beaten"] = bool(low > 0 and difference > spread)
        entry["defaults"] = side
    return chosen, entry


def against_defaults(chosen: Path, defaults: Path, target: str, seed: int) -> dict:
    """The chosen settings' final ensemble against the defaults' on test, from the prediction
    files both final runs wrote when they scored test (once, after training): each one's test
    CCC (of those files) with its 95 % bootstrap interval over the test recordings, and the paired
    difference, chosen − defaults, with its interval (``DRAWS`` draws, the same for both)."""
    sums = {}
    for name, folder in (("chosen", chosen), ("defaults", defaults)):
        files = read_predictions(folder, "test")
        sums[name] = (list(files), recording_sums([(f[target], f[f"{target}_gold"])
                                                    for f in files.values()]))
    if sums["chosen"][0] != sums["defaults"][0]:
        raise ValueError(f"{chosen} and {defaults} predicted different test recordings")
    counts = draws_of(len(sums["chosen"][0]), seed)
    boots = {k: bootstrap_sums(v[1][None], counts) for k, v in sums.items()}
    difference, low, high = boots["chosen"].minus(boots["defaults"])
    return {"recordings": len(sums["chosen"][0]), "draws": DRAWS,
            **{k: {"folder": str(f), "test_ccc": boots[k].value,
                   "interval": list(boots[k].interval)}
               for k, f in (("chosen", chosen), ("defaults", defaults))},
            "chosen_minus": [difference, low, high], "beaten": bool(low > 0)}


def against_defaults_lines(summary: dict) -> list[str]:
    """results.md's section on the chosen settings against the defaults on test."""
    rows = [(t, e["final"]["against_defaults"]) for t, e in summary.items()
            if "against_defaults" in e.get("final", {})]
    if not rows:
        return []
    n, draws = rows[0][1]["recordings"], rows[0][1]["draws"]
    lines = ["", "## The chosen settings against the defaults, on test", "",
             f"Both trained with the same seeds (`--final-defaults`); test scored once, after "
             f"the choice; 95 % intervals from {draws} bootstrap draws of the {n} test "
             f"recordings, paired for the difference.", "",
             "| target | chosen: test CCC (95 %) | defaults: test CCC (95 %) | chosen − defaults "
             "(95 %) | verdict |", "|---|---|---|---|---|"]
    for target, a in rows:
        cells = [f"{a[k]['test_ccc']:.3f} ({a[k]['interval'][0]:.3f} … {a[k]['interval'][1]:.3f})"
                 for k in ("chosen", "defaults")]
        d, low, high = a["chosen_minus"]
        verdict = ("beats the defaults" if a["beaten"] else
                   "worse than the defaults" if high < 0 else "not distinguishable from the defaults")
        lines.append(f"| {target} | {cells[0]} | {cells[1]} | {d:+.3f} ({low:+.3f} … {high:+.3f}) "
                     f"| {verdict} |")
    return lines


def trial_name(number: int) -> int | str:
    """A trial's name in best.json: its number, or "defaults"."""
    return "defaults" if number == DEFAULTS else number


def trial_label(name: int | str) -> str:
    """How reports and the console name a trial: "trial 7", "the defaults trial"."""
    return "the defaults trial" if name == "defaults" else f"trial {name}"


def _side(name, boot, chosen=None) -> dict:
    side = {"trial": name, "dev_ccc": boot.value, "interval": list(boot.interval),
            "se": boot.se, "seed_std": boot.seed_std}
    if chosen is not None:
        side["chosen_minus"] = list(chosen.minus(boot))
    return side


def luck_lines(summary: dict) -> list[str]:
    """results.md's section on luck, from ``best.json``'s entries."""
    lines = []
    for target, entry in summary.items():
        luck = entry.get("luck")
        if not luck:
            continue
        if not lines:
            scored = (f"Held-out CCC (each seed's predictions of the {luck['folds']} folds' "
                      f"held-out recordings pooled, CCC over them, mean over seeds)"
                      if luck.get("folds") else "Dev CCC (mean over seeds of each seed's best)")
            lines += ["", "## How much is luck", "",
                      f"{scored} with its 95 % bootstrap interval ({luck['draws']} draws of the "
                      f"{luck['recordings']} {'held-out' if luck.get('folds') else 'dev'} "
                      f"recordings, the same draws for every trial) and its seed spread (std "
                      f"over seeds); the differences are paired over the same draws.", ""]
        rule = ("the best dev CCC" if luck["rule"] == "best" else
                f"the fewest weights within one standard error ({luck['best_se']:.3f}) of the "
                f"best")
        lines += [f"**{target}** (chosen: {rule})", "",
                  f"| | trial | {'held-out' if luck.get('folds') else 'dev'} CCC | 95 % "
                  f"interval | seed spread | chosen minus it (95 %) |",
                  "|---|---|---|---|---|---|"]
        for role in ("chosen", "runner_up", "defaults"):
            side = luck.get(role)
            if side is None:
                continue
            low, high = side["interval"]
            diff = side.get("chosen_minus")
            diff_text = "" if diff is None else f"{diff[0]:+.3f} ({diff[1]:+.3f} … {diff[2]:+.3f})"
            lines.append(f"| {role.replace('_', '-')} | {side['trial']} | {side['dev_ccc']:.3f} | "
                         f"{low:.3f} … {high:.3f} | {side['seed_std']:.3f} | {diff_text} |")
        if luck["chosen"]["trial"] == "defaults":
            lines += ["", "The chosen settings are the defaults: no searched trial scored higher "
                          "(the defaults trial competes in the choice)."]
        elif "defaults" in luck:
            verdict = ("beats the defaults by more than the bootstrap interval and the seed "
                       "spread" if luck["defaults"]["beaten"] else
                       "does not beat the defaults by more than the bootstrap interval and the "
                       "seed spread: the difference may be luck")
            lines += ["", f"The chosen trial {verdict}."]
        lines.append("")
    return lines
