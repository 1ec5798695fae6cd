"""Reference for the IMDB accuracy issue: NB-weighted binary 1-3-gram features
+ logistic regression (NBSVM-style), scikit-learn, official 25k/25k split.
Prints accuracy, Cohen's kappa and wall time (load to metrics)."""
import sys
import time

start = time.time()
import numpy as np
import pyarrow.parquet as pq
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, cohen_kappa_score

data = sys.argv[1]
train = pq.read_table(f"{data}/imdb/train.parquet").to_pydict()
test = pq.read_table(f"{data}/imdb/test.parquet").to_pydict()
y = np.array([1 if label == "pos" else 0 for label in train["label"]])
y_test = np.array([1 if label == "pos" else 0 for label in test["label"]])
vec = CountVectorizer(ngram_range=(1, 3), min_df=2, max_features=800000, binary=True)
X = vec.fit_transform(train["text"])
X_test = vec.transform(test["text"])
p = 1 + X[y == 1].sum(axis=0)
q = 1 + X[y == 0].sum(axis=0)
r = np.asarray(np.log((p / p.sum()) / (q / q.sum()))).ravel()
R = sparse.diags(r)
clf = LogisticRegression(C=1.0, max_iter=1000)
clf.fit(X @ R, y)
pred = clf.predict(X_test @ R)
print(f"sklearn NB-LR: accuracy {accuracy_score(y_test, pred):.4f} "
      f"kappa {cohen_kappa_score(y_test, pred):.4f} seconds {time.time() - start:.1f}")
