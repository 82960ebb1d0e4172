"""``WorkstationPolicyService``: the decision thresholds and phone rules, editable at runtime.

The policy is a document in the installation settings under
``WORKSTATION_POLICY_KEY``: ``{"verification": {...}, "phone": {...}}`` with
only the fields an administrator set. Every other field takes its default,
the ``ARGUS_WORKSTATION_*`` settings the hub was started with (or the domain's
default where no setting exists), so a default changed later still reaches the
fields nobody set. A write is validated, stored and audited
(``workstation.policy.update``, with the policy before and after, and as
``relaxed`` the fields changed to let more through: a weakened check stands out)
in one unit of work, then applied to this server's hub at once. Every hub keeps a
:class:`LivePolicy`: it reads the stored document before the hub's first
session (a stored policy wins over the settings from the start) and again on
every status interval (a change made through another server).

Editable: every :class:`VerificationPolicy` field and the numeric
:class:`PhoneRules` fields. The phone and person class names stay as the
settings give them: they name classes of the detector's vocabulary, and a typo
there would silently turn the phone check off.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from argus.domain.actor import Actor
from argus.domain.cameras import utc_now
from argus.domain.errors import ArgusError, ValidationError
from argus.domain.phone import PhoneRules
from argus.domain.verification import VerificationPolicy
from argus.ports.identity import SettingsStore
from argus.ports.repositories import Database
from argus.services.writes import record

__all__ = [
    "PHONE_FIELDS",
    "VERIFICATION_FIELDS",
    "WORKSTATION_POLICY_KEY",
    "LivePolicy",
    "Source",
    "WorkstationPolicy",
    "WorkstationPolicyService",
    "load_policy",
    "resolve_policy",
]

log = logging.getLogger(__name__)

WORKSTATION_POLICY_KEY = "workstation_policy"
"""The settings key of the stored document."""

VERIFICATION_FIELDS: tuple[str, ...] = (
    "match_threshold",
    "liveness_threshold",
    "no_face_seconds",
    "wrong_user_frames",
    "spoof_windows",
    "violations_to_block",
    "violation_seconds",
)
"""The editable :class:`VerificationPolicy` fields."""

PHONE_FIELDS: tuple[str, ...] = ("min_confidence", "face_reach", "window", "min_hits")
"""The editable :class:`PhoneRules` fields."""

_GROUPS: dict[str, tuple[str, ...]] = {"verification": VERIFICATION_FIELDS, "phone": PHONE_FIELDS}
_COUNTS = frozenset(
    {"wrong_user_frames", "spoof_windows", "violations_to_block", "window", "min_hits"}
)

_LIMITS: dict[str, tuple[float, float, bool]] = {
    "match_threshold": (0.0, 2.0, False),
    "liveness_threshold": (0.0, 1.0, False),
    "no_face_seconds": (0.0, 3600.0, True),
    "wrong_user_frames": (1, 1000, True),
    "spoof_windows": (1, 1000, True),
    "violations_to_block": (1, 1000, True),
    "violation_seconds": (0.0, 86_400.0, False),
    "min_confidence": (0.0, 1.0, True),
    "face_reach": (0.0, 20.0, False),
    "window": (1, 100, True),
    "min_hits": (1, 100, True),
}
"""Each field's bounds ``(low, high, low included)``, the API's: a stored document is held
to them too, so a document written past the API (by hand, in the database) cannot put a
threshold in force that the API refuses."""

_LOOSER: dict[str, int] = {
    "match_threshold": 1,
    "liveness_threshold": -1,
    "no_face_seconds": 1,
    "wrong_user_frames": 1,
    "spoof_windows": 1,
    "violations_to_block": 1,
    "violation_seconds": -1,
    "min_confidence": 1,
    "face_reach": -1,
    "min_hits": 1,
}
"""The direction (+1 up, -1 down) in which each field lets more through (``window`` is
either way)."""

Source = Literal["stored", "default"]
"""Where a value in force came from."""


@dataclass(frozen=True, slots=True)
class WorkstationPolicy:
    """The policy in force and where each value came from.

    Attributes:
        verification: The decision chart's thresholds.
        phone: When a phone counts as aimed at the screen.
        stored: The stored document: ``{"verification": {...}, "phone": {...}}``, only
            the fields an administrator set.
        defaults: The settings' policy and phone rules (what unset fields take).
    """

    verification: VerificationPolicy
    phone: PhoneRules
    stored: Mapping[str, Mapping[str, float | int]]
    defaults: tuple[VerificationPolicy, PhoneRules]

    def values(self) -> dict[str, dict[str, float | int]]:
        """The editable values in force, by group and field."""
        return _values(self.verification, self.phone)

    def default_values(self) -> dict[str, dict[str, float | int]]:
        """The editable values of the defaults, by group and field."""
        return _values(*self.defaults)

    def sources(self) -> dict[str, dict[str, Source]]:
        """``stored`` or ``default`` for each editable value, by group and field."""
        return {
            group: {
                name: "stored" if name in self.stored.get(group, {}) else "default"
                for name in names
            }
            for group, names in _GROUPS.items()
        }


def _values(policy: VerificationPolicy, phone: PhoneRules) -> dict[str, dict[str, float | int]]:
    of: dict[str, object] = {"verification": policy, "phone": phone}
    return {
        group: {name: getattr(of[group], name) for name in names}
        for group, names in _GROUPS.items()
    }


def _checked(group: str, name: str, value: object) -> float | int:
    """``value`` as the field's type (a count is an integer, anything else a finite number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{group}.{name} must be a number, not {value!r}")
    if name in _COUNTS:
        if isinstance(value, float) and not value.is_integer():
            raise ValidationError(f"{group}.{name} must be a whole number, not {value!r}")
        number: float | int = int(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"{group}.{name} must be a finite number")
    else:
        try:
            number = float(value)
        except OverflowError:  # an int past any float
            raise ValidationError(f"{group}.{name} is out of range") from None
    return number


