"""The sweep's space file: every form it accepts, what Optuna draws from it, and a clear error
naming the file, the key and what is allowed for everything else."""
from __future__ import annotations

import dataclasses
import json
import math
import typing

import optuna
import pytest

from tinyemo.models.config import ModelConfig
from tinyemo.sweep import space as space_mod
from tinyemo.sweep.objective import outcome_fields
from tinyemo.sweep.space import read_space, searchable_settings, split_settings
from tinyemo.train.loop import TrainConfig

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _read(tmp_path, text):
    path = tmp_path / "space.toml"
    path.write_text(text)
    return read_space(path)


def test_every_form_and_what_optuna_draws(tmp_path):
    space = _read(tmp_path, """
arch = "dilated"
depth = { value = 4 }
width = [8, 16, 32]
kernel_size = { choices = [2, 3] }
pool = { low = 2, high = 4 }
dilation_base = { low = 2, high = 6, step = 2 }
patience = { low = 2, high = 64, log = true }
lr = { low = 1e-4, high = 1e-2, log = true }
loss = ["ccc", "mse"]
""")
    kinds = {p.name: p.kind for p in space.params}
    assert kinds == {"arch": "fixed", "depth": "fixed", "width": "choice", "kernel_size": "choice",
                     "pool": "int", "dilation_base": "int", "patience": "int", "lr": "float",
                     "loss": "choice"}
    assert space.varying == ["width", "kernel_size", "pool", "dilation_base", "patience", "lr",
                             "loss"]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen = []
    for _ in range(40):
        s = space.suggest(study.ask())
        seen.append(s)
        assert s["arch"] == "dilated" and s["depth"] == 4
        assert s["width"] in (8, 16, 32) and s["kernel_size"] in (2, 3) and s["loss"] in ("ccc", "mse")
        assert isinstance(s["pool"], int) and 2 <= s["pool"] <= 4
        assert s["dilation_base"] in (2, 4, 6)
        assert isinstance(s["patience"], int) and 2 <= s["patience"] <= 64
        assert 1e-4 <= s["lr"] <= 1e-2
    # the log scale: about half the draws below the geometric middle 1e-3
    assert 10 <= sum(s["lr"] < 1e-3 for s in seen) <= 30
    arch, model, train = split_settings(seen[0])
    assert arch == "dilated" and set(model) == {"depth", "width", "kernel_size", "pool", "dilation_base"}
    assert set(train) == {"patience", "lr", "loss"}
    stepped = _read(tmp_path, "lr = { low = 0.0, high = 0.5, step = 0.1 }\n")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=2))
    for _ in range(10):
        lr = stepped.suggest(study.ask())["lr"]
        assert any(math.isclose(lr, v, abs_tol=1e-12) for v in (0, .1, .2, .3, .4, .5))


def test_grid_lists_every_point(tmp_path):
    space = _read(tmp_path, "width = [4, 8]\ndepth = { low = 2, high = 6, step = 2 }\n"
                            "lr = { low = 0.001, high = 0.003, step = 0.001 }\nepochs = 3\n")
    assert space.grid() == {"width": [4, 8], "depth": [2, 4, 6], "lr": [0.001, 0.002, 0.003]}
    bad = _read(tmp_path, "lr = { low = 1e-4, high = 1e-2, log = true }\n")
    with pytest.raises(ValueError, match=r"space.toml: lr: a grid search needs choices"):
        bad.grid()


def test_list_settings_take_lists_and_choices_of_lists(tmp_path, monkeypatch):
    """A list setting (per-layer kernel widths): choices of lists travel through Optuna as
    JSON text and come back as lists; for a setting that takes a number or a list, a flat list
    of numbers is a choice among them and ``{ value = [...] }`` fixes the list."""
    hints = dict(searchable_settings(), kernel_sizes=tuple[int, ...],
                 kernel_size=typing.Union[int, tuple[int, ...]])
    monkeypatch.setattr(space_mod, "searchable_settings", lambda: hints)
    space = _read(tmp_path, "kernel_sizes = [[3, 3], [5, 3]]\nkernel_size = [3, [3, 5]]\n"
                            "pool = [2, 3]\n")
    assert [(p.kind, p.as_list) for p in space.params] == [("choice", True), ("choice", True),
                                                          ("choice", False)]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn = [space.suggest(study.ask()) for _ in range(20)]
    assert {tuple(d["kernel_sizes"]) for d in drawn} == {(3, 3), (5, 3)}
    assert {json.dumps(d["kernel_size"]) for d in drawn} == {"3", "[3, 5]"}
    assert space.grid()["kernel_sizes"] == ["[3, 3]", "[5, 3]"]
    assert _read(tmp_path, "kernel_sizes = [3, 5, 7]\n").params[0].value == [3, 5, 7]
    assert _read(tmp_path, "kernel_size = { value = [3, 5] }\n").params[0].value == [3, 5]
    scalar = _read(tmp_path, "kernel_size = [3, 5]\n").params[0]
    assert scalar.kind == "choice" and scalar.choices == (3, 5) and not scalar.as_list
    with pytest.raises(ValueError, match=r"kernel_sizes: choice \[3, 'x'\] is not a"):
        _read(tmp_path, "kernel_sizes = [[3, 3], [3, 'x']]\n")


