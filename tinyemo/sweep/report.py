"""What a sweep writes: ``trials.csv`` (every trial: settings, dev CCC mean/std/ensemble, best
epoch, wall time, status), ``trials.md`` (ranked per target), the chosen configuration
(``best.json``, ``best-<target>.toml``: a space file of fixed values that reruns it), the final
runs of the chosen settings, and ``results.md``."""
from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np

from tinyemo.runs.experiment import ExperimentConfig, train_experiment
from tinyemo.sweep.choice import (against_defaults, against_defaults_lines, luck_lines, pick,
                                  trial_label, trial_name)
from tinyemo.sweep.objective import DEFAULTS, outcome_fields
from tinyemo.sweep.space import split_settings
from tinyemo.train.loop import TrainConfig
from tinyemo.util.fileio import write_json, write_text

__all__ = ["write_trials", "trial_line", "choose", "final_epochs", "write_summary"]

STATUS = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
          "WAITING": "waiting"}
RANK = {"complete": 0, "pruned": 1, "running": 2, "waiting": 2, "interrupted": 2, "failed": 3}


def _settings(trial, space) -> dict:
    out = {}
    for p in space.params:
        if p.kind == "fixed":
            out[p.name] = p.value
        else:
            value = trial.params.get(p.name)
            out[p.name] = json.loads(value) if p.as_list and value is not None else value
    return out


def rows(studies: dict, space) -> list[dict]:
    """One dict per trial of every target, in trial order."""
    out = []
    for target, study in studies.items():
        for t in study.get_trials(deepcopy=False):
            status = STATUS.get(t.state.name, t.state.name)
            if status == "running" and t.user_attrs.get("retry"):
                status = "interrupted"          # by an OS error: --resume runs it again
            row = {"target": target, "trial": t.number, "status": status,
                   "message": t.user_attrs.get("message", "")}
            row["dev_ccc_mean"] = t.value if t.value is not None else t.user_attrs.get("dev_ccc_mean")
            for key in outcome_fields()[1:]:
                row[key] = t.user_attrs.get(key)
            row.update(_settings(t, space))
            out.append(row)
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.8g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return ";".join(_cell(v) for v in value)
    return str(value)


