"""MedConnect for Python: the clinical-data core in process.

Decision support needs nothing else installed or running::

    import medconnect
    medconnect.check_interactions(["warfarin", "aspirine", "ibuprofène"])
    medconnect.RiskModel.load("cardiovascular_risk").predict({"age": 61, "sysBP": 150, ...})

With a database, ``Client`` runs the core's own use cases with the core's own
authorisation and audit, as a person (``client.login``) or as a system holding an API key
(``client.with_api_key``); ``AsyncClient`` does the same with awaitables. Results are
frozen records (attributes, ``repr``, ``to_dict()``) with ``uuid.UUID`` ids and
``datetime`` times; lists are iterators that fetch pages as they go. Every failure is a
``MedConnectError`` subclass.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import functools
import re
import uuid
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Mapping, Optional, Sequence

from . import _native
from ._native import (
    Conflict,
    Forbidden,
    InvalidInput,
    MedConnectError,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
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

# --- records ---------------------------------------------------------------------------

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Keys whose strings are times or dates (by the core's naming); anything else stays text.
_TIME_KEYS = re.compile(r"(^|_)(at|for|until|start|end|onset|date_of_birth)$")


def _is_id_key(key: str) -> bool:
    return key == "id" or key.endswith("_id") or key.endswith("_by")


def _parse_datetime(text: str) -> Optional[_dt.datetime]:
    match = _DATETIME.match(text)
    if not match:
        return None
    base, fraction, zone = match.groups()
    micros = (fraction or ".0")[1:7].ljust(6, "0")
    offset = "+00:00" if zone == "Z" else zone
    return _dt.datetime.fromisoformat(f"{base}.{micros}{offset}")


def _value(key: str, value: Any) -> Any:
    """A value of the core's JSON as Python: ids as UUID, times as datetime, dates as
    date, objects as records."""
    if isinstance(value, dict):
        return Record._of(_camel(key), value)
    if isinstance(value, list):
        return [_value(key, v) for v in value]
    if isinstance(value, str):
        if _is_id_key(key) and _UUID.match(value):
            return uuid.UUID(value)
        if _TIME_KEYS.search(key):
            if _DATE.match(value):
                return _dt.date.fromisoformat(value)
            parsed = _parse_datetime(value)
            if parsed is not None:
                return parsed
    return value


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_")) or "Record"


class Record:
    """A frozen result: attributes, a readable ``repr``, ``to_dict()``, equality by value.

    Fields come from the core's own types (one definition, in Rust), converted to
    Python values: ``uuid.UUID`` ids, ``datetime.datetime`` times, ``datetime.date``
    dates, nested records and lists. A field is converted when it is first read, so a
    large answer costs only what is used of it.
    """

    __slots__ = ("_raw", "_converted")
    _raw: Dict[str, Any]
    _converted: Dict[str, Any]

    def __init__(self, fields: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_raw", dict(fields))
        object.__setattr__(self, "_converted", {})

    @classmethod
    def _of(cls, kind: str, fields: Dict[str, Any]) -> "Record":
        record_type = _KINDS.get(kind, Record)
        record = object.__new__(record_type)
        object.__setattr__(record, "_raw", fields)
        object.__setattr__(record, "_converted", {})
        return record

    def __getattr__(self, name: str) -> Any:
        converted = self._converted
        if name in converted:
            return converted[name]
        try:
            raw = self._raw[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None
        value = converted[name] = _value(name, raw)
        return value

    @property
    def _fields(self) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in self._raw}

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._raw))

    def __repr__(self) -> str:
        # The id first, where there is one: it is what a reader looks for.
        keys = sorted(self._raw, key=lambda k: (k != "id", k))
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in keys)
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._raw == self._raw  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> Dict[str, Any]:
        """The fields as a plain dict (nested records too), with the Python values."""
        return {k: _plain(v) for k, v in self._fields.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Account(Record):
    """An account: ``id``, ``email``, ``role``, ``active``, ``patient_id``, times."""

    __slots__ = ()


class Patient(Record):
    """A patient's profile."""

    __slots__ = ()


class Doctor(Record):
    """A doctor of the directory."""

    __slots__ = ()


class CareRelationship(Record):
    """A doctor's care of a patient: ongoing, or time-limited through a consultation."""

    __slots__ = ()


class MedicalEntry(Record):
    """An entry of a record; ``details`` holds the typed content (``details.kind``...)."""

    __slots__ = ()


