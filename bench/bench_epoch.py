"""One training epoch and prediction throughput, tinyemo against the same architecture in
PyTorch, in the same process.

    python bench/bench_epoch.py            # full run → bench/results/epoch.json + table
    python bench/bench_epoch.py --quick    # smoke run (3 recordings, few repeats)
    python bench/bench_epoch.py --device cuda --threads 1   # on a GPU (numba-cuda; PyTorch CUDA as peer)
    python bench/bench_epoch.py --rows downup32 --width 2 --frames 24 --quick   # a subset, shrunk

An epoch is the paper's: 9 recordings × 7500 frames (5 minutes each), batch size 1, each
recording forward + backward (1 − CCC) + one Adam step (L2 weight decay), float32. Prediction
is the forward pass alone over the same 9 recordings, reported as frames per second. Models:
dilated (width 32, kernel 2, 10 layers), down/up width 32 and down/up width 128 (the paper's
arousal and valence nets), and the BLSTM reference model at its default size and with 64 units
per direction (bidirectional LSTM layers + a linear output per frame; PyTorch's peer is
``nn.LSTM`` of the same size and ``nn.Linear``). Both sides get the same input; timing interleaves them (see
``timing.time_interleaved``) so a shared machine's load hits both alike. On the CPU the best
OpenBLAS sgemm rate is measured before and after each row (``timing.sgemm_peak``): a 2-thread
row whose rate is one core's ran with the second core taken by something else.

The paper's speed claim is one epoch in ≈ 13 s for the conv nets and ≈ 10 min for a BLSTM, a
ratio of ≈ 46; the run reports tinyemo's BLSTM epoch over each conv epoch measured in it, at
the same thread count (``paper_ratio`` in the JSON). ``--rows blstm`` (or any subset of
dilated, downup32, downup128, blstm, blstm64) runs fewer models.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import (  # noqa: E402
    machine_info,
    sgemm_peak,
    threads,
    time_interleaved,
    try_import_torch,
    write_json_atomic,
)

import tinyemo  # noqa: E402
from tinyemo import Tensor  # noqa: E402
from tinyemo.engine import functional as F  # noqa: E402
from tinyemo.engine.optim import Adam  # noqa: E402
from tinyemo.models.config import ModelConfig
from tinyemo.models.nets import build_model  # noqa: E402
from tinyemo.util.runtime import keep_freed_memory  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "epoch.json")
_BLSTM = ModelConfig.for_arch("blstm")
ROWS = {"dilated": ("dilated, width 32, kernel 2", "dilated", 32),
        "downup32": ("down/up, width 32", "downup", 32),
        "downup128": ("down/up, width 128", "downup", 128),
        "blstm": (f"BLSTM, {_BLSTM.num_layers} × {_BLSTM.hidden_size} per direction", "blstm",
                  _BLSTM.hidden_size),
        "blstm64": (f"BLSTM, {_BLSTM.num_layers} × 64 per direction", "blstm", 64)}
PAPER_RATIO = 600.0 / 13.0  # 10 min / 13 s


def epoch_data(n, t, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((160, t), dtype=np.float32) for _ in range(n)]
    ys = [np.convolve(rng.standard_normal(t + 99), np.ones(100) / 10, "valid").astype(np.float32)
          for _ in range(n)]
    return xs, ys


def _sync(device):
    """Wait for queued GPU work, so a timing covers it (no-op on the CPU)."""
    if device == "cuda":
        from numba import cuda
        cuda.synchronize()


def tinyemo_epoch(cfg, xs, ys, device):
    model = build_model(cfg, seed=0).to(device)
    opt = Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    xt = [Tensor(x).to(device) for x in xs]
    yt = [Tensor(y).to(device) for y in ys]

    def epoch():
        for x, y in zip(xt, yt):
            opt.zero_grad()
            F.ccc_loss(model(x), y).backward()
            opt.step()
        _sync(device)

    def predict():
        with tinyemo.no_grad():
            for x in xt:
                model(x)
        _sync(device)
    return epoch, predict


class _TorchBLSTM:
    """nn.LSTM (bidirectional) + nn.Linear per frame, on (1, C, T) like tinyemo's BLSTM."""

    def __init__(self, torch, cfg):
        self.lstm = torch.nn.LSTM(cfg.in_channels, cfg.hidden_size, cfg.num_layers,
                                  bidirectional=True, batch_first=True)
        self.out = torch.nn.Linear(2 * cfg.hidden_size, 1)

    def to(self, device):
        self.lstm, self.out = self.lstm.to(device), self.out.to(device)
        return self

    def parameters(self):
        return list(self.lstm.parameters()) + list(self.out.parameters())

    def __call__(self, x):
        h, _ = self.lstm(x.transpose(1, 2))   # (1, T, 2H)
        return self.out(h).transpose(1, 2)    # (1, 1, T)


