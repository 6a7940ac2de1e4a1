# scikit-learn on the splits of the ML benchmark (bench/sections/ml-data.ts: the same seeded shuffle, 25% held
# out, seed 42), for the "scikit-learn" column of BENCHMARKS.md. Run: python3 bench/reference/sklearn_reference.py
# (Debian: apt-get install python3-sklearn). Models as close as scikit-learn has to the ones benchmarked.
import csv, os, numpy as np, sklearn
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler, MinMaxScaler
from sklearn.pipeline import make_pipeline
from sklearn.metrics import accuracy_score, r2_score
D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "")
def load(f):
    rows = list(csv.reader(open(D + f)))[1:]
    X = np.array([[float(v) for v in r[:-1]] for r in rows])
    t = [r[-1].strip() for r in rows]
    try: y = np.array([float(v) for v in t])
    except ValueError: y = np.array(t)
    return X, y
def shuffled(n, seed):
    idx = list(range(n)); s = (seed & 0xffffffff) or 1
    def nxt():
        nonlocal s
        s ^= (s << 13) & 0xffffffff; s ^= s >> 17; s ^= (s << 5) & 0xffffffff
        return s / 2**32
    for i in range(n - 1, 0, -1):
        j = int(nxt() * (i + 1)); idx[i], idx[j] = idx[j], idx[i]
    return idx
def split(X, y, frac=0.25, seed=42):
    idx = shuffled(len(X), seed); nt = int(np.floor(len(X) * frac + 0.5))
    te, tr = idx[:nt], idx[nt:]
    return X[tr], y[tr], X[te], y[te]
print("scikit-learn", sklearn.__version__)
def run(ds, name, model, reg=False, data=None):
    Xtr, ytr, Xte, yte = data
    model.fit(Xtr, ytr); p = model.predict(Xte)
    print(f"{ds}\t{name}\t{'R2' if reg else 'acc'}\t{(r2_score(yte, p) if reg else accuracy_score(yte, p)):.4f}\t{len(Xte)} rows")
for ds in ["breast_cancer", "iris", "digits", "diabetes"]:
    X, y = load(ds + ".csv"); d = split(X, y)
    if ds == "diabetes":
        run(ds, "Ridge(alpha=1)", Ridge(alpha=1.0), True, d)
        run(ds, "GradientBoostingRegressor(20, depth 3, lr 0.3)", GradientBoostingRegressor(n_estimators=20, max_depth=3, learning_rate=0.3, random_state=0), True, d)
        run(ds, "StandardScaler+MLPRegressor(16)", make_pipeline(StandardScaler(), MLPRegressor((16,), max_iter=3000, random_state=0)), True, d)
        continue
    run(ds, "LogisticRegression(C=1, max_iter=10000)", LogisticRegression(max_iter=10000), False, d)
    run(ds, "StandardScaler+LogisticRegression(C=1)", make_pipeline(StandardScaler(), LogisticRegression(max_iter=10000)), False, d)
    if ds == "breast_cancer":
        run(ds, "GradientBoostingClassifier(20, depth 3, lr 0.3)", GradientBoostingClassifier(n_estimators=20, max_depth=3, learning_rate=0.3, random_state=0), False, d)
        run(ds, "StandardScaler+MLPClassifier(8)", make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=3000, random_state=0)), False, d)
        run(ds, "KNeighborsClassifier(5)", KNeighborsClassifier(5), False, d)
    if ds == "iris":
        run(ds, "DecisionTreeClassifier(depth 3)", DecisionTreeClassifier(max_depth=3, random_state=0), False, d)
        run(ds, "GradientBoostingClassifier(10, depth 3, lr 0.3)", GradientBoostingClassifier(n_estimators=10, max_depth=3, learning_rate=0.3, random_state=0), False, d)
        run(ds, "StandardScaler+MLPClassifier(16)", make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=3000, random_state=0)), False, d)
    if ds == "digits":
        run(ds, "StandardScaler+MLPClassifier(32)", make_pipeline(StandardScaler(), MLPClassifier((32,), max_iter=3000, random_state=0)), False, d)
Xtr, ytr = load("symptoms_train.csv"); Xte, yte = load("symptoms_test.csv")
run("symptoms", "LogisticRegression(C=1)", LogisticRegression(max_iter=10000), False, (Xtr, ytr, Xte, yte))
