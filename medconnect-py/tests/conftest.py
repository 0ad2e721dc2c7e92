"""Each test module gets a fresh database in the project's private PostgreSQL (started by
./scripts/test, which sets MEDCONNECT_TEST_PG_URL) and a namespace of its own in the
private Redis; the keys are strong random ones, as a deployment's would be."""

import os
import secrets
import subprocess
import uuid

import pytest

import medconnect

PASSWORD = "correct horse battery staple"


def _psql(url: str, sql: str) -> None:
    psql = os.path.join(os.environ.get("MEDCONNECT_TEST_PG_BIN", ""), "psql")
    subprocess.run([psql, url, "-qc", sql], check=True, capture_output=True)


@pytest.fixture(scope="module")
def database_url() -> str:
    server = os.environ.get("MEDCONNECT_TEST_PG_URL")
    if not server:
        pytest.fail("MEDCONNECT_TEST_PG_URL is not set: run the tests with ./scripts/test")
    name = f"mcpytest_{uuid.uuid4().hex}"
    _psql(server, f"create database {name}")
    prefix, _ = server.rsplit("/", 1)
    os.environ["MEDCONNECT_JWT_SECRET"] = secrets.token_urlsafe(48)
    os.environ["MEDCONNECT_AUDIT_KEY"] = secrets.token_urlsafe(48)
    os.environ["MEDCONNECT_CACHE_NAMESPACE"] = name
    return f"{prefix}/{name}"


@pytest.fixture(scope="module")
def client(database_url: str) -> medconnect.Client:
    return medconnect.Client(database_url, os.environ.get("MEDCONNECT_TEST_REDIS_URL"))


def unique_email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:12]}@example.org"


@pytest.fixture(scope="module")
def admin(client: medconnect.Client) -> medconnect.Session:
    email = unique_email("admin")
    client.create_admin(email, PASSWORD)
    return client.login(email, PASSWORD)


class Clinic:
    """A doctor with a patient in care, and both their sessions."""

    def __init__(self, client: medconnect.Client, admin: medconnect.Session) -> None:
        self.client = client
        self.admin = admin
        self.doctor_email = unique_email("doctor")
        self.doctor = admin.register_doctor(
            email=self.doctor_email,
            password=PASSWORD,
            given_name="Gregory",
            family_name="House",
            specialty="cardiology",
            licence_number=f"LIC-{uuid.uuid4().hex[:10]}",
        )
        self.doctor_s = client.login(self.doctor_email, PASSWORD)
        self.patient_email = unique_email("patient")
        self.patient = self.doctor_s.register_patient(
            given_name="Ada",
            family_name="Lovelace",
            date_of_birth=__import__("datetime").date(1960, 1, 2),
            sex="female",
            email=self.patient_email,
            password=PASSWORD,
        )
        self.patient_s = client.login(self.patient_email, PASSWORD)


@pytest.fixture()
def clinic(client: medconnect.Client, admin: medconnect.Session) -> Clinic:
    return Clinic(client, admin)
