"""Seeds a running MedConnect server for the contract checks and prints what they need.

An administrator must exist already (created with `medconnect create-admin`). This adds a
doctor, a patient in the doctor's care with a few entries, and prints, as JSON, a token
per role and the ids the other checks use.

    python seed.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD
"""

import json
import sys
import uuid

import httpx


def main() -> None:
    base, admin_email, admin_password = sys.argv[1:4]
    run = uuid.uuid4().hex[:10]
    with httpx.Client(base_url=base, timeout=30) as http:

        def ok(response: httpx.Response) -> dict:
            if response.status_code >= 400:
                sys.exit(f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}")
            return response.json() if response.content else {}

        def login(email: str, password: str) -> str:
            return ok(http.post("/login", json={"email": email, "password": password}))["access_token"]

        admin = login(admin_email, admin_password)
        doctor_email, doctor_password = f"house-{run}@example.org", "vicodin and canes"
        doctor_id = ok(http.post("/doctors", headers={"authorization": f"Bearer {admin}"}, json={
            "email": doctor_email, "password": doctor_password, "given_name": "Gregory", "family_name": "House",
            "specialty": "Diagnostics", "licence_number": f"NJ-{run}"}))["id"]
        doctor = login(doctor_email, doctor_password)
        patient_email, patient_password = f"ada-{run}@example.org", "analytical engine"
        patient_id = ok(http.post("/patients", json={
            "email": patient_email, "password": patient_password, "given_name": "Ada", "family_name": "Lovelace",
            "date_of_birth": "1985-12-10", "sex": "female"}))["id"]
        patient = login(patient_email, patient_password)
        ok(http.post(f"/patients/{patient_id}/care-team/{doctor_id}", headers={"authorization": f"Bearer {patient}"}))
        for entry in [
            {"kind": "observation", "code": "8480-6", "value": 128, "unit": "mm[Hg]"},
            {"kind": "lab_result", "code": "2093-3", "value": 5.2, "unit": "mmol/L"},
            {"kind": "medication", "substance": "warfarine", "dose": "5 mg", "start": "2024-01-01"},
        ]:
            ok(http.post("/medical_data", headers={"authorization": f"Bearer {doctor}"},
                         json={"patient_id": patient_id, "entry": entry}))
        print(json.dumps({
            "admin": admin, "doctor": doctor, "patient": patient,
            "doctor_id": doctor_id, "patient_id": patient_id,
            "patient_email": patient_email, "patient_password": patient_password,
        }))


if __name__ == "__main__":
    main()