def _bounded(group: str, name: str, value: float | int) -> None:
    """Refuse ``value`` outside the field's bounds (``_LIMITS``)."""
    low, high, closed = _LIMITS[name]
    if not (low <= value if closed else low < value) or value > high:
        span = f"{'[' if closed else '('}{low:g}, {high:g}]"
        raise ValidationError(f"{group}.{name} must lie in {span}, not {value!r}")


def _relaxed(
    before: Mapping[str, Mapping[str, float | int]], after: Mapping[str, Mapping[str, float | int]]
) -> list[str]:
    """``group.field`` of each value that lets more through than it did (see ``_LOOSER``)."""
    return [
        f"{group}.{name}"
        for group, names in _GROUPS.items()
        for name in names
        if _LOOSER.get(name, 0) * (after[group][name] - before[group][name]) > 0
    ]


def _document(document: Mapping[str, Any]) -> dict[str, dict[str, float | int]]:
    """The document's groups and fields, checked by name and type (not yet by range)."""
    if not isinstance(document, Mapping):
        raise ValidationError(
            f"a policy must be an object of groups, not {type(document).__name__}"
        )
    unknown = sorted(map(str, set(document) - set(_GROUPS)))
    if unknown:
        raise ValidationError(f"unknown policy group(s): {', '.join(unknown)}")
    out: dict[str, dict[str, float | int]] = {}
    for group, names in _GROUPS.items():
        given = document.get(group)
        given = {} if given is None else given
        if not isinstance(given, Mapping):
            raise ValidationError(f"{group} must be an object of fields")
        extra = sorted(set(given) - set(names))
        if extra:
            raise ValidationError(
                f"{group}: unknown field(s) {', '.join(map(str, extra))}; "
                f"editable: {', '.join(names)}"
            )
        out[group] = {name: _checked(group, name, value) for name, value in given.items()}
    return out


