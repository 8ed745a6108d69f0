"""Which complete trial a sweep chooses (``--choose best`` or ``simplest-within-1se``) and how
much of that choice is luck: for the chosen trial, the runner-up and the defaults trial, the
dev CCC with its bootstrap interval over the dev recordings (:mod:`.luck`) and its seed spread,
and the paired differences, chosen − runner-up and chosen − defaults.

With ``--selection-folds`` the bootstrap resamples the held-out recordings of all folds pooled
(each train and dev recording once) and its statistic is the pooled held-out CCC; trials are
still ranked by their selection score (the mean over folds), and the one-standard-error rule
takes the standard error of the best trial's pooled bootstrap."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tinyemo.models.nets import build_model
from tinyemo.sweep.luck import DRAWS, PREDICTIONS, bootstrap, draws_of, simplest_within_1se
from tinyemo.sweep.objective import trial_configs

__all__ = ["pick", "luck_lines"]


def _weights(settings: dict, target: str, in_channels: int) -> int:
    model_cfg, _ = trial_configs(settings, target, in_channels)
    return build_model(model_cfg).num_parameters()


def pick(out: Path, target: str, complete: list, settings_of, config, in_channels: int,
         defaults: dict | None) -> tuple[object, dict]:
    """(the chosen trial, the luck entry of ``best.json``) among the ``complete`` trials of
    ``target``; ``settings_of(trial)`` gives a trial's settings, ``defaults`` is the outcome of
    the target's defaults trial."""
    ranked = sorted(complete, key=lambda t: (-t.value, t.number))
    folders = {t.number: out / "trials" / target / f"{t.number:04d}" for t in ranked}
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
             "chosen": _side(chosen.number, boots[chosen.number])}
    others = [t for t in ranked if t.number != chosen.number and t.number in boots]
    if others:
        entry["runner_up"] = _side(others[0].number, boots[others[0].number],
                                   boots[chosen.number])
    folder = out / "trials" / target / "defaults"
    if defaults and defaults.get("status") == "complete" and (folder / PREDICTIONS).exists():
        side = _side("defaults", bootstrap(folder, counts), boots[chosen.number])
        difference, low, _ = side["chosen_minus"]
        spread = max(entry["chosen"]["seed_std"], side["seed_std"])
        side["beaten"] = bool(low > 0 and difference > spread)
        entry["defaults"] = side
    return chosen, entry


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
        if "defaults" in luck:
            verdict = ("beats the defaults by more than the bootstrap interval and the seed "
                       "spread" if luck["defaults"]["beaten"] else
                       "does not beat the defaults by more than the bootstrap interval and the "
                       "seed spread: the difference may be luck")
            lines += ["", f"The chosen trial {verdict}."]
        lines.append("")
    return lines