def torch_model(torch, cfg):
    nn = torch.nn
    w, k = cfg.width, cfg.kernel_size
    act = nn.Tanh if cfg.activation == "tanh" else nn.ReLU     # the same as tinyemo's model
    if cfg.arch == "blstm":
        return _TorchBLSTM(torch, cfg), 1
    if cfg.arch == "dilated":
        layers, c = [], cfg.in_channels
        for n in range(cfg.depth):
            layers += [nn.Conv1d(c, w, k, dilation=cfg.dilation_base ** n, padding="same"), act()]
            c = w
        return nn.Sequential(*layers, nn.Conv1d(w, 1, 1)), 1
    layers, c = [], cfg.in_channels
    for _ in range(cfg.depth):
        layers += [nn.Conv1d(c, w, k, padding="same"), act(), nn.MaxPool1d(cfg.pool)]
        c = w
    layers += [nn.Conv1d(w, w, k, padding="same"), act()]
    for _ in range(cfg.depth):
        layers += [nn.ConvTranspose1d(w, w, cfg.up_kernel_size, stride=cfg.pool), act()]
    return nn.Sequential(*layers, nn.Conv1d(w, 1, 1)), cfg.pool ** cfg.depth


def torch_epoch(torch, cfg, xs, ys, device, compiled=False):
    """PyTorch's epoch and prediction; ``compiled``: the forward and the loss through
    ``torch.compile`` (Inductor; its backward compiled with it), which compiles on the first
    call (timed apart by ``time_interleaved``)."""
    model, multiple = torch_model(torch, cfg)
    model = model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)
    xt = [torch.from_numpy(x)[None].to(device) for x in xs]
    yt = [torch.from_numpy(y).to(device) for y in ys]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def forward(x):
        t = x.shape[-1]
        pad = -t % multiple
        y = model(torch.nn.functional.pad(x, (0, pad)) if pad else x)
        return y[0, 0, :t]

    def ccc_loss(p, y):
        mp, my = p.mean(), y.mean()
        cov = ((p - mp) * (y - my)).mean()
        return 1 - 2 * cov / (p.var(unbiased=False) + y.var(unbiased=False) + (mp - my) ** 2)

    def loss(x, y):
        return ccc_loss(forward(x), y)

    if compiled:  # a fresh start: every row compiles the same closures' code, so Dynamo's
        torch._dynamo.reset()  # per-code cache (8 entries) would fill and fall back to eager
    run_loss, run_forward = (torch.compile(loss), torch.compile(forward)) if compiled else \
        (loss, forward)

    def epoch():
        for x, y in zip(xt, yt):
            opt.zero_grad()
            run_loss(x, y).backward()
            opt.step()
        sync()

    def predict():
        with torch.no_grad():
            for x in xt:
                run_forward(x)
        sync()
    return epoch, predict


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="3 recordings, fewer repeats")
    p.add_argument("--recordings", type=int, help="recordings per epoch (default 9; 3 with --quick)")
    p.add_argument("--frames", type=int, default=7500, help="frames per recording (7500 = 5 min)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS),
                   help="models to time (default: all)")
    p.add_argument("--out", default=RESULTS)
    p.add_argument("--width", type=int, help="every model's width (e.g. 1 in the CUDA simulator)")
    p.add_argument("--no-compile", action="store_true",
                   help="PyTorch eager only (torch.compile compiles each model, ~30-60 s)")
    args = p.parse_args(argv)
    keep_freed_memory()  # for both libraries: freed activations are reused, not page-faulted anew
    if args.device == "cuda":
        from tinyemo.engine.backend import cuda_module
        try:
            cuda_module()
        except RuntimeError as exc:
            print(f"--device cuda: {exc}")
            return 2
    torch = try_import_torch()
    if torch is not None and args.device == "cuda" and not torch.cuda.is_available():
        torch = None  # PyTorch without CUDA is no peer for a GPU run
    n, t = (args.recordings or (3 if args.quick else 9)), args.frames
    timing = dict(rounds=1, calls=1) if args.quick else dict(rounds=3, calls=2)
    if args.device == "cuda":
        import cuda_rows
        if cuda_rows.simulated():  # timings mean nothing there: as few calls as can be
            timing = cuda_rows.SIMULATOR_TIMING
    xs, ys = epoch_data(n, t)
    rows = []
    for key in args.rows:
        label, arch, width = ROWS[key]
        if args.width is not None:
            label, width = f"{label.split(',')[0]}, width {args.width}", args.width
        cfg = ModelConfig.for_arch(arch, "arousal", width=width)
        for nt in args.threads:
            with threads(nt):
                fns = {}
                fns["tinyemo epoch"], fns["tinyemo predict"] = tinyemo_epoch(cfg, xs, ys, args.device)
                if torch is not None:
                    fns["torch epoch"], fns["torch predict"] = torch_epoch(torch, cfg, xs, ys, args.device)
                    if not args.no_compile and args.device == "cpu":
                        fns["compiled epoch"], fns["compiled predict"] = torch_epoch(
                            torch, cfg, xs, ys, args.device, compiled=True)
                sgemm = [sgemm_peak()] if args.device == "cpu" else []
                stats = time_interleaved(fns, **timing)
                sgemm += [sgemm_peak()] if args.device == "cpu" else []
            row = {"model": label, "key": key, "device": args.device, "threads": nt,
                   "recordings": n,
                   "frames": t, "sgemm_gflops_before_after": sgemm,
                   "loadavg_1min": os.getloadavg()[0], **{
                k.replace(" ", "_"): v for k, v in stats.items()}}
            for side in ("tinyemo", "torch", "compiled"):
                if f"{side}_epoch" in row:
                    row[f"{side}_predict_fps"] = n * t / row[f"{side}_predict"]["median"]
            if args.device == "cuda":
                row["memory_pool"] = _pool_stats()
            if torch is not None:
                row["ratio_epoch"] = row["tinyemo_epoch"]["median"] / row["torch_epoch"]["median"]
                row["ratio_predict"] = row["tinyemo_predict"]["median"] / row["torch_predict"]["median"]
            if "compiled_epoch" in row:   # against torch.compile, and against the faster peer
                for kind in ("epoch", "predict"):
                    ours, eager, comp = (row[f"{side}_{kind}"]["median"]
                                         for side in ("tinyemo", "torch", "compiled"))
                    row[f"ratio_{kind}_compiled"] = ours / comp
                    row[f"ratio_{kind}_best"] = ours / min(eager, comp)
            rows.append(row)
            print(_line(row), flush=True)
    ratios = paper_ratios(rows)
    write_json_atomic(args.out, {"machine": machine_info(), "device": args.device,
                                 "quick": args.quick, "rows": rows, "paper_ratio": ratios,
                                 "command": " ".join(["python"] + sys.argv)})
    print("\n" + table(rows))
    for r in ratios:
        print(f"{r['blstm']} epoch / {r['conv']} epoch, {r['threads']} thread(s): {r['ratio']:.1f}× "
              f"(paper: ≈ {PAPER_RATIO:.0f}×, 10 min / 13 s)")
    return 0