class Prediction(Record):
    """A stored prediction with its inputs (each traced to where it came from) and output."""

    __slots__ = ()


class InteractionReport(Record):
    """Every interacting pair among the drugs checked, most severe first."""

    __slots__ = ()


class RiskPrediction(Record):
    """A risk model's answer: ``probability``, ``band``, ``top_factors``,
    ``explanation_method``, ``missing`` and the ``inputs`` used."""

    __slots__ = ()


class ApiKey(Record):
    """An API key, without its secret."""

    __slots__ = ()


class IssuedApiKey(Record):
    """A key just issued: ``key`` (the ``ApiKey``) and ``secret``, shown this once."""

    __slots__ = ()


_KINDS: Dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Account,
        Patient,
        Doctor,
        CareRelationship,
        MedicalEntry,
        Prediction,
        InteractionReport,
        RiskPrediction,
        ApiKey,
        IssuedApiKey,
    )
}
# Nested objects named by their key.
_KINDS["Key"] = ApiKey


def _as(kind: str) -> Callable[[Any], Any]:
    def wrap(value: Any) -> Any:
        if isinstance(value, list):
            return [Record._of(kind, v) for v in value]
        return Record._of(kind, value)

    return wrap


def _none(_: Any) -> None:
    return None


def _encode(value: Any) -> Any:
    """Arguments as the core reads them: ids and times as text."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise InvalidInput("times must carry a time zone (for example datetime.timezone.utc)")
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


# --- decision support without a database ------------------------------------------------


def check_interactions(drugs: Sequence[str]) -> InteractionReport:
    """Every interacting pair among ``drugs`` (French or English names, RxNorm ids,
    classes), most severe first, with unknown names and their suggestions."""
    return Record._of("InteractionReport", _native.check_interactions(list(drugs)))  # type: ignore[return-value]


class RiskModel:
    """One of the shipped risk models (``cardiovascular_risk``, ``diabetes_risk``,
    ``heart_failure_mortality``); its card says its outcome, horizon and population."""

    __slots__ = ("_native", "_description")

    def __init__(self, native: Any) -> None:
        self._native = native
        self._description = native.describe()

    @classmethod
    def load(cls, kind: str) -> "RiskModel":
        return cls(_native.NativeRiskModel.load(kind))

    @property
    def kind(self) -> str:
        return str(self._description["kind"])

    @property
    def name(self) -> str:
        return str(self._description["name"])

    @property
    def version(self) -> str:
        return str(self._description["version"])

    @property
    def statement(self) -> Record:
        """What the model predicts: ``outcome``, ``horizon``, ``population``, ``limits``,
        ``card``, ``band_cutoffs`` and ``band_source``, the cohort's ``age_range``."""
        return Record(self._description["statement"])

    @property
    def inputs(self) -> List[Record]:
        """The model's inputs: ``name``, ``description``, ``unit``, ``required``."""
        return [Record(i) for i in self._description["inputs"]]

    def predict(self, inputs: Mapping[str, float]) -> RiskPrediction:
        """Probability, band and explanation from the inputs (name → value): inputs are
        checked as the core checks them; a required one missing is ``InvalidInput``."""
        answer = self._native.predict([(str(k), float(v)) for k, v in inputs.items()])
        fields = dict(answer["result"])
        fields["inputs"] = answer["inputs"]
        return Record._of("RiskPrediction", fields)  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"RiskModel(kind={self.kind!r}, name={self.name!r}, version={self.version!r})"


# --- acting on the records --------------------------------------------------------------

PAGE_SIZE = 50


