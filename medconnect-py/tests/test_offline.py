"""Decision support with no database: interaction checks and risk models, with the
core's own input checks."""

import pytest

import medconnect

FRAMINGHAM = {
    "male": 1,
    "age": 61,
    "education": 2,
    "currentSmoker": 1,
    "cigsPerDay": 20,
    "BPMeds": 0,
    "prevalentStroke": 0,
    "prevalentHyp": 1,
    "diabetes": 0,
    "totChol": 260,
    "sysBP": 165,
    "diaBP": 95,
    "BMI": 29.5,
    "heartRate": 80,
    "glucose": 90,
}


def test_interactions_in_french_and_english_with_nothing_running():
    report = medconnect.check_interactions(["warfarin", "aspirine", "ibuprofène"])
    assert isinstance(report, medconnect.InteractionReport)
    assert report.edition.startswith("ANSM")
    pairs = {frozenset((p.drug_a, p.drug_b)) for p in report.pairs}
    assert frozenset(("warfarin", "ibuprofène")) in pairs
    severities = [p.severity for p in report.pairs]
    order = ["contraindicated", "avoid", "precaution", "consider"]
    assert severities == sorted(severities, key=order.index), "most severe first"
    assert report.to_dict()["edition"] == report.edition


def test_unknown_names_come_back_with_suggestions():
    report = medconnect.check_interactions(["warfarine", "ibuprofenn"])
    assert [u.input for u in report.unknown] == ["ibuprofenn"]
    assert "ibuprofene" in report.unknown[0].suggestions


@pytest.mark.parametrize(
    "drugs, field",
    [([], "drugs"), ([""], "drugs[0]"), (["warfarin", "x" * 201], "drugs[1]"), (["a\x00b"], "drugs[0]"), (["x"] * 51, "drugs")],
)
def test_drug_lists_are_checked_as_the_core_checks_them(drugs, field):
    with pytest.raises(medconnect.InvalidInput) as caught:
        medconnect.check_interactions(drugs)
    assert caught.value.field == field
    assert isinstance(caught.value, medconnect.MedConnectError)


def test_a_risk_model_predicts_and_explains():
    model = medconnect.RiskModel.load("cardiovascular_risk")
    assert model.kind == "cardiovascular_risk" and model.version
    assert "sysBP" in [i.name for i in model.inputs]
    result = model.predict(FRAMINGHAM)
    assert isinstance(result, medconnect.RiskPrediction)
    assert 0.0 < result.probability < 1.0
    assert result.band in ("low", "moderate", "high")
    assert len(result.top_factors) == 3
    assert "logistic" in result.explanation_method
    assert result.missing == []
    lower = model.predict({**FRAMINGHAM, "sysBP": 110, "currentSmoker": 0, "cigsPerDay": 0, "age": 40})
    assert lower.probability < result.probability


def test_risk_inputs_are_checked_and_optional_ones_imputed():
    model = medconnect.RiskModel.load("cardiovascular_risk")
    with pytest.raises(medconnect.InvalidInput) as missing:
        model.predict({"age": 61})
    assert missing.value.field == "male"
    with pytest.raises(medconnect.InvalidInput) as unknown:
        model.predict({**FRAMINGHAM, "shoe_size": 44})
    assert unknown.value.field == "inputs.shoe_size"
    with pytest.raises(medconnect.InvalidInput) as nan:
        model.predict({**FRAMINGHAM, "sysBP": float("nan")})
    assert nan.value.field == "inputs.sysBP"
    without_glucose = dict(FRAMINGHAM)
    del without_glucose["glucose"]
    assert model.predict(without_glucose).missing == ["glucose"]
    with pytest.raises(medconnect.InvalidInput) as kind:
        medconnect.RiskModel.load("drug_interactions")
    assert kind.value.field == "kind"
