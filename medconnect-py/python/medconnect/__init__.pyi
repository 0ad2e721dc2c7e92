"""Types of the MedConnect Python API (checked against the module by mypy's stubtest)."""

import datetime as _dt
import uuid
from typing import Any, AsyncIterator, Dict, Iterator, List, Mapping, Optional, Sequence

from ._native import (
    Conflict as Conflict,
    Forbidden as Forbidden,
    InvalidInput as InvalidInput,
    MedConnectError as MedConnectError,
    NotFound as NotFound,
    RateLimited as RateLimited,
    Unauthenticated as Unauthenticated,
    Unavailable as Unavailable,
)

__all__ = [
    "Account",
    "ApiKey",
    "AsyncClient",
    "AsyncSession",
    "CareRelationship",
    "Client",
    "Conflict",
    "Doctor",
    "Forbidden",
    "InteractionReport",
    "InvalidInput",
    "IssuedApiKey",
    "MedConnectError",
    "MedicalEntry",
    "NotFound",
    "Patient",
    "Prediction",
    "RateLimited",
    "Record",
    "RiskModel",
    "RiskPrediction",
    "Session",
    "Unauthenticated",
    "Unavailable",
    "check_interactions",
]

PAGE_SIZE: int

class Record:
    """A frozen result; fields are attributes (nested objects are records too)."""

    def __init__(self, fields: Mapping[str, Any]) -> None: ...
    def __getattr__(self, name: str) -> Any: ...
    def __setattr__(self, name: str, value: Any) -> None: ...
    def __delattr__(self, name: str) -> None: ...
    def __dir__(self) -> List[str]: ...
    def __eq__(self, other: object) -> bool: ...
    __hash__: None  # type: ignore[assignment]
    def to_dict(self) -> Dict[str, Any]: ...

class Account(Record):
    id: uuid.UUID
    email: str
    role: str
    active: bool
    patient_id: Optional[uuid.UUID]
    created_at: _dt.datetime
    updated_at: _dt.datetime

class Patient(Record):
    id: uuid.UUID
    user_id: Optional[uuid.UUID]
    given_name: str
    family_name: str
    date_of_birth: _dt.date
    sex: str
    phone: Optional[str]
    address: Optional[str]
    emergency_contact: Optional[Record]
    created_at: _dt.datetime

class Doctor(Record):
    id: uuid.UUID
    given_name: str
    family_name: str
    specialty: str
    licence_number: str

class CareRelationship(Record):
    doctor_id: uuid.UUID
    patient_id: uuid.UUID
    granted_by: uuid.UUID
    granted_at: _dt.datetime
    revoked_at: Optional[_dt.datetime]
    consultation_id: Optional[uuid.UUID]
    ends_at: Optional[_dt.datetime]

class MedicalEntry(Record):
    id: uuid.UUID
    patient_id: uuid.UUID
    effective_at: _dt.datetime
    recorded_at: _dt.datetime
    author_id: uuid.UUID
    self_reported: bool
    details: Record
    consultation_id: Optional[uuid.UUID]

class Prediction(Record):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: str
    created_at: _dt.datetime
    requested_by: uuid.UUID
    model_name: str
    model_version: str
    inputs: List[Record]
    output: Record
    review: Optional[Record]
    consultation_id: Optional[uuid.UUID]

class InteractionReport(Record):
    edition: str
    drugs: List[Record]
    unknown: List[Record]
    pairs: List[Record]

class RiskPrediction(Record):
    probability: float
    band: str
    top_factors: List[Record]
    explanation_method: str
    missing: List[str]
    warnings: List[str]
    inputs: List[Record]

class ApiKey(Record):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    created_by: Optional[uuid.UUID]
    created_at: _dt.datetime
    expires_at: Optional[_dt.datetime]
    revoked_at: Optional[_dt.datetime]

class IssuedApiKey(Record):
    key: ApiKey
    secret: str

def check_interactions(drugs: Sequence[str]) -> InteractionReport: ...