class _Operations:
    """Every use case once: each says which core operation it runs, with which arguments,
    and what it answers. ``Session`` runs them now; ``AsyncSession`` awaits them."""

    def _do(self, op: str, args: Mapping[str, Any], wrap: Callable[[Any], Any]) -> Any:
        raise NotImplementedError

    def me(self) -> Any:
        """The account acting."""
        return self._do("me", {}, _as("Account"))

    def logout(self) -> Any:
        """Ends a signed-in session (its tokens stop working)."""
        return self._do("logout", {}, _none)

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
    ) -> Any:
        """Registers a patient (doctors and administrators; a doctor gets their care)."""
        args = {
            "given_name": given_name,
            "family_name": family_name,
            "date_of_birth": date_of_birth,
            "sex": sex,
            "email": email,
            "password": password,
            "phone": phone,
            "address": address,
            "emergency_contact": emergency_contact,
        }
        return self._do("register_patient", args, _as("Patient"))

    def get_patient(self, patient_id: uuid.UUID) -> Any:
        return self._do("get_patient", {"patient_id": patient_id}, _as("Patient"))

    def care_team(self, patient_id: uuid.UUID) -> Any:
        return self._do("care_team", {"patient_id": patient_id}, _as("CareRelationship"))

    def grant_care(self, patient_id: uuid.UUID, doctor_id: uuid.UUID) -> Any:
        return self._do("grant_care", {"patient_id": patient_id, "doctor_id": doctor_id}, _as("CareRelationship"))

    def revoke_care(self, patient_id: uuid.UUID, doctor_id: uuid.UUID) -> Any:
        return self._do("revoke_care", {"patient_id": patient_id, "doctor_id": doctor_id}, _none)

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
    ) -> Any:
        """Registers a doctor and their account (administrators)."""
        args = {
            "email": email,
            "password": password,
            "given_name": given_name,
            "family_name": family_name,
            "specialty": specialty,
            "licence_number": licence_number,
            "phone": phone,
            "contact_email": contact_email,
        }
        return self._do("register_doctor", args, _as("Doctor"))

    def get_doctor(self, doctor_id: uuid.UUID) -> Any:
        return self._do("get_doctor", {"doctor_id": doctor_id}, _as("Doctor"))

    def add_entry(
        self,
        patient_id: uuid.UUID,
        entry: Mapping[str, Any],
        *,
        effective_at: Optional[_dt.datetime] = None,
        consultation_id: Optional[uuid.UUID] = None,
    ) -> Any:
        """Adds an entry, typed as over HTTP: ``{"kind": "observation", "code": "8480-6",
        "value": 128, "unit": "mm[Hg]"}``, ``diagnosis``, ``medication``, ``allergy``..."""
        args = {
            "patient_id": patient_id,
            "entry": entry,
            "effective_at": effective_at,
            "consultation_id": consultation_id,
        }
        return self._do("add_entry", args, _as("MedicalEntry"))

    def predict(
        self,
        patient_id: uuid.UUID,
        kind: str,
        *,
        inputs: Optional[Mapping[str, float]] = None,
        proposed_drug: Optional[str] = None,
    ) -> Any:
        """Runs decision support on the record and stores the result (doctors in care)."""
        args = {"patient_id": patient_id, "kind": kind, "inputs": inputs, "proposed_drug": proposed_drug}
        return self._do("predict", args, _as("Prediction"))

    def check_interactions(self, drugs: Sequence[str]) -> Any:
        return self._do("check_interactions", {"drugs": list(drugs)}, _as("InteractionReport"))

    def set_account_active(self, user_id: uuid.UUID, active: bool) -> Any:
        return self._do("set_account_active", {"user_id": user_id, "active": active}, _as("Account"))

    def create_api_key(self, user_id: uuid.UUID, name: str, *, expires_at: Optional[_dt.datetime] = None) -> Any:
        """Issues an API key for an account (administrators); its secret is shown once."""
        args = {"user_id": user_id, "name": name, "expires_at": expires_at}
        return self._do("create_api_key", args, _as("IssuedApiKey"))

    def api_keys(self, user_id: uuid.UUID) -> Any:
        return self._do("list_api_keys", {"user_id": user_id}, _as("ApiKey"))

    def revoke_api_key(self, user_id: uuid.UUID, key_id: uuid.UUID) -> Any:
        return self._do("revoke_api_key", {"user_id": user_id, "key_id": key_id}, _none)


# The paginated lists: (method, operation, record kind, argument names).
_LISTS = (
    ("patients", "list_patients", "Patient", ("name",)),
    ("doctors", "list_doctors", "Doctor", ("specialty",)),
    ("entries", "list_entries", "MedicalEntry", ("patient_id", "kinds", "from_", "to")),
    ("predictions", "list_predictions", "Prediction", ("patient_id", "kind")),
    ("accounts", "list_accounts", "Account", ("role",)),
)


