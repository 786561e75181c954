"""scikit-learn's default pipeline on the real-data benchmark's splits.

Reads DIR/index.csv (name, task, seed) and, for each name, the numeric
design matrices NAME_xtrain.csv, NAME_ytrain.csv, NAME_xtest.csv,
NAME_ytest.csv written by bench/realdata.R; fits StandardScaler +
MLPClassifier or MLPRegressor with every default but random_state; prints
one CSV line per data set: name, metric (accuracy or RMSE), seconds.
"""
import csv
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.simplefilter("ignore", ConvergenceWarning)
folder = sys.argv[1]
print("name,sklearn_metric,sklearn_s")
with open(f"{folder}/index.csv") as f:
    for row in csv.DictReader(f):
        name, task, seed = row["name"], row["task"], int(row["seed"])
        load = lambda part: np.loadtxt(f"{folder}/{name}_{part}.csv", delimiter=",", ndmin=2)
        xtr, ytr, xte, yte = load("xtrain"), load("ytrain")[:, 0], load("xtest"), load("ytest")[:, 0]
        model = MLPClassifier(random_state=seed) if task == "classification" else MLPRegressor(random_state=seed)
        pipe = make_pipeline(StandardScaler(), model)
        start = time.perf_counter()
        pipe.fit(xtr, ytr)
        seconds = time.perf_counter() - start
        pred = pipe.predict(xte)
        if task == "classification":
            metric = float(np.mean(pred == yte))
        else:
            metric = float(np.sqrt(np.mean((pred - yte) ** 2)))
        print(f"{name},{metric:.6g},{seconds:.4f}", flush=True)
