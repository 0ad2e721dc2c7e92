"""Python-visible cost of decision support: in process through the bindings, and the same
work through the HTTP API from Python (httpx, one keep-alive connection). Prints Markdown
rows; run by benches/python.sh, which starts the server and passes BASE, TOKEN, PATIENT."""

import os
import statistics
import timeit

import httpx

import medconnect

DRUGS = [
    "warfarin", "acide acétylsalicylique", "ibuprofène", "simvastatine", "clarithromycine",
    "amlodipine", "metformine", "paracetamol", "oméprazole", "amiodarone",
]
FRAMINGHAM = {
    "male": 1, "age": 61, "education": 2, "currentSmoker": 1, "cigsPerDay": 20, "BPMeds": 0,
    "prevalentStroke": 0, "prevalentHyp": 1, "diabetes": 0, "totChol": 260, "sysBP": 165,
    "diaBP": 95, "BMI": 29.5, "heartRate": 80, "glucose": 90,
}


def per_call_us(fn, number: int, repeat: int = 7) -> float:
    """Median over `repeat` runs of the mean time of one call, in microseconds."""
    fn()  # warm up (loads the knowledge base, opens the connection)
    runs = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def main() -> None:
    base, token, patient = os.environ["BASE"], os.environ["TOKEN"], os.environ["PATIENT"]
    model = medconnect.RiskModel.load("cardiovascular_risk")
    rows = []
    check_in_process = per_call_us(lambda: medconnect.check_interactions(DRUGS), 2000)
    rows.append(("interaction check, 10 drugs (45 pairs), bindings in process", check_in_process))
    predict_in_process = per_call_us(lambda: model.predict(FRAMINGHAM), 5000)
    rows.append(("cardiovascular risk, inputs given, bindings in process", predict_in_process))
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}) as http:
        # Both roads end with the answer as Python objects: the bindings build them, an
        # HTTP caller parses the JSON body.
        def check_http() -> None:
            reply = http.post("/interactions/check", json={"drugs": DRUGS})
            reply.raise_for_status()
            reply.json()

        def predict_http() -> None:
            body = {"patient_id": patient, "kind": "cardiovascular_risk", "inputs": FRAMINGHAM}
            reply = http.post("/predict", json=body)
            reply.raise_for_status()
            reply.json()

        check_over_http = per_call_us(check_http, 300)
        rows.append(("interaction check, 10 drugs, POST /interactions/check via httpx", check_over_http))
        predict_over_http = per_call_us(predict_http, 100, repeat=5)
        rows.append(("cardiovascular risk, POST /predict via httpx (reads the record, stores the prediction, audits)", predict_over_http))
    for name, us in rows:
        print(f"| {name} | {us:,.1f} µs |")
    print(f"| interaction check: HTTP ÷ bindings | {check_over_http / check_in_process:.0f}× |")
    print(f"| risk prediction: HTTP ÷ bindings | {predict_over_http / predict_in_process:.0f}× |")


if __name__ == "__main__":
    main()
