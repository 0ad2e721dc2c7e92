"""Import a CSV of patients into MedConnect, then print each one's cardiovascular risk and
interaction warnings: the starting point of a hospital integration.

Runs as a doctor's API key (an administrator issues it: ``medconnect api-key create
--email <doctor> --name "csv import"``), in process, with the core's own rules: each
patient registered by the doctor is in their care; each reading is validated (LOINC code,
UCUM unit, plausible range) and audited.

    DATABASE_URL=... MEDCONNECT_JWT_SECRET=... MEDCONNECT_AUDIT_KEY=... \\
    MEDCONNECT_API_KEY=mck_... python examples/python/import_patients.py patients.csv

Columns: mrn, given_name, family_name, date_of_birth (YYYY-MM-DD), sex, systolic_mmhg,
diastolic_mmhg, total_cholesterol_mg_dl, medications (names separated by ``;``).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
from typing import Dict, List

from tqdm import tqdm

import medconnect

SYSTOLIC, DIASTOLIC, TOTAL_CHOLESTEROL = "8480-6", "8462-4", "2093-3"


def observation(code: str, value: str, unit: str) -> Dict[str, object]:
    return {"kind": "observation", "code": code, "value": float(value), "unit": unit}


def import_rows(session: medconnect.Session, rows: List[Dict[str, str]]) -> List[medconnect.Patient]:
    imported = []
    today = dt.date.today()
    for row in tqdm(rows, desc="importing", unit="patient"):
        patient = session.register_patient(
            given_name=row["given_name"],
            family_name=row["family_name"],
            date_of_birth=dt.date.fromisoformat(row["date_of_birth"]),
            sex=row["sex"],
        )
        session.add_entry(patient.id, observation(SYSTOLIC, row["systolic_mmhg"], "mm[Hg]"))
        session.add_entry(patient.id, observation(DIASTOLIC, row["diastolic_mmhg"], "mm[Hg]"))
        if row["total_cholesterol_mg_dl"]:
            session.add_entry(patient.id, observation(TOTAL_CHOLESTEROL, row["total_cholesterol_mg_dl"], "mg/dL"))
        for name in filter(None, (m.strip() for m in row["medications"].split(";"))):
            medication = {"kind": "medication", "substance": name, "dose": "as prescribed", "start": today}
            session.add_entry(patient.id, medication)
        imported.append(patient)
    return imported


def report(session: medconnect.Session, patient: medconnect.Patient) -> str:
    risk = session.predict(patient.id, "cardiovascular_risk").output
    lines = [
        f"{patient.family_name}, {patient.given_name}: 10-year coronary risk {risk.probability:.0%} ({risk.band})"
    ]
    interactions = session.predict(patient.id, "drug_interactions").output.interactions
    for pair in interactions.pairs:
        lines.append(f"  {pair.severity}: {pair.drug_a} + {pair.drug_b}")
    return "\n".join(lines)


def main(path: str) -> int:
    key = os.environ.get("MEDCONNECT_API_KEY")
    if not key:
        print("set MEDCONNECT_API_KEY to a doctor's API key", file=sys.stderr)
        return 2
    client = medconnect.Client.from_env()
    try:
        session = client.with_api_key(key)
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for patient in import_rows(session, rows):
            print(report(session, patient))
    except medconnect.InvalidInput as e:
        print(f"refused: {e} (field {e.field})", file=sys.stderr)
        return 1
    except medconnect.MedConnectError as e:
        print(f"failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "patients.csv")))