def write_trials(out: Path, studies: dict, config) -> list[dict]:
    """``trials.csv`` and ``trials.md`` from the storage (rewritten whole after each trial)."""
    table = rows(studies, config.space)
    columns = ["target", "trial", "status"] + outcome_fields() + \
        [p.name for p in config.space.params] + ["message"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in table:
        writer.writerow([_cell(row.get(c)) for c in columns])
    write_text(out / "trials.csv", buf.getvalue())
    write_text(out / "trials.md", ranked_markdown(table, config))
    return table


def ranked_markdown(table: list[dict], config) -> str:
    """Per target, the trials best first (complete by mean dev CCC, then pruned, failed)."""
    varying = config.space.varying
    fixed = config.space.fixed()
    lines = [f"Fixed: {', '.join(f'{k} = {v}' for k, v in fixed.items()) or 'nothing'}; "
             f"{config.seeds_per_trial} seed(s) per trial; dev CCC mean ± std over seeds, "
             f"and of the seeds' ensemble.", ""]
    for target in config.targets:
        mine = [r for r in table if r["target"] == target]
        mine.sort(key=lambda r: (RANK.get(r["status"], 4), -math.inf if r["dev_ccc_mean"] is None
                                 else -r["dev_ccc_mean"]))
        lines += [f"**{target}**", "",
                  "| rank | trial | dev CCC | ensemble | best epoch | status | "
                  + " | ".join(varying) + " |",
                  "|---" * (6 + len(varying)) + "|"]
        for i, r in enumerate(mine, 1):
            mean, std = r["dev_ccc_mean"], r["dev_ccc_std"]
            ccc = "" if mean is None else f"{mean:.3f}" + ("" if std is None else f" ± {std:.3f}")
            ens = "" if r["dev_ccc_ensemble"] is None else f"{r['dev_ccc_ensemble']:.3f}"
            epochs = "" if not r["best_epochs"] else _cell(r["best_epochs"])
            status = r["status"] + (f": {r['message']}" if r["status"] == "failed" else "")
            lines.append(f"| {i} | {r['trial']} | {ccc} | {ens} | {epochs} | {status} | "
                         + " | ".join(_cell(r.get(k)) for k in varying) + " |")
        lines.append("")
    return "\n".join(lines)


def trial_line(task, outcome: dict, space) -> str:
    """One line per finished trial for the console."""
    what = ", ".join(f"{k}={_cell(task.settings[k])}" for k in space.varying
                     if k in task.settings) or "fixed settings"
    head = f"{task.target} trial {task.number}: {outcome['status']}"
    if task.number < 0:
        head, what = f"{task.target} defaults trial: {outcome['status']}", "the defaults"
    if outcome["status"] == "failed" and outcome.get("retry"):
        return f"{head} for an OS reason, retried by --resume ({outcome['message']})  {what}"
    if outcome["status"] == "failed":
        return f"{head} ({outcome.get('message', '')})  {what}"
    score = f"dev CCC {outcome['dev_ccc_mean']:.3f} ± {outcome['dev_ccc_std']:.3f}"
    if outcome.get("dev_ccc_ensemble") is not None:
        score += f" (ensemble {outcome['dev_ccc_ensemble']:.3f})"
    return f"{head}  {score}  {outcome.get('seconds', 0):.1f} s  {what}"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if value != value else
                                                         ("inf" if value > 0 else "-inf"))
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def choose(studies: dict, config, out: Path, examples: dict, data_info: dict | None, say,
           defaults: dict | None = None) -> dict:
    """The chosen complete trial per target (``config.choose``: the best, or the simplest
    within one standard error of it; how much is luck beside it, against the ``defaults``
    trials' outcomes), its settings written out and (``runs`` > 0) trained with ``runs`` seeds
    into ``OUT/final-<target>-trial<n>``, where test is scored once; with ``final_defaults``, the
    defaults trial's settings too, into ``OUT/final-<target>-defaults``, and the two compared on
    test."""
    from optuna.trial import TrialState
    summary: dict = {}
    for target, study in studies.items():
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            say(f"{target}: no trial completed (see {out / 'trials.csv'}); nothing to train")
            summary[target] = {"trial": None}
            continue
        in_channels = next(iter(examples.values())).x.shape[0]

        def settings_of(trial):
            return config.defaults() if trial.number == DEFAULTS else _settings(trial, config.space)
        best, luck = pick(out, target, complete, settings_of, config, in_channels,
                          (defaults or {}).get(target))
        settings, name = settings_of(best), trial_name(best.number)
        lines = [f"# the settings of {target} {trial_label(name)} (dev CCC {best.value:.4f}); a "
                 f"space file of fixed values"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in settings.items()]
        write_text(out / f"best-{target}.toml", "\n".join(lines) + "\n")
        entry = {"trial": name, "settings": settings, "dev_ccc_mean": best.value,
                 **{k: best.user_attrs.get(k) for k in ("dev_ccc_std", "dev_ccc_ensemble",
                                                         "dev_ccc_seeds", "best_epochs")}}
        if luck:
            entry["luck"] = luck
        if config.runs:
            entry["final"] = _train_final(examples, config, out, target, name, settings,
                                          data_info, say, entry["best_epochs"])
            if config.final_defaults and name != "defaults":
                entry["final"]["against_defaults"] = _final_defaults(
                    examples, config, out, target, data_info, say, (defaults or {}).get(target),
                    Path(entry["final"]["folder"]))
        summary[target] = entry
    write_json(out / "best.json", summary)
    return summary


def final_epochs(best_epochs: list[int]) -> int:
    """The epochs of a final run on train + dev: the median of the chosen trial's best epochs
    (one per fold and seed), halves rounded up."""
    return int(np.floor(np.median(best_epochs) + 0.5))


def _final_defaults(examples, config, out, target, data_info, say, outcome, chosen: Path) -> dict:
    """``--final-defaults``: the defaults trial's settings trained as the chosen ones were, then
    both final ensembles' test predictions compared (``choice.against_defaults``)."""
    epochs = (outcome or {}).get("best_epochs")
    if config.final_on == "train+dev" and not epochs:
        raise ValueError(f"{target}: the defaults trial did not complete, so no epoch count for "
                         f"its final runs on train + dev")
    final = _train_final(examples, config, out, target, "defaults", config.defaults(), data_info,
                         say, epochs)
    return {**against_defaults(chosen, Path(final["folder"]), target, config.seed),
            **{"defaults_" + k: final[k] for k in ("dev", "epochs") if k in final}}


def _train_final(examples, config, out, target, name, settings, data_info, say,
                 best_epochs) -> dict:
    """``settings`` (those of trial ``name``: a number or "defaults") trained with
    ``config.runs`` seeds on ``config.final_on`` into ``OUT/final-<target>-trial<n>`` (or
    ``…-defaults``); test is scored there, once."""
    arch, model, train = split_settings(settings)
    folder = out / f"final-{target}-{'defaults' if name == 'defaults' else f'trial{name}'}"
    seeds = tuple(range(config.seed, config.seed + config.runs))
    train = dict(_tuples(train), device=config.device)
    where = "train, stopping on dev"
    if config.final_on == "train+dev":
        train.update(selection="fixed", epochs=final_epochs(best_epochs))
        where = f"train + dev for {train['epochs']} epoch(s), the folds' median best epoch"
    say(f"{target}: training {trial_label(name)}'s settings with {config.runs} seed(s) on {where} "
        f"into {folder}")
    exp = ExperimentConfig(arch=arch, targets=(target,), seeds=seeds, train=TrainConfig(**train),
                           model=_tuples(model), train_on=config.final_on,
                           features=settings.get("features", "fbank"))
    results = train_experiment(examples, exp, folder, data_info=data_info, resume=True,
                               say=lambda s: None)
    res = results[target]
    return {"folder": str(folder), "trained_on": config.final_on,
            **({"epochs": train["epochs"]} if config.final_on == "train+dev" else {}),
            **{p: res[p] for p in ("dev", "test") if p in res},
            "runs_dev_ccc": [r["dev"]["ccc"] for r in res["runs"] if "dev" in r]}