def test_a_new_config_field_is_searchable_without_touching_the_sweep(tmp_path, monkeypatch):
    """Keys come from dataclasses.fields at read time: a field added to TrainConfig is read,
    type-checked and routed to TrainConfig."""
    @dataclasses.dataclass(frozen=True)
    class Wider(TrainConfig):
        smoothing: float = 0.0
        schedule: str = "none"
    monkeypatch.setattr(space_mod, "TrainConfig", Wider)
    space = _read(tmp_path, "smoothing = { low = 0.0, high = 0.5 }\nschedule = ['none', 'plateau']\n")
    assert [p.kind for p in space.params] == ["float", "choice"]
    _, model, train = split_settings({"smoothing": 0.2, "schedule": "plateau", "width": 8})
    assert train == {"smoothing": 0.2, "schedule": "plateau"} and model == {"width": 8}
    with pytest.raises(ValueError, match=r"smoothing: value 'high' is not a float"):
        _read(tmp_path, "smoothing = 'high'\n")


def test_report_columns_never_shadow_a_setting():
    names = set(searchable_settings()) | {"arch"}
    assert not names & (set(outcome_fields()) | {"target", "trial", "status", "message"})
    for cls in (ModelConfig, TrainConfig):   # every field is searchable but these two
        assert {f.name for f in dataclasses.fields(cls)} - names <= {"in_channels", "device"}
    assert typing.get_type_hints(TrainConfig)["lr"] is float


@pytest.mark.parametrize("text, message", [
    ("colour = 3\n", r"space.toml: unknown setting 'colour'; allowed: .*\blr\b.*\bwidth\b"),
    ("in_channels = 40\n", r"space.toml: 'in_channels' cannot be searched \(it is set by the data\)"),
    ("device = 'cuda'\n", r"space.toml: 'device' cannot be searched \(use --device\)"),
    ("lr = { low = 1e-2, high = 1e-4 }\n", r"space.toml: lr: low \(0.01\) must be below high \(0.0001\)"),
    ("lr = { low = 0.0, high = 1e-2, log = true }\n", r"space.toml: lr: a log-scale range needs low > 0"),
    ("lr = { low = 1e-4, high = 1e-2, log = true, step = 1e-3 }\n", r"lr: a log-scale range takes no step"),
    ("lr = { low = 1e-4 }\n", r"space.toml: lr: a range is \{ low = \.\.\., high = \.\.\. \}"),
    ("lr = { low = 1e-4, high = 1e-2, scale = 'log' }\n", r"lr: unknown field\(s\) \['scale'\]"),
    ("lr = { low = 'a', high = 1e-2 }\n", r"lr: low, high and step must be numbers"),
    ("lr = { low = 1e-4, high = 1e-2, log = 'yes' }\n", r"lr: log must be true or false"),
    ("lr = { low = 1e-4, high = 1e-2, step = 0.0 }\n", r"lr: step must be positive"),
    ("lr = { low = 1e-4, high = inf }\n", r"lr: low, high and step must be finite"),
    ("width = { low = 4.0, high = 32 }\n", r"width: width is an integer setting: low, high and step must be integers"),
    ("loss = { low = 1, high = 2 }\n", r"loss: a range needs a numeric setting; loss is a str"),
    ("width = []\n", r"space.toml: width: the list of choices is empty"),
    ("width = [8, 'wide']\n", r"width: choice 'wide' is not a int"),
    ("width = [8, 8]\n", r"width: the choices repeat a value"),
    ("width = [[8], [16]]\n", r"width: choices must be numbers, strings or booleans"),
    ("width = 'wide'\n", r"space.toml: width: value 'wide' is not a int"),
    ("width = { value = 8, low = 2 }\n", r"width: 'value' fixes the setting; it takes no other fields"),
    ("width = { choices = [8], low = 2 }\n", r"width: 'choices' takes no other fields"),
    ("width = { choices = 8 }\n", r"width: choices must be a list"),
    ("lr = [\n", r"space.toml: not valid TOML"),
    ("", r"space.toml: the space is empty"),
])
def test_bad_space_files_name_the_file_key_and_what_is_allowed(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        _read(tmp_path, text)


def test_missing_space_file_and_folder(tmp_path):
    with pytest.raises(ValueError, match=r"nope.toml: no such space file"):
        read_space(tmp_path / "nope.toml")
    with pytest.raises(ValueError, match=r"is a folder, not a space file"):
        read_space(tmp_path)


def test_changes_name_what_differs(tmp_path):
    old = _read(tmp_path, "lr = { low = 1e-4, high = 1e-2, log = true }\nwidth = [4, 8]\ndepth = 2\n")
    new = _read(tmp_path, "lr = { low = 1e-3, high = 1e-2, log = true }\nwidth = [4, 8]\nepochs = 5\n")
    assert new.changes(old.to_dict()) == [
        'lr: {"low": 0.0001, "high": 0.01, "log": true} -> {"low": 0.001, "high": 0.01, "log": true}',
        "depth removed", "epochs added"]
    assert old.changes(old.to_dict()) == []


def test_importing_the_sweep_loads_no_optional_library():
    import subprocess
    import sys
    code = ("import sys, tinyemo, tinyemo.sweep, tinyemo.cli\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('optuna', 'distributed', 'dask', 'torch', 'tomli') or m == 'numba.cuda']\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_missing_extra_is_named(tmp_path, monkeypatch):
    import sys

    from tinyemo.sweep import SweepConfig, run_sweep
    from tinyemo.sweep.dask_executor import DaskExecutor
    space = _read(tmp_path, "lr = [1e-3, 1e-2]\n")
    monkeypatch.setitem(sys.modules, "optuna", None)
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ValueError, match=r"needs Optuna: pip install 'tinyemo\[sweep\]'"):
        run_sweep({}, SweepConfig(space), tmp_path / "out")
    with pytest.raises(ValueError, match=r"need dask.distributed: pip install 'tinyemo\[dask\]'"):
        DaskExecutor(local_workers=1)
    assert not (tmp_path / "out").exists()
