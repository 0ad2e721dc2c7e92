"""The client against the real PostgreSQL and Redis: the core's use cases, rules and
errors, Python types, API keys, threads and asyncio."""

import asyncio
import datetime as dt
import threading
import uuid

import pytest

import medconnect
from conftest import PASSWORD, Clinic, unique_email


def bp(systolic: float) -> dict:
    return {"kind": "observation", "code": "8480-6", "value": systolic, "unit": "mm[Hg]"}


def test_records_are_frozen_typed_and_printable(clinic: Clinic):
    patient = clinic.patient
    assert isinstance(patient, medconnect.Patient)
    assert isinstance(patient.id, uuid.UUID)
    assert patient.date_of_birth == dt.date(1960, 1, 2)
    assert isinstance(patient.created_at, dt.datetime) and patient.created_at.tzinfo is not None
    assert repr(patient).startswith("Patient(id=UUID(")
    with pytest.raises(AttributeError):
        patient.given_name = "Grace"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        patient.no_such_field
    as_dict = patient.to_dict()
    assert as_dict["given_name"] == "Ada" and as_dict["id"] == patient.id
    assert clinic.doctor_s.get_patient(patient.id) == patient


def test_a_doctor_keeps_the_record_and_the_patient_reads_it(clinic: Clinic):
    doctor, patient = clinic.doctor_s, clinic.patient.id
    entries = [doctor.add_entry(patient, bp(120 + i)) for i in range(5)]
    assert isinstance(entries[0], medconnect.MedicalEntry)
    assert entries[0].details.kind == "observation" and entries[0].details.unit == "mm[Hg]"
    assert entries[0].author_id == clinic.doctor.id
    # An iterator that fetches pages of two as it goes: all five, newest first.
    listed = list(clinic.patient_s.entries(patient, page_size=2))
    assert sorted(e.id for e in listed) == sorted(e.id for e in entries)
    assert [e.effective_at for e in listed] == sorted((e.effective_at for e in listed), reverse=True)
    diagnosis = doctor.add_entry(patient, {"kind": "diagnosis", "code": "I10", "onset": dt.date(2020, 5, 1)})
    assert diagnosis.details.onset == dt.date(2020, 5, 1)
    only = list(doctor.entries(patient, kinds=["diagnosis"]))
    assert [e.id for e in only] == [diagnosis.id]
    team = clinic.patient_s.care_team(patient)
    assert [c.doctor_id for c in team] == [clinic.doctor.id]


def test_decision_support_on_the_record(clinic: Clinic):
    doctor, patient = clinic.doctor_s, clinic.patient.id
    start = dt.date(2024, 1, 1)
    for substance in ("warfarin", "ibuprofen"):
        doctor.add_entry(patient, {"kind": "medication", "substance": substance, "dose": "1 tablet", "start": start})
    prediction = doctor.predict(patient, "drug_interactions")
    assert isinstance(prediction, medconnect.Prediction)
    assert prediction.output.kind == "drug_interactions"
    assert prediction.output.interactions.pairs, "warfarin and ibuprofen interact"
    risk = doctor.predict(patient, "cardiovascular_risk", inputs={"sysBP": 150, "totChol": 240, "currentSmoker": 1})
    assert 0 < risk.output.probability < 1
    assert [p.id for p in clinic.patient_s.predictions(patient)] == [risk.id, prediction.id]
    report = doctor.check_interactions(["warfarin", "aspirin"])
    assert report.pairs


def test_errors_are_typed(client: medconnect.Client, clinic: Clinic):
    with pytest.raises(medconnect.NotFound):
        clinic.doctor_s.get_patient(uuid.uuid4())
    with pytest.raises(medconnect.Forbidden):
        clinic.patient_s.predict(clinic.patient.id, "drug_interactions")
    with pytest.raises(medconnect.Unauthenticated):
        client.login(clinic.doctor_email, "not the password at all")
    with pytest.raises(medconnect.InvalidInput) as bad_unit:
        clinic.doctor_s.add_entry(clinic.patient.id, {**bp(120), "unit": "furlongs"})
    assert bad_unit.value.field == "unit"
    with pytest.raises(medconnect.InvalidInput) as unknown_field:
        clinic.doctor_s.add_entry(clinic.patient.id, {**bp(120), "colour": "red"})
    assert unknown_field.value.field == "entry"
    with pytest.raises(medconnect.InvalidInput):
        clinic.doctor_s.add_entry(clinic.patient.id, bp(120), effective_at=dt.datetime(2024, 1, 1))
    with pytest.raises(medconnect.Conflict) as taken:
        clinic.admin.register_doctor(
            email=clinic.doctor_email,
            password=PASSWORD,
            given_name="Other",
            family_name="Doctor",
            specialty="neurology",
            licence_number=f"LIC-{uuid.uuid4().hex[:10]}",
        )
    assert taken.value.field == "email"
    # Every one of them is a MedConnectError, and none carries the password.
    with pytest.raises(medconnect.MedConnectError) as caught:
        client.login(clinic.doctor_email, "another wrong password")
    assert "wrong password" not in str(caught.value)


