"""The README's walk-through, run through a Python client generated from the served spec
by openapi-python-client: if the spec lies, the generated client fails to parse an answer.

    python client_walkthrough.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD   (with the generated
    `medconnect_client` package on PYTHONPATH)
"""

import sys
import uuid

from medconnect_client import AuthenticatedClient, Client
from medconnect_client.api.auth import get_me, login
from medconnect_client.api.decision_support import check_interactions
from medconnect_client.api.doctors import create_doctor
from medconnect_client.api.medical_data import create_medical_entry, list_medical_entries
from medconnect_client.api.patients import create_patient, grant_care
from medconnect_client.models import (
    Account,
    CareRelationship,
    CheckRequest,
    Credentials,
    Doctor,
    EntryObservation,
    EntryObservationKind,
    EntryPage,
    InteractionCheck,
    MedicalEntry,
    NewDoctorRequest,
    NewEntryRequest,
    NewPatientRequest,
    Patient,
    SexView,
    TokenResponse,
)


def expect(response, status, model):
    """The answer has the status, and the generated client parsed it into the model."""
    if response.status_code != status or not isinstance(response.parsed, model):
        sys.exit(f"expected {status} {model.__name__}, got {response.status_code}: {response.content!r}")
    return response.parsed


def main() -> None:
    base, admin_email, admin_password = sys.argv[1:4]
    run = uuid.uuid4().hex[:10]
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)

    def sign_in(email: str, password: str) -> AuthenticatedClient:
        tokens = expect(login.sync_detailed(client=anonymous, body=Credentials(email=email, password=password)),
                        200, TokenResponse)
        return AuthenticatedClient(base_url=base, token=tokens.access_token, raise_on_unexpected_status=True)

    admin = sign_in(admin_email, admin_password)
    me = expect(get_me.sync_detailed(client=admin), 200, Account)
    assert me.role.value == "admin", me

    doctor = expect(create_doctor.sync_detailed(client=admin, body=NewDoctorRequest(
        email=f"house-{run}@example.org", password="vicodin and canes", given_name="Gregory", family_name="House",
        specialty="Diagnostics", licence_number=f"NJ-{run}")), 201, Doctor)
    doctor_client = sign_in(f"house-{run}@example.org", "vicodin and canes")

    import datetime
    patient = expect(create_patient.sync_detailed(client=anonymous, body=NewPatientRequest(
        email=f"ada-{run}@example.org", password="analytical engine", given_name="Ada", family_name="Lovelace",
        date_of_birth=datetime.date(1985, 12, 10), sex=SexView.FEMALE)), 201, Patient)
    patient_client = sign_in(f"ada-{run}@example.org", "analytical engine")
    expect(grant_care.sync_detailed(patient.id, doctor.id, client=patient_client), 200, CareRelationship)

    reading = EntryObservation(code="8480-6", kind=EntryObservationKind.OBSERVATION, unit="mm[Hg]", value=128.0)
    entry = expect(create_medical_entry.sync_detailed(
        client=doctor_client, body=NewEntryRequest(patient_id=patient.id, entry=reading)), 201, MedicalEntry)
    page = expect(list_medical_entries.sync_detailed(patient.id, client=patient_client), 200, EntryPage)
    assert [e.id for e in page.items] == [entry.id], page
    assert page.items[0].entry.code == "8480-6" and page.items[0].entry.value == 128.0, page.items[0]

    check = expect(check_interactions.sync_detailed(
        client=doctor_client, body=CheckRequest(drugs=["warfarin", "aspirine", "ibuprofène"])), 200, InteractionCheck)
    assert check.pairs, "warfarin and the NSAIDs interact"
    print(f"walk-through through the generated client: {len(check.pairs)} interacting pairs, 1 reading read back")


if __name__ == "__main__":
    main()
