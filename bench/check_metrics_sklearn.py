"""Cross-check kerros's metrics against scikit-learn on a run's saved predictions.

Usage: bench/.venv-sklearn/bin/python bench/check_metrics_sklearn.py RUN.json
where RUN.json is the output of `kerros run SPEC --json` (it names the
evaluate stage's artifact folder, which holds predictions.parquet and
metrics.json). Prints each metric from kerros and from scikit-learn.
"""
import json
import sys

import pyarrow.parquet as pq
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_score, recall_score

run = json.load(open(sys.argv[1]))
folder = run["artifacts"]["evaluate"]
preds = pq.read_table(f"{folder}/predictions.parquet").to_pydict()
ours = json.load(open(f"{folder}/metrics.json"))
y, p = preds["true_label"], preds["predicted_label"]
labels = sorted(set(y) | set(p))
binary = len([c for c in preds if c.startswith("p_")]) == 2
checks = {"accuracy": accuracy_score(y, p), "cohen_kappa": cohen_kappa_score(y, p)}
if "raw" not in preds:
    if binary:
        pos = [c[2:] for c in preds if c.startswith("p_")][1]
        checks["f1"] = f1_score(y, p, pos_label=pos)
        checks["precision"] = precision_score(y, p, pos_label=pos)
        checks["recall"] = recall_score(y, p, pos_label=pos)
    else:
        checks["f1_macro"] = f1_score(y, p, average="macro")
        checks["f1_weighted"] = f1_score(y, p, average="weighted")
        order = [c[2:] for c in preds if c.startswith("p_")]
        index = {c: i for i, c in enumerate(order)}
        yi, pi = [index[c] for c in y], [index[c] for c in p]
        checks["cohen_kappa_linear"] = cohen_kappa_score(yi, pi, weights="linear")
        checks["cohen_kappa_quadratic"] = cohen_kappa_score(yi, pi, weights="quadratic")
else:
    yi = [int(float(v)) for v in y]
    pi = [int(float(v)) for v in p]
    checks = {
        "accuracy_rounded": accuracy_score(yi, pi),
        "cohen_kappa": cohen_kappa_score(yi, pi),
        "cohen_kappa_linear": cohen_kappa_score(yi, pi, weights="linear"),
        "cohen_kappa_quadratic": cohen_kappa_score(yi, pi, weights="quadratic"),
    }
worst = 0.0
for name, ref in checks.items():
    got = ours.get(name)
    diff = abs(got - ref) if got is not None else float("inf")
    worst = max(worst, diff)
    print(f"{name:24} kerros {got!s:>22}  sklearn {ref:.12f}  diff {diff:.2e}")
print("OK" if worst < 1e-9 else "MISMATCH")
sys.exit(0 if worst < 1e-9 else 1)