def paper_ratios(rows) -> list[dict]:
    """tinyemo's BLSTM epoch over each conv epoch measured in the same run, per thread count."""
    out = []
    for b in (r for r in rows if r["key"].startswith("blstm")):
        for c in (r for r in rows if not r["key"].startswith("blstm")
                  and r["threads"] == b["threads"]):
            out.append({"blstm": b["model"], "conv": c["model"], "threads": b["threads"],
                        "blstm_epoch_s": b["tinyemo_epoch"]["median"],
                        "conv_epoch_s": c["tinyemo_epoch"]["median"],
                        "ratio": b["tinyemo_epoch"]["median"] / c["tinyemo_epoch"]["median"],
                        "paper": PAPER_RATIO})
    return out


def _pool_stats():
    """The CUDA memory pool's counts (``tinyemo.engine.cuda_memory``), or None when it is off."""
    from numba import config
    if config.ENABLE_CUDASIM:
        return None
    from tinyemo.engine import cuda_memory
    return cuda_memory.stats()


def _line(row) -> str:
    te = row["tinyemo_epoch"]["median"]
    s = f"{row['model']:28s} {row['threads']} thr: epoch {te * 1e3:8.1f} ms"
    if "torch_epoch" in row:
        s += f" (torch {row['torch_epoch']['median'] * 1e3:8.1f} ms, ratio {row['ratio_epoch']:.2f})"
    if "compiled_epoch" in row:
        s += (f" (torch.compile {row['compiled_epoch']['median'] * 1e3:8.1f} ms, ratio "
              f"{row['ratio_epoch_compiled']:.2f}; compiled in {row['compiled_epoch']['first']:.0f} s)")
    if row.get("sgemm_gflops_before_after"):
        s += f" sgemm {_sgemm(row)} GFLOP/s"
    return s