def _list_args(names: Sequence[str], args: Sequence[Any], kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    given = dict(zip(names, args))
    given.update(kwargs)
    unknown = set(given) - set(names) - {"page_size"}
    if unknown:
        raise TypeError(f"unexpected arguments: {', '.join(sorted(unknown))}")
    page_size = given.pop("page_size", PAGE_SIZE)
    out = {("from" if k == "from_" else k): v for k, v in given.items()}
    out["limit"] = page_size
    return out


class Session(_Operations):
    """Someone acting: a person signed in, or a system with an API key. Every call runs
    the core's use case with the core's authorisation, releases the GIL while it waits,
    and may be made from many threads at once."""

    __slots__ = ("_native",)

    def __init__(self, native: Any) -> None:
        self._native = native

    def _do(self, op: str, args: Mapping[str, Any], wrap: Callable[[Any], Any]) -> Any:
        return wrap(self._native.call(op, _encode(args)))

    def _pages(self, op: str, kind: str, args: Dict[str, Any]) -> Iterator[Any]:
        cursor = None
        while True:
            page = self._native.call(op, _encode({**args, "cursor": cursor}))
            for item in page["items"]:
                yield Record._of(kind, item)
            cursor = page.get("next_cursor")
            if not cursor:
                return


class AsyncSession(_Operations):
    """A ``Session`` for asyncio: every method is a coroutine; lists are async iterators."""

    __slots__ = ("_native",)

    def __init__(self, native: Any) -> None:
        self._native = native

    async def _await(self, op: str, args: Mapping[str, Any], wrap: Callable[[Any], Any]) -> Any:
        return wrap(await self._native.call_async(op, _encode(args)))

    def _do(self, op: str, args: Mapping[str, Any], wrap: Callable[[Any], Any]) -> Any:
        return self._await(op, args, wrap)

    async def _pages(self, op: str, kind: str, args: Dict[str, Any]) -> AsyncIterator[Any]:
        cursor = None
        while True:
            page = await self._native.call_async(op, _encode({**args, "cursor": cursor}))
            for item in page["items"]:
                yield Record._of(kind, item)
            cursor = page.get("next_cursor")
            if not cursor:
                return


def _list_method(op: str, kind: str, names: Sequence[str]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._pages(op, kind, _list_args(names, args, kwargs))

    return method


def _coroutine(name: str) -> Callable[..., Any]:
    operation = getattr(_Operations, name)

    @functools.wraps(operation)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await operation(self, *args, **kwargs)

    return method


for _name, _op, _kind, _names in _LISTS:
    for _cls in (Session, AsyncSession):
        setattr(_cls, _name, _list_method(_op, _kind, _names))
for _name in [n for n in vars(_Operations) if not n.startswith("_")]:
    setattr(AsyncSession, _name, _coroutine(_name))


class Client:
    """A connection to a MedConnect deployment's PostgreSQL (and Redis): migrations are
    applied, and the keys (``MEDCONNECT_JWT_SECRET``, ``MEDCONNECT_AUDIT_KEY``) and other
    settings are read from the environment as the server reads them."""

    __slots__ = ("_native",)

    def __init__(self, database_url: Optional[str] = None, redis_url: Optional[str] = None) -> None:
        self._native = _native.NativeClient(database_url, redis_url)

    @classmethod
    def from_env(cls) -> "Client":
        """Everything from the environment (``DATABASE_URL``, ``REDIS_URL``...)."""
        return cls()

    def login(self, email: str, password: str) -> Session:
        """Signs in: the session acts as that person (and refreshes its token)."""
        return Session(self._native.login(email, password))

    def with_api_key(self, key: str) -> Session:
        """Acts as the account of an API key, checked again on every call."""
        return Session(self._native.with_api_key(key))

    def create_admin(self, email: str, password: str) -> Account:
        """Creates an administrator (whoever holds the database URL controls it anyway)."""
        return Record._of("Account", self._native.create_admin(email, password))  # type: ignore[return-value]


class AsyncClient:
    """``Client`` for asyncio services (FastAPI...): sign-ins and sessions are awaitable."""

    __slots__ = ("_native",)

    def __init__(self, database_url: Optional[str] = None, redis_url: Optional[str] = None) -> None:
        self._native = _native.NativeClient(database_url, redis_url)

    @classmethod
    def from_env(cls) -> "AsyncClient":
        return cls()

    async def login(self, email: str, password: str) -> AsyncSession:
        native = await asyncio.get_running_loop().run_in_executor(None, self._native.login, email, password)
        return AsyncSession(native)

    async def with_api_key(self, key: str) -> AsyncSession:
        native = await asyncio.get_running_loop().run_in_executor(None, self._native.with_api_key, key)
        return AsyncSession(native)