def _tuples(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def read_compared(folders) -> list[tuple[str, dict]]:
    """(name, results.json) of each run folder given to ``--compare`` (a ``tinyemo train`` or
    ``tinyemo baseline`` output: both write ``{target: {partition: {ccc, rmse, …}}}``). A folder
    without readable results is a ValueError naming it."""
    compared = []
    for folder in map(Path, folders):
        path = folder / "results.json"
        try:
            results = json.loads(path.read_text())
            if not isinstance(results, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else str(exc)
            raise ValueError(f"--compare {folder}: cannot read {path} ({reason}); give folders "
                             f"written by tinyemo train or tinyemo baseline") from None
        compared.append((folder.name, results))
    return compared


def _compared_lines(compared, targets) -> list[str]:
    lines = ["", "Compared run folders (`--compare`: their own results.json, trained apart from "
             "this sweep):", "", "| target | run | dev CCC | test CCC |", "|---|---|---|---|"]
    for target in targets:
        for name, results in compared:
            scores = results.get(target) or {}
            if isinstance(scores, dict) and scores:
                lines.append(f"| {target} | {name} | {_fmt(scores.get('dev', {}).get('ccc'))} "
                             f"| {_fmt(scores.get('test', {}).get('ccc'))} |")
    return lines


def write_summary(out: Path, config, studies: dict, summary: dict, seconds: float,
                  compared=()) -> None:
    """``results.md``: the space, the trials, and per target the chosen settings and scores,
    then the ``compared`` run folders' scores (``read_compared``) beside them."""
    table = rows(studies, config.space)
    counts = {s: sum(r["status"] == s for r in table) for s in ("complete", "pruned", "failed")}
    lines = ["# Sweep results", "",
             f"Sampler {config.sampler}, pruner {config.pruner}, {config.budget()} trial(s) per "
             f"target of {config.seeds_per_trial} seed(s); {counts['complete']} complete, "
             f"{counts['pruned']} pruned, {counts['failed']} failed; "
             + (f"selection on {config.selection_folds} speaker-disjoint folds of train + dev "
                f"(folds.json; each trial's dev CCC: the mean over folds of the held-out one)"
                if config.selection_folds else "selection on dev") + (
                 "; final runs on train + dev for the folds' median best epoch (dev is not held "
                 "out)" if config.final_on == "train+dev" else "") + ". Search time (this run): "
             f"{seconds:.0f} s; trials' own wall time, summed: "
             f"{sum(r['seconds'] or 0 for r in table):.0f} s.", "", "Space:", "", "```toml"]
    lines += [f"{p.name} = {json.dumps(p.to_dict()['value'] if p.kind == 'fixed' else p.to_dict())}"
              for p in config.space.params]
    lines += ["```", "", "| target | trial | dev CCC (mean ± std over seeds) | dev ensemble | "
              f"final dev CCC ({config.runs} seeds) | final test CCC | settings |",
              "|---|---|---|---|---|---|---|"]
    for target, entry in summary.items():
        if entry.get("trial") is None:
            lines.append(f"| {target} | none completed | | | | | |")
            continue
        final = entry.get("final", {})
        cells = [f"{entry['dev_ccc_mean']:.3f} ± {entry['dev_ccc_std'] or 0:.3f}",
                 _fmt(entry.get("dev_ccc_ensemble")),
                 "n/a (trained on)" if final.get("trained_on") == "train+dev"
                 else _fmt(final.get("dev", {}).get("ccc")),
                 _fmt(final.get("test", {}).get("ccc"))]
        what = ", ".join(f"{k}={_cell(v)}" for k, v in entry["settings"].items()
                         if k in config.space.varying)
        lines.append(f"| {target} | {entry['trial']} | " + " | ".join(cells) + f" | {what} |")
    lines += luck_lines(summary)
    lines += against_defaults_lines(summary)
    if compared:
        lines += _compared_lines(compared, summary)
    write_text(out / "results.md", "\n".join(lines) + "\n")


def _fmt(v) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"