def _sgemm(row) -> str:
    return " / ".join(f"{g:.0f}" for g in row.get("sgemm_gflops_before_after", [])) or "n/a"


def table(rows) -> str:
    if any("compiled_epoch" in r for r in rows):
        return _table_with_compile(rows)
    out = ["| model | threads | tinyemo epoch | PyTorch epoch | ratio | tinyemo predict (frames/s) "
           "| PyTorch predict (frames/s) | ratio | sgemm GFLOP/s (before / after) |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        te, tp = r["tinyemo_epoch"]["median"], r["tinyemo_predict_fps"]
        if "torch_epoch" in r:
            out.append(f"| {r['model']} | {r['threads']} | {te * 1e3:.0f} ms | "
                       f"{r['torch_epoch']['median'] * 1e3:.0f} ms | {r['ratio_epoch']:.2f} | "
                       f"{tp:,.0f} | {r['torch_predict_fps']:,.0f} | {r['ratio_predict']:.2f} | "
                       f"{_sgemm(r)} |")
        else:
            out.append(f"| {r['model']} | {r['threads']} | {te * 1e3:.0f} ms | n/a | n/a | "
                       f"{tp:,.0f} | n/a | n/a | {_sgemm(r)} |")
    return "\n".join(out)


def _table_with_compile(rows) -> str:
    """Epoch times against PyTorch eager and torch.compile, the ratio to the faster of the two;
    prediction as frames per second, the same way."""
    out = ["| model | threads | tinyemo epoch | PyTorch eager | torch.compile | ratio (eager / "
           "compile) | tinyemo predict | eager | compile | ratio (eager / compile) | sgemm GFLOP/s "
           "(before / after) |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        fps = [f"{r[f'{side}_predict_fps'] / 1e3:,.0f} k/s" for side in ("tinyemo", "torch", "compiled")]
        out.append(
            f"| {r['model']} | {r['threads']} | {r['tinyemo_epoch']['median'] * 1e3:.0f} ms | "
            f"{r['torch_epoch']['median'] * 1e3:.0f} ms | {r['compiled_epoch']['median'] * 1e3:.0f} ms | "
            f"{r['ratio_epoch']:.2f} / {r['ratio_epoch_compiled']:.2f} | {fps[0]} | {fps[1]} | "
            f"{fps[2]} | {r['ratio_predict']:.2f} / {r['ratio_predict_compiled']:.2f} | "
            f"{_sgemm(r)} |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
