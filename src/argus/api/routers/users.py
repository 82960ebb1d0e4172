"""``/api/v1/users``, ``/api/v1/api-keys``, ``/api/v1/security/policy``: admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.auth import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    PolicyPublic,
    UserCreate,
    UserList,
    UserPublic,
    UserUpdate,
)
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES
from argus.api.security import Caller
from argus.domain.identity import SecurityPolicy
from argus.ports.repositories import MAX_PAGE

__all__ = ["router"]

router = APIRouter(tags=["admin"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

UserId = Annotated[str, Path(min_length=1, max_length=64, description="User id.")]
KeyId = Annotated[str, Path(min_length=1, max_length=64, description="API key id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


def _scope(cameras: list[str] | None) -> frozenset[str] | None:
    return None if cameras is None else frozenset(cameras)


@router.post("/users", status_code=201, summary="Create a user")
async def create_user(body: UserCreate, who: Caller, runtime: RuntimeDep) -> UserPublic:
    """A new user with a role and, optionally, a camera scope."""
    user = await runtime.auth.create_user(
        who,
        username=body.username,
        password=body.password,
        role=body.role,
        cameras=_scope(body.cameras),
        must_change_password=body.must_change_password,
    )
    return UserPublic.of(user)


@router.get("/users", summary="List users")
async def list_users(
    who: Caller, runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0
) -> UserList:
    """Users by name."""
    del who
    page = await runtime.auth.list_users(limit=limit, offset=offset)
    return UserList(
        items=[UserPublic.of(u) for u in page.items], total=page.total, limit=limit, offset=offset
    )


@router.get("/users/{user_id}", summary="Get a user")
async def get_user(user_id: UserId, who: Caller, runtime: RuntimeDep) -> UserPublic:
    """One user."""
    del who
    return UserPublic.of(await runtime.auth.get_user(user_id))


@router.patch("/users/{user_id}", summary="Change a user")
async def update_user(
    user_id: UserId, body: UserUpdate, who: Caller, runtime: RuntimeDep
) -> UserPublic:
    """Role, camera scope, disabled, or a new password; the user's sessions end."""
    changes = body.changes()
    if "cameras" in changes:
        changes["cameras"] = _scope(changes["cameras"])
    return UserPublic.of(await runtime.auth.update_user(who, user_id, changes))


@router.delete("/users/{user_id}", status_code=204, summary="Delete a user")
async def delete_user(user_id: UserId, who: Caller, runtime: RuntimeDep) -> Response:
    """Delete a user and end its sessions."""
    await runtime.auth.delete_user(who, user_id)
    return Response(status_code=204)


@router.post("/users/{user_id}/unlock", summary="Unlock a user")
async def unlock_user(user_id: UserId, who: Caller, runtime: RuntimeDep) -> UserPublic:
    """Clear a lockout after failed sign-ins."""
    return UserPublic.of(await runtime.auth.unlock_user(who, user_id))


@router.post("/users/{user_id}/reset-mfa", summary="Reset a user's MFA")
async def reset_mfa(user_id: UserId, who: Caller, runtime: RuntimeDep) -> UserPublic:
    """Remove a user's TOTP and recovery codes (lost device); it enrols again."""
    return UserPublic.of(await runtime.auth.reset_mfa(who, user_id))


@router.post("/api-keys", status_code=201, summary="Create an API key")
async def create_key(body: ApiKeyCreate, who: Caller, runtime: RuntimeDep) -> ApiKeyCreated:
    """A key for an edge node or integration; the secret is in this answer only."""
    issued = await runtime.auth.create_key(
        who, name=body.name, permissions=frozenset(body.permissions), cameras=_scope(body.cameras)
    )
    public = ApiKeyPublic.of(issued.api_key)
    return ApiKeyCreated(**public.model_dump(), key=issued.key)


@router.get("/api-keys", summary="List API keys")
async def list_keys(
    who: Caller, runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0
) -> ApiKeyList:
    """API keys, newest first, without secrets."""
    del who
    page = await runtime.auth.list_keys(limit=limit, offset=offset)
    return ApiKeyList(
        items=[ApiKeyPublic.of(k) for k in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.delete("/api-keys/{key_id}", summary="Revoke an API key")
async def revoke_key(key_id: KeyId, who: Caller, runtime: RuntimeDep) -> ApiKeyPublic:
    """The key stops working at once."""
    return ApiKeyPublic.of(await runtime.auth.revoke_key(who, key_id))


@router.get("/security/policy", summary="Get the security policy")
async def get_policy(who: Caller, runtime: RuntimeDep) -> PolicyPublic:
    """Which roles must use MFA."""
    del who
    policy = await runtime.auth.policy()
    return PolicyPublic(mfa_required_roles=sorted(policy.mfa_required_roles))


@router.put("/security/policy", summary="Set the security policy")
async def set_policy(body: PolicyPublic, who: Caller, runtime: RuntimeDep) -> PolicyPublic:
    """Require MFA per role; users of those roles without MFA must enrol at next sign-in."""
    policy = await runtime.auth.set_policy(
        SecurityPolicy(mfa_required_roles=frozenset(body.mfa_required_roles)), who
    )
    return PolicyPublic(mfa_required_roles=sorted(policy.mfa_required_roles))
