"""The settings beyond the paper's: each against an independent reference (PyTorch's init fans,
Adam/AdamW, gradient clipping and ReduceLROnPlateau; a PyTorch forward of the same down/up
net), and their validation messages."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tinyemo.engine import nn, optim
from tinyemo.models.config import ModelConfig
from tinyemo.models.context import receptive_field
from tinyemo.models.nets import build_model
from tinyemo.train.loop import TrainConfig
from tinyemo.util.settings import SettingError

torch = pytest.importorskip("torch")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")


# -- initialisation ------------------------------------------------------------------------
@pytest.mark.parametrize("layer", ["conv", "transposed"])
def test_xavier_uniform_uses_tensorflows_fans(layer):
    rng = np.random.default_rng(0)
    c_in, c_out, k = 24, 40, 5
    if layer == "conv":
        module = nn.Conv1d(c_in, c_out, k, rng=rng, dtype=np.float64, init="xavier")
    else:
        module = nn.ConvTranspose1d(c_in, c_out, k, stride=2, rng=rng, dtype=np.float64,
                                    init="xavier")
    w = module.weight.numpy()
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.from_numpy(w))
    bound = np.sqrt(6.0 / (fan_in + fan_out))          # glorot_uniform
    assert fan_in + fan_out == k * (c_in + c_out)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.03)


def test_he_is_still_the_default_and_the_weights_do_not_move():
    cfg = ModelConfig.for_arch("dilated", in_channels=6, width=4, depth=2)
    a, b = build_model(cfg, seed=3), build_model(cfg, seed=3)
    w = a.layers[0].weight.numpy()
    assert cfg.init == "he" and cfg.activation == "tanh"
    assert np.abs(w).max() <= np.sqrt(6.0 / (6 * 2))
    np.testing.assert_array_equal(w, b.layers[0].weight.numpy())
    xavier = build_model(ModelConfig.for_arch("dilated", in_channels=6, width=4, depth=2,
                                              init="xavier"), seed=3)
    assert np.abs(xavier.layers[0].weight.numpy()).max() <= np.sqrt(6.0 / (2 * (6 + 4)))


# -- architecture: a PyTorch forward of the same weights ----------------------------------
def _torch_downup(model, cfg: ModelConfig, x: np.ndarray) -> np.ndarray:
    """The down/up net written directly in PyTorch from our weights."""
    act = torch.tanh if cfg.activation == "tanh" else torch.relu
    params = {k: torch.from_numpy(v) for k, v in model.state_dict().items()}
    convs = sorted({k.rsplit(".", 1)[0] for k in params}, key=lambda s: int(s.split(".")[-1]))
    h = torch.from_numpy(x)[None]
    t = h.shape[-1]
    multiple = cfg.pool ** cfg.depth
    padded = -(-t // multiple) * multiple
    h = TF.pad(h, (0, padded - t))
    names = iter(convs)
    for _ in range(cfg.depth + 1):
        name = next(names)
        h = act(TF.conv1d(h, params[name + ".weight"], params[name + ".bias"], padding="same"))
        if _ < cfg.depth:
            h = TF.max_pool1d(h, cfg.pool)
    extra = cfg.up_kernel_size - cfg.pool
    for _ in range(cfg.depth):
        name = next(names)
        h = TF.conv_transpose1d(h, params[name + ".weight"], params[name + ".bias"],
                                stride=cfg.pool)
        h = act(h[..., extra // 2: h.shape[-1] - (extra - extra // 2)])
    name = next(names)
    h = TF.conv1d(h, params[name + ".weight"], params[name + ".bias"])
    return h[0, :, :t].numpy()


@pytest.mark.parametrize("overrides", [
    dict(activation="tanh", init="xavier", kernel_size=(4, 3, 1), pool=2, up_kernel_size=4),
    dict(kernel_size=(5, 2), pool=3, up_kernel_size=5),
    dict(activation="tanh", kernel_size=4, pool=4, up_kernel_size=4, depth=3, width=4),
])
def test_downup_settings_match_a_pytorch_forward(overrides):
    cfg = ModelConfig.for_arch("downup", in_channels=3, **{"width": 5, "depth": 2, **overrides})
    model = build_model(cfg, seed=2, dtype=np.float64)
    model.net.layers[-1].weight.data[:] = 0.3             # a non-zero output layer
    x = np.random.default_rng(1).standard_normal((3, 37))
    convs = [m for m in model.modules() if isinstance(m, nn.Conv1d)]
    assert [c.weight.shape[2] for c in convs[:-1]] == list(cfg.kernel_sizes(cfg.depth + 1))
    acts = [m for m in model.modules() if isinstance(m, (nn.ReLU, nn.Tanh))]
    assert len(acts) == 2 * cfg.depth + 1
    assert all(isinstance(a, nn.Tanh if cfg.activation == "tanh" else nn.ReLU) for a in acts)
    np.testing.assert_allclose(model(x).numpy(), _torch_downup(model, cfg, x), rtol=1e-10,
                               atol=1e-12)


def test_dilated_per_layer_kernels_activation_and_input_average():
    cfg = ModelConfig.for_arch("dilated", in_channels=3, width=4, depth=3, kernel_size=(2, 3, 4),
                               activation="tanh", input_average=0.2)
    model = build_model(cfg, seed=0, dtype=np.float64)
    assert cfg.average_frames == 5
    inner = model.model
    for layer in inner.layers:
        if isinstance(layer, nn.Conv1d):
            layer.bias.data[:] = 0.1
    inner.layers[-1].weight.data[:] = 0.2
    x = np.random.default_rng(4).standard_normal((3, 30))
    # reference: PyTorch's dilated 'same' convs with tanh behind the 5-frame moving average
    xs = torch.from_numpy(x)[None]
    counts = TF.avg_pool1d(TF.pad(torch.ones(1, 1, 30, dtype=torch.float64), (2, 2)), 5, 1)
    h = TF.avg_pool1d(TF.pad(xs, (2, 2)), 5, 1) / counts       # mean over the frames present
    for n, layer in enumerate(inner.layers[:-1:2]):
        h = torch.tanh(TF.conv1d(h, torch.from_numpy(layer.weight.numpy()),
                                 torch.from_numpy(layer.bias.numpy()), padding="same",
                                 dilation=2 ** n))
    last = inner.layers[-1]
    h = TF.conv1d(h, torch.from_numpy(last.weight.numpy()), torch.from_numpy(last.bias.numpy()))
    np.testing.assert_allclose(model(x).numpy(), h[0].numpy(), rtol=1e-10, atol=1e-12)
    plain = build_model(ModelConfig.for_arch("dilated", in_channels=3, width=4, depth=3,
                                             kernel_size=(2, 3, 4)))
    assert receptive_field(model) == receptive_field(plain) + 4 == 1 + 1 + 4 + 12 + 4


def test_widths_and_depths_down_to_four_channels_and_two_layers():
    for arch in ("dilated", "downup"):
        cfg = ModelConfig.for_arch(arch, in_channels=160, width=4, depth=2)
        model = build_model(cfg)
        assert model(np.zeros((160, 101), np.float32)).shape == (1, 101)


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize("arch, overrides, message", [
    ("downup", dict(up_kernel_size=2), r"up_kernel_size: must be >= 3, the up-sampling stride "
                                       r"\(pool\), got 2: .*no input reaches"),
    ("downup", dict(pool=4, kernel_size=3), None),
    ("dilated", dict(pool=2), r"pool: the dilated architecture does not use it"),
    ("dilated", dict(kernel_size=(2, 2)), r"kernel_size: a list needs .* got 2 for dilated"),
    ("downup", dict(kernel_size=(3, 3)), r"kernel_size: a list needs"),
    ("single", dict(kernel_size=(3,)), r"kernel_size: a list needs"),
    ("dilated", dict(kernel_size=(2, 0, 2, 2, 2, 2, 2, 2, 2, 2)), r"kernel_size: must be >= 1"),
    ("dilated", dict(activation="gelu"), r"activation: must be one of relu, tanh, got 'gelu'"),
    ("dilated", dict(init="orthogonal"), r"init: must be one of he, xavier"),
    ("dilated", dict(dropout=1.0), r"dropout: must be in \[0, 1\), got 1.0"),
    ("dilated", dict(dropout_mode="time"), r"dropout_mode: must be one of element, channel"),
    ("dilated", dict(input_average=-1.0), r"input_average: must be >= 0, got -1.0"),
    ("dilated", dict(input_average=float("nan")), r"input_average: must be a finite number"),
    ("dilated", dict(width=0), r"width: must be >= 1, got 0"),
    ("dilated", dict(depth=2.5), r"depth: must be an integer, got 2.5"),
    ("downup", dict(pool=0), r"pool: must be >= 1"),
    ("dilated", dict(dropuot=0.1), r"dropuot: not a model setting"),
])
def test_model_settings_are_validated_with_the_field_named(arch, overrides, message):
    if message is None:        # pool 4 with the default up-sampling width (= pool) is fine
        assert ModelConfig.for_arch(arch, **overrides).up_kernel_size == 4
        return
    with pytest.raises(SettingError, match=message) as info:
        ModelConfig.for_arch(arch, **overrides)
    assert info.value.field == message.split(":")[0]


@pytest.mark.parametrize("fields, message", [
    (dict(l2=-1.0), r"l2: must be >= 0, got -1.0"),
    (dict(decoupled_weight_decay=-0.1), r"decoupled_weight_decay: must be >= 0"),
    (dict(clip_grad_norm=-1.0), r"clip_grad_norm: must be >= 0"),
    (dict(lr=0.0), r"lr: must be > 0, got 0.0"),
    (dict(lr_schedule="cosine"), r"lr_schedule: must be one of constant, plateau"),
    (dict(lr_factor=1.0), r"lr_factor: must be in \(0, 1\), got 1.0"),
    (dict(lr_patience=-1), r"lr_patience: must be >= 0"),
    (dict(lr_schedule="plateau", min_lr=0.1), r"min_lr: must not exceed lr \(0.001\), got 0.1"),
    (dict(selection="last"), r"selection: must be one of patience, budget"),
    (dict(input_noise=float("inf")), r"input_noise: must be a finite number"),
    (dict(time_masks=-2), r"time_masks: must be >= 0"),
    (dict(time_mask_seconds=-1.0), r"time_mask_seconds: must be >= 0"),
    (dict(epochs=0), r"epochs: must be >= 1, got 0"),
    (dict(loss="mae"), r"loss: must be one of ccc, mse"),
])
def test_training_settings_are_validated_with_the_field_named(fields, message):
    with pytest.raises(SettingError, match=message) as info:
        TrainConfig(**fields)
    assert info.value.field == message.split(":")[0]


# -- optimisation --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["l2", "decoupled", "both"])
def test_l2_and_decoupled_weight_decay_match_pytorch(kind):
    rng = np.random.default_rng(5)
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(4)]
    l2 = 0.04 if kind in ("l2", "both") else 0.0
    decoupled = 0.1 if kind in ("decoupled", "both") else 0.0
    p = nn.Parameter(p0.copy())
    opt = optim.Adam([p], lr=0.05, weight_decay=l2, decoupled_weight_decay=decoupled)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    if kind == "l2":
        topt = torch.optim.Adam([tp], lr=0.05, weight_decay=l2)
    elif kind == "decoupled":
        topt = torch.optim.AdamW([tp], lr=0.05, weight_decay=decoupled)
    else:   # AdamW with the L2 term added to the gradient by hand
        topt = torch.optim.AdamW([tp], lr=0.05, weight_decay=decoupled)
    for g in grads:
        p.grad = g.copy()
        opt.step()
        with torch.no_grad():
            tp.grad = torch.tensor(g) + (l2 * tp if kind == "both" else 0)
        topt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert not np.allclose(p.numpy(), p0)


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_pytorch(max_norm):
    rng = np.random.default_rng(6)
    shapes = [(3, 2, 4), (3,), (1, 3, 1)]
    values = [rng.standard_normal(s) for s in shapes]
    grads = [rng.standard_normal(s) for s in shapes]
    ours = [nn.Parameter(v.copy()) for v in values]
    shared = grads[0].copy()
    for p, g in zip(ours, grads):
        p.grad = g.copy()
    ours[0].grad = shared
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for p, g in zip(theirs, grads):
        p.grad = torch.tensor(g)
    norm = optim.clip_grad_norm(ours, max_norm)
    tnorm = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    np.testing.assert_allclose(norm, float(tnorm), rtol=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(shared, grads[0])     # never scaled in place


def test_reduce_on_plateau_matches_pytorch():
    rng = np.random.default_rng(7)
    scores = np.round(np.cumsum(rng.standard_normal(60)) * 0.1, 1)   # ties and plateaus
    scores[10:20] = scores[9]
    for factor, patience, min_lr in ((0.5, 2, 0.0), (0.1, 0, 1e-4), (0.3, 4, 0.0)):
        param = torch.zeros(1, requires_grad=True)
        topt = torch.optim.SGD([param], lr=0.01)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            topt, mode="max", factor=factor, patience=patience, threshold=0.0, min_lr=min_lr)
        lr, bad, best = 0.01, 0, -np.inf
        ours, theirs = [], []
        for s in scores:
            improved = s > best
            best = max(best, s)
            lr, bad = optim.plateau_update(lr, bad, improved, factor, patience, min_lr)
            sched.step(s)
            ours.append(lr)
            theirs.append(topt.param_groups[0]["lr"])
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        assert len(set(ours)) > 1


def test_folders_saved_before_the_activation_setting_read_as_what_they_ran(tmp_path):
    """The default became tanh; a config.json without the key was written when the conv nets
    were ReLU nets (the single filter: tanh), so it reads as that, and explicit keys stay."""
    import json

    from tinyemo.runs.folder import read_config

    from tests.helpers.modelfolder import make_model_folder
    for arch, ran in (("dilated", "relu"), ("downup", "relu"), ("single", "tanh")):
        folder = make_model_folder(tmp_path / arch, arch, filter_length=16) if arch == "single" \
            else make_model_folder(tmp_path / arch, arch)
        config = json.loads((folder / "config.json").read_text())
        assert {m["activation"] for m in config["models"].values()} == {"tanh"}   # the new default
        for model in config["models"].values():
            del model["activation"]
        (folder / "config.json").write_text(json.dumps(config))
        assert {m["activation"] for m in read_config(folder)["models"].values()} == {ran}


def test_a_resume_compares_only_the_settings_the_architecture_uses(tmp_path):
    """A BLSTM saved while the conv nets' default activation was relu resumes under the tanh
    default (the BLSTM has no such setting); a conv net's activation still counts, and the
    BLSTM's own settings count for it but not for a conv net."""
    import pytest

    from tinyemo.runs.experiment import ExperimentConfig, check_resume, run_record
    path = tmp_path / "config.json"

    def saved_with(arch, **changes):
        new = run_record(ExperimentConfig(arch, ("arousal",), (0,)), 160, {"root": "synthetic"})
        saved = json.loads(json.dumps(new))
        saved["models"]["arousal"].update(changes)
        return saved, new

    check_resume(*saved_with("blstm", activation="relu"), path)
    check_resume(*saved_with("dilated", num_layers=3), path)
    with pytest.raises(ValueError, match=r"differs in models\.arousal\.activation\)"):
        check_resume(*saved_with("dilated", activation="relu"), path)
    with pytest.raises(ValueError, match=r"differs in models\.arousal\.num_layers\)"):
        check_resume(*saved_with("blstm", num_layers=3), path)


def test_a_checkpoint_identity_compares_only_the_settings_the_architecture_uses():
    from dataclasses import asdict

    from tinyemo.train.loop import TrainConfig, _same_identity
    for arch, ignored, used in (("blstm", "activation", "hidden_size"),
                                ("dilated", "hidden_size", "activation")):
        model = ModelConfig.for_arch(arch).to_dict()
        identity = {"model": model, "train": asdict(TrainConfig()), "target": "arousal",
                    "seed": 0}
        other = {"relu", "tanh"} - {model["activation"]}
        change = {"activation": other.pop(), "hidden_size": 99}
        assert _same_identity({**identity, "model": {**model, ignored: change[ignored]}}, identity)
        assert not _same_identity({**identity, "model": {**model, used: change[used]}}, identity)
        assert not _same_identity({**identity, "seed": 1}, identity)
        assert not _same_identity(None, identity)
