"""The classifier's batched probabilities equal each theme model's own predict_proba."""

import numpy as np
from sklearn.dummy import DummyClassifier

from textmine.classifier import ThemeClassifier


def test_batched_probabilities_equal_each_models_predict_proba(default_model, sample):
    texts = sample["improvement"].fillna("").tolist()
    X = default_model._transform(default_model.preprocessor().transform(texts))
    models = list(default_model.estimators_)
    models.insert(2, DummyClassifier(strategy="constant", constant=0).fit(X[:3], [0, 0, 0]))
    got = ThemeClassifier._proba(models, X)
    expected = np.column_stack([m.predict_proba(X)[:, 1] if 1 in m.classes_ else np.zeros(X.shape[0]) for m in models])
    assert got.shape == (len(texts), len(models))
    np.testing.assert_array_equal(got, expected)
    assert (got[:, 2] == 0).all() and got[:, 0].max() > 0.5
