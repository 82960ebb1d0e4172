"""Request and response bodies of sign-in, users, API keys and the security policy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from argus.api.schemas.common import PartialUpdate, StrictModel, Text, non_nullable
from argus.domain.identity import ApiKey, Permission, Role, SecurityPolicy, User
from argus.services.auth import NewApiKey, NewUser, TokenPair, UserChanges
from argus.services.writes import UNSET

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyList",
    "ApiKeyPublic",
    "MfaConfirm",
    "MfaDisable",
    "MfaEnrolmentPublic",
    "MfaReauth",
    "PasswordChange",
    "PolicyPublic",
    "RecoveryCodes",
    "RefreshRequest",
    "SignOut",
    "TokenResponse",
    "UserCreate",
    "UserList",
    "UserPublic",
    "UserUpdate",
]

Username = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")]
Password = Annotated[Text, Field(min_length=1, max_length=256)]
CameraScope = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=64)]] | None,
    Field(max_length=1000, description="Cameras the account is limited to; null = all."),
]


def _scope(cameras: list[str] | None) -> frozenset[str] | None:
    return None if cameras is None else frozenset(cameras)


class TokenResponse(BaseModel):
    """Tokens of a sign-in (OAuth2 password flow) or a refresh."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str | None = Field(
        description="Exchange at /auth/refresh before the access token expires; single use. "
        "Absent for a restricted sign-in."
    )
    restricted: Literal["password_change", "mfa_enrolment"] | None = Field(
        description="Set when the token only allows changing the password or enrolling MFA."
    )

    @classmethod
    def of(cls, pair: TokenPair) -> Self:
        """The body of a token pair."""
        return cls(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
            restricted=pair.restricted,
        )


class RefreshRequest(StrictModel):
    """A refresh token to exchange or revoke."""

    refresh_token: Annotated[Text, Field(min_length=1, max_length=300)]


class PasswordChange(StrictModel):
    """Change one's own password."""

    current_password: Password
    new_password: Password


class MfaEnrolmentPublic(BaseModel):
    """A TOTP secret being enrolled; confirm with a code from the app."""

    secret: str = Field(description="Base32 secret, for typing into an authenticator app.")
    otpauth_uri: str = Field(description="otpauth:// URI (what the QR code holds).")
    qr_png_base64: str = Field(description="The QR code as a base64 PNG.")
    qr_png_url: str = Field(description="The same QR code as an image resource.")


class MfaConfirm(StrictModel):
    """A current TOTP code."""

    code: Annotated[str, Field(min_length=6, max_length=8, pattern=r"^[0-9 ]+$")]


OneTimeCode = Annotated[
    Text,
    Field(min_length=1, max_length=32, description="A current TOTP code or a recovery code."),
]


class MfaDisable(StrictModel):
    """Turning MFA off needs the password and, while MFA is on, a current code."""

    password: Password
    otp: OneTimeCode | None = None


class MfaReauth(StrictModel):
    """Starting an enrolment while MFA is on needs the password and a current code."""

    password: Password | None = None
    otp: OneTimeCode | None = None


class SignOut(StrictModel):
    """What to sign out; the bearer access token's session ends too."""

    refresh_token: Annotated[Text, Field(min_length=1, max_length=300)] | None = None


class RecoveryCodes(BaseModel):
    """One-time recovery codes (shown once) and, after enrolment, fresh tokens."""

    recovery_codes: list[str]
    tokens: TokenResponse | None = None


class UserPublic(BaseModel):
    """A user, without secrets."""

    id: str
    username: str
    role: Role
    cameras: list[str] | None
    disabled: bool
    mfa_enabled: bool
    must_change_password: bool
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> Self:
        """The public view of ``user``."""
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            cameras=None if user.cameras is None else sorted(user.cameras),
            disabled=user.disabled,
            mfa_enabled=user.mfa_enabled,
            must_change_password=user.must_change_password,
            locked_until=user.locked_until,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserList(BaseModel):
    """A page of users."""

    items: list[UserPublic]
    total: int
    limit: int
    offset: int


class UserCreate(StrictModel):
    """A new user."""

    username: Username
    password: Password
    role: Role
    cameras: CameraScope = None
    must_change_password: bool = False

    def command(self) -> NewUser:
        """The service's command."""
        return NewUser(
            username=self.username,
            password=self.password,
            role=self.role,
            cameras=_scope(self.cameras),
            must_change_password=self.must_change_password,
        )


class UserUpdate(PartialUpdate):
    """Changes to a user; any change ends its sessions."""

    not_null: ClassVar[tuple[str, ...]] = (
        "role",
        "disabled",
        "password",
        "must_change_password",
    )
    model_config = ConfigDict(
        json_schema_extra=non_nullable(("role", "disabled", "password", "must_change_password"))
    )

    role: Role | None = None
    cameras: CameraScope = None
    disabled: bool | None = None
    password: Password | None = None
    must_change_password: bool | None = None

    def command(self) -> UserChanges:
        """The service's command: the fields that were sent (``cameras`` may be null: all)."""
        must_change = self.must_change_password
        return UserChanges(
            role=UNSET if self.role is None else self.role,
            cameras=_scope(self.cameras) if "cameras" in self.model_fields_set else UNSET,
            disabled=UNSET if self.disabled is None else self.disabled,
            password=UNSET if self.password is None else self.password,
            must_change_password=UNSET if must_change is None else must_change,
        )


class ApiKeyPublic(BaseModel):
    """An API key, without its secret."""

    id: str
    name: str
    permissions: list[Permission]
    cameras: list[str] | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> Self:
        """The public view of ``key``."""
        return cls(
            id=key.id,
            name=key.name,
            permissions=sorted(key.permissions),
            cameras=None if key.cameras is None else sorted(key.cameras),
            created_at=key.created_at,
            created_by=key.created_by,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(ApiKeyPublic):
    """A new key: ``key`` is shown this once."""

    key: str = Field(description="Send as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'.")

    @classmethod
    def of_issued(cls, api_key: ApiKey, key: str) -> Self:
        """The public view of a new key with its secret ``key``."""
        return cls(**ApiKeyPublic.of(api_key).model_dump(), key=key)


class ApiKeyList(BaseModel):
    """A page of API keys."""

    items: list[ApiKeyPublic]
    total: int
    limit: int
    offset: int


class ApiKeyCreate(StrictModel):
    """A new API key."""

    name: Annotated[Text, Field(min_length=1, max_length=200)]
    permissions: Annotated[
        list[Literal["view", "operate", "configure", "ingest", "edge"]],
        Field(min_length=1, max_length=5, description="What the key may do (never admin)."),
    ]
    cameras: CameraScope = None

    def command(self) -> NewApiKey:
        """The service's command."""
        return NewApiKey(
            name=self.name, permissions=frozenset(self.permissions), cameras=_scope(self.cameras)
        )


class PolicyPublic(StrictModel):
    """The installation's security policy."""

    mfa_required_roles: Annotated[
        list[Role], Field(max_length=3, description="Roles that must sign in with TOTP.")
    ]

    @classmethod
    def of(cls, policy: SecurityPolicy) -> Self:
        """The public view of ``policy``."""
        return cls(mfa_required_roles=sorted(policy.mfa_required_roles))

    def policy(self) -> SecurityPolicy:
        """The domain policy."""
        return SecurityPolicy(mfa_required_roles=frozenset(self.mfa_required_roles))