def test_sign_in_failures_are_rate_limited(client: medconnect.Client, clinic: Clinic):
    with pytest.raises(medconnect.RateLimited) as limited:
        for _ in range(30):
            with pytest.raises(medconnect.Unauthenticated):
                client.login(clinic.patient_email, "guessing at the password")
    assert limited.value.retry_after and limited.value.retry_after > 0


def test_a_database_that_does_not_answer_is_unavailable(database_url: str):
    unreachable = database_url.rsplit("@", 1)[0] + "@127.0.0.1:1/nothing"
    with pytest.raises(medconnect.Unavailable) as down:
        medconnect.Client(unreachable)
    assert down.value.retry_after is not None


def test_a_patient_session_cannot_read_another_patient(client: medconnect.Client, clinic: Clinic):
    other = Clinic(client, clinic.admin)
    with pytest.raises(medconnect.NotFound):
        clinic.patient_s.get_patient(other.patient.id)
    with pytest.raises(medconnect.NotFound):
        list(clinic.patient_s.entries(other.patient.id))
    assert [p.id for p in clinic.patient_s.patients()] == [clinic.patient.id]


def test_an_api_key_acts_as_its_account_until_revoked(client: medconnect.Client, clinic: Clinic):
    issued = clinic.admin.create_api_key(clinic.doctor.id, "lab import")
    assert isinstance(issued.key, medconnect.ApiKey) and issued.secret.startswith("mck_")
    system = client.with_api_key(issued.secret)
    assert system.me().id == clinic.doctor.id
    system.add_entry(clinic.patient.id, bp(133))
    assert [k.id for k in clinic.admin.api_keys(clinic.doctor.id)] == [issued.key.id]
    clinic.admin.revoke_api_key(clinic.doctor.id, issued.key.id)
    with pytest.raises(medconnect.Unauthenticated):
        system.me()
    with pytest.raises(medconnect.Unauthenticated):
        client.with_api_key(issued.secret)
    with pytest.raises(medconnect.Forbidden):
        clinic.doctor_s.create_api_key(clinic.doctor.id, "mine")


def test_sixteen_threads_at_once(clinic: Clinic):
    doctor, patient = clinic.doctor_s, clinic.patient.id
    results: list = []
    errors: list = []

    def work(i: int) -> None:
        try:
            entry = doctor.add_entry(patient, bp(100 + i))
            read = doctor.get_patient(patient)
            results.append((entry.details.value, read.id))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(v for v, _ in results) == [100.0 + i for i in range(16)]
    assert {p for _, p in results} == {patient}
    assert len(list(doctor.entries(patient))) == 16


def test_calls_release_the_gil(client: medconnect.Client, clinic: Clinic):
    # A Python thread keeps counting while one sign-in (argon2, tens of milliseconds) runs.
    # The count is read just before and just after that one call: had the call held the
    # GIL, the spinner could not have run in between.
    count = 0
    stop = threading.Event()

    def spin() -> None:
        nonlocal count
        while not stop.is_set():
            count += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    while count == 0:
        pass
    before = count
    client.login(clinic.doctor_email, PASSWORD)
    during = count - before
    stop.set()
    spinner.join()
    assert during > 1000, f"the spinner counted {during} while the sign-in ran"


def test_the_async_client(database_url: str, clinic: Clinic):
    async def scenario() -> None:
        client = medconnect.AsyncClient(database_url)
        doctor = await client.login(clinic.doctor_email, PASSWORD)
        assert isinstance(doctor, medconnect.AsyncSession)
        me = await doctor.me()
        assert me.id == clinic.doctor.id
        added = await asyncio.gather(*(doctor.add_entry(clinic.patient.id, bp(140 + i)) for i in range(16)))
        assert len({e.id for e in added}) == 16
        seen = [e.id async for e in doctor.entries(clinic.patient.id, page_size=5)]
        assert set(e.id for e in added) <= set(seen)
        with pytest.raises(medconnect.NotFound):
            await doctor.get_patient(uuid.uuid4())
        issued = clinic.admin.create_api_key(clinic.doctor.id, "async service")
        system = await client.with_api_key(issued.secret)
        assert (await system.me()).id == clinic.doctor.id

    asyncio.run(scenario())


def test_logout_ends_the_session(client: medconnect.Client, clinic: Clinic):
    session = client.login(clinic.patient_email, PASSWORD)
    session.logout()
    with pytest.raises(medconnect.Unauthenticated):
        session.me()
    # Other sessions of the same person go on.
    assert clinic.patient_s.me().email == clinic.patient_email



def test_the_csv_import_example_runs_with_an_api_key(database_url: str, clinic: Clinic):
    import os
    import pathlib
    import subprocess
    import sys

    example = pathlib.Path(__file__).parents[2] / "examples" / "python" / "import_patients.py"
    issued = clinic.admin.create_api_key(clinic.doctor.id, "csv import")
    env = {**os.environ, "DATABASE_URL": database_url, "MEDCONNECT_API_KEY": issued.secret}
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, str(example)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum("10-year coronary risk" in line for line in lines) == 5
    assert any(("warfarin" in line and "ibuprofen" in line and "avoid" in line) for line in lines), done.stdout
    assert any("contraindicated: clarithromycin + simvastatin" in line for line in lines), done.stdout
    assert "importing" in done.stderr, "tqdm shows progress on stderr"
    assert len(list(clinic.doctor_s.patients())) >= 6, "the imported patients are in the doctor's care"