class RiskModel:
    def __init__(self, native: Any) -> None: ...
    @classmethod
    def load(cls, kind: str) -> RiskModel: ...
    @property
    def kind(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def statement(self) -> Record: ...
    @property
    def inputs(self) -> List[Record]: ...
    def predict(self, inputs: Mapping[str, float]) -> RiskPrediction: ...

class Session:
    def __init__(self, native: Any) -> None: ...
    def me(self) -> Account: ...
    def logout(self) -> None: ...
    def register_patient(
        self,
        *,
        given_name: str,
        family_name: str,
        date_of_birth: _dt.date,
        sex: str,
        email: Optional[str] = None,
        password: Optional[str] = None,
        phone: Optional[str] = None,
        address: Optional[str] = None,
        emergency_contact: Optional[Mapping[str, str]] = None,
    ) -> Patient: ...
    def get_patient(self, patient_id: uuid.UUID) -> Patient: ...
    def care_team(self, patient_id: uuid.UUID) -> List[CareRelationship]: ...
    def grant_care(self, patient_id: uuid.UUID, doctor_id: uuid.UUID) -> CareRelationship: ...
    def revoke_care(self, patient_id: uuid.UUID, doctor_id: uuid.UUID) -> None: ...
    def register_doctor(
        self,
        *,
        email: str,
        password: str,
        given_name: str,
        family_name: str,
        specialty: str,
        licence_number: str,
        phone: Optional[str] = None,
        contact_email: Optional[str] = None,
    ) -> Doctor: ...
    def get_doctor(self, doctor_id: uuid.UUID) -> Doctor: ...
    def add_entry(
        self,
        patient_id: uuid.UUID,
        entry: Mapping[str, Any],
        *,
        effective_at: Optional[_dt.datetime] = None,
        consultation_id: Optional[uuid.UUID] = None,
    ) -> MedicalEntry: ...
    def predict(
        self,
        patient_id: uuid.UUID,
        kind: str,
        *,
        inputs: Optional[Mapping[str, float]] = None,
        proposed_drug: Optional[str] = None,
    ) -> Prediction: ...
    def check_interactions(self, drugs: Sequence[str]) -> InteractionReport: ...
    def set_account_active(self, user_id: uuid.UUID, active: bool) -> Account: ...
    def create_api_key(
        self, user_id: uuid.UUID, name: str, *, expires_at: Optional[_dt.datetime] = None
    ) -> IssuedApiKey: ...
    def api_keys(self, user_id: uuid.UUID) -> List[ApiKey]: ...
    def revoke_api_key(self, user_id: uuid.UUID, key_id: uuid.UUID) -> None: ...
    def patients(self, name: Optional[str] = None, *, page_size: int = ...) -> Iterator[Patient]: ...
    def doctors(self, specialty: Optional[str] = None, *, page_size: int = ...) -> Iterator[Doctor]: ...
    def entries(
        self,
        patient_id: uuid.UUID,
        kinds: Optional[Sequence[str]] = None,
        from_: Optional[_dt.datetime] = None,
        to: Optional[_dt.datetime] = None,
        *,
        page_size: int = ...,
    ) -> Iterator[MedicalEntry]: ...
    def predictions(
        self, patient_id: uuid.UUID, kind: Optional[str] = None, *, page_size: int = ...
    ) -> Iterator[Prediction]: ...
    def accounts(self, role: Optional[str] = None, *, page_size: int = ...) -> Iterator[Account]: ...

class AsyncSession:
    def __init__(self, native: Any) -> None: ...
    async def me(self) -> Account: ...
    async def logout(self) -> None: ...
    async def register_patient(
        self,
        *,
        given_name: str,
        family_name: str,
        date_of_birth: _dt.date,
        sex: str,
        email: Optional[str] = None,
        password: Optional[str] = None,
        phone: Optional[str] = None,
        address: Optional[str] = None,
        emergency_contact: Optional[Mapping[str, str]] = None,
    ) -> Patient: ...
    async def get_patient(self, patient_id: uuid.UUID) -> Patient: ...
    async def care_team(self, patient_id: uuid.UUID) -> List[CareRelationship]: ...
    async def grant_care(self, patient_id: uuid.UUID, doctor_id: uuid.UUID) -> CareRelationship: ...
    async def revoke_care(self, patient_id: uuid.UUID, doctor_id: uuid.UUID) -> None: ...
    async def register_doctor(
        self,
        *,
        email: str,
        password: str,
        given_name: str,
        family_name: str,
        specialty: str,
        licence_number: str,
        phone: Optional[str] = None,
        contact_email: Optional[str] = None,
    ) -> Doctor: ...
    async def get_doctor(self, doctor_id: uuid.UUID) -> Doctor: ...
    async def add_entry(
        self,
        patient_id: uuid.UUID,
        entry: Mapping[str, Any],
        *,
        effective_at: Optional[_dt.datetime] = None,
        consultation_id: Optional[uuid.UUID] = None,
    ) -> MedicalEntry: ...
    async def predict(
        self,
        patient_id: uuid.UUID,
        kind: str,
        *,
        inputs: Optional[Mapping[str, float]] = None,
        proposed_drug: Optional[str] = None,
    ) -> Prediction: ...
    async def check_interactions(self, drugs: Sequence[str]) -> InteractionReport: ...
    async def set_account_active(self, user_id: uuid.UUID, active: bool) -> Account: ...
    async def create_api_key(
        self, user_id: uuid.UUID, name: str, *, expires_at: Optional[_dt.datetime] = None
    ) -> IssuedApiKey: ...
    async def api_keys(self, user_id: uuid.UUID) -> List[ApiKey]: ...
    async def revoke_api_key(self, user_id: uuid.UUID, key_id: uuid.UUID) -> None: ...
    def patients(self, name: Optional[str] = None, *, page_size: int = ...) -> AsyncIterator[Patient]: ...
    def doctors(self, specialty: Optional[str] = None, *, page_size: int = ...) -> AsyncIterator[Doctor]: ...
    def entries(
        self,
        patient_id: uuid.UUID,
        kinds: Optional[Sequence[str]] = None,
        from_: Optional[_dt.datetime] = None,
        to: Optional[_dt.datetime] = None,
        *,
        page_size: int = ...,
    ) -> AsyncIterator[MedicalEntry]: ...
    def predictions(
        self, patient_id: uuid.UUID, kind: Optional[str] = None, *, page_size: int = ...
    ) -> AsyncIterator[Prediction]: ...
    def accounts(self, role: Optional[str] = None, *, page_size: int = ...) -> AsyncIterator[Account]: ...

class Client:
    def __init__(self, database_url: Optional[str] = None, redis_url: Optional[str] = None) -> None: ...
    @classmethod
    def from_env(cls) -> Client: ...
    def login(self, email: str, password: str) -> Session: ...
    def with_api_key(self, key: str) -> Session: ...
    def create_admin(self, email: str, password: str) -> Account: ...

class AsyncClient:
    def __init__(self, database_url: Optional[str] = None, redis_url: Optional[str] = None) -> None: ...
    @classmethod
    def from_env(cls) -> AsyncClient: ...
    async def login(self, email: str, password: str) -> AsyncSession: ...
    async def with_api_key(self, key: str) -> AsyncSession: ...
