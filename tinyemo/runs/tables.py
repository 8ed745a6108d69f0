"""The paper's results table (Tables 1-2: dev and test RMSE and CCC per model) in Markdown.
"""
from __future__ import annotations

__all__ = ["results_table"]


def results_table(results_by_model: dict, partitions: tuple[str, ...] = ("dev", "test")) -> str:
    """Markdown in the paper's format: per target, RMSE and CCC of each of ``partitions``
    ("n/a" where a model has no score for one)."""
    lines = []
    targets = sorted({t for res in results_by_model.values() for t in res},
                     key=lambda t: (t != "arousal", t))
    header = " | ".join(f"{p.capitalize()} {m}" for p in partitions for m in ("RMSE", "CCC"))
    for target in targets:
        lines += [f"**{target}**", "", f"| model | {header} |",
                  "|---" * (1 + 2 * len(partitions)) + "|"]
        for model, res in results_by_model.items():
            if target not in res:
                continue
            cells = [f"{res[target][p][m]:.3f}" if p in res[target] else "n/a"
                     for p in partitions for m in ("rmse", "ccc")]
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)