def resolve_policy(
    document: Mapping[str, Any] | None, defaults: tuple[VerificationPolicy, PhoneRules]
) -> WorkstationPolicy:
    """The policy ``document`` sets over ``defaults`` (``None``: the defaults).

    Raises:
        ValidationError: An unknown field, a value of the wrong type, or a policy the
            domain refuses (a threshold out of range, more phone hits than frames).
    """
    stored = _document(document or {})
    given: dict[str, dict[str, Any]] = {group: dict(fields) for group, fields in stored.items()}
    try:
        verification = dataclasses.replace(defaults[0], **given["verification"])
        phone = dataclasses.replace(defaults[1], **given["phone"])
    except TypeError as exc:  # a field the dataclass does not have (checked above)
        raise ValidationError(str(exc)) from exc
    for group, fields in stored.items():
        for name, value in fields.items():
            _bounded(group, name, value)
    return WorkstationPolicy(verification, phone, stored, defaults)


async def load_policy(
    settings: SettingsStore, defaults: tuple[VerificationPolicy, PhoneRules]
) -> WorkstationPolicy:
    """The stored policy over ``defaults``.

    Raises:
        ValidationError: The stored document no longer makes a valid policy (the
            defaults changed under it).
    """
    return resolve_policy(await settings.get(WORKSTATION_POLICY_KEY), defaults)


Apply = Callable[[VerificationPolicy, PhoneRules], None]
"""Applies a policy and phone rules to live sessions (``VerifyHub.reconfigure``)."""


class LivePolicy:
    """The policy one hub runs with: the settings' defaults, then the stored document.

    Args:
        settings: Where the document is stored.
        defaults: The settings' policy and phone rules.
        apply: Called with a policy that differs from the one in force.

    Attributes:
        defaults: The settings' policy and phone rules.
        current: The policy and phone rules in force.
    """

    def __init__(
        self,
        settings: SettingsStore,
        defaults: tuple[VerificationPolicy, PhoneRules],
        apply: Apply,
    ) -> None:
        self._settings = settings
        self._apply = apply
        self._read = False
        self.defaults = defaults
        self.current = defaults

    def set(self, policy: VerificationPolicy, phone: PhoneRules) -> None:
        """Put ``policy`` and ``phone`` in force (applied only when they differ)."""
        if (policy, phone) != self.current:
            self.current = (policy, phone)
            self._apply(policy, phone)

    async def reload(self) -> None:
        """Read the stored document and put it in force; a failure keeps the current one."""
        try:
            stored = await load_policy(self._settings, self.defaults)
        except ArgusError:
            log.exception("could not read the stored workstation policy; keeping the current one")
            return
        self._read = True
        self.set(stored.verification, stored.phone)

    async def read_once(self) -> None:
        """``reload`` unless the document was read already (before a hub's first session)."""
        if not self._read:
            await self.reload()


class WorkstationPolicyService:
    """Reads and replaces the stored policy, audited, and applies it (see the module doc).

    Args:
        database: The store (settings, audit).
        live: This server's hub's policy (its defaults; a new policy is put in force there).
        clock: Current UTC time.
    """

    def __init__(
        self,
        database: Database,
        live: LivePolicy,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db = database
        self._live = live
        self._clock = clock

    async def get(self) -> WorkstationPolicy:
        """The policy in force: the stored fields over the defaults."""
        return await load_policy(self._db.settings, self._live.defaults)

    async def update(self, actor: Actor, document: Mapping[str, Any]) -> WorkstationPolicy:
        """Replace the stored policy with ``document`` (fields left out: the defaults).

        The change is audited with the values in force before and after, and applied
        to this server's live sessions.

        Raises:
            ValidationError: The document is invalid (nothing is stored or applied).
        """
        policy = resolve_policy(document, self._live.defaults)
        async with self._db.unit_of_work() as unit:
            # Read in the unit, so that concurrent writers each record the policy they replaced.
            try:
                before: dict[str, Any] = (
                    await load_policy(unit.settings, self._live.defaults)
                ).values()
            except ValidationError:
                before = {"invalid": True}
            after = policy.values()
            stored = {group: dict(fields) for group, fields in policy.stored.items()}
            await unit.settings.put(WORKSTATION_POLICY_KEY, stored, self._clock())
            await record(
                unit.audit,
                actor,
                "workstation.policy.update",
                "settings:workstation_policy",
                before=before,
                after=after,
                stored=stored,
                relaxed=_relaxed(
                    before if "invalid" not in before else policy.default_values(), after
                ),
            )
        self._live.set(policy.verification, policy.phone)
        return policy
