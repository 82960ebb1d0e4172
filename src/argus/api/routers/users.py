"""``/api/v1/users``, ``/api/v1/api-keys``, ``/api/v1/security/policy``: admin only.

Each write passes a typed command and the acting ``Actor`` to the account
service, which checks, writes and appends the audit record.
"""

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
from argus.api.security import Acting, Caller
from argus.ports.paging import MAX_PAGE

__all__ = ["router"]

router = APIRouter(tags=["admin"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

UserId = Annotated[str, Path(min_length=1, max_length=64, description="User id.")]
KeyId = Annotated[str, Path(min_length=1, max_length=64, description="API key id.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]


@router.post("/users", status_code=201, summary="Create a user")
async def create_user(body: UserCreate, actor: Acting, runtime: RuntimeDep) -> UserPublic:
    """A new user with a role and, optionally, a camera scope."""
    return UserPublic.of(await runtime.auth.accounts.create_user(body.command(), actor))


@router.get("/users", summary="List users")
async def list_users(
    who: Caller, runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0
) -> UserList:
    """Users by name."""
    del who
    page = await runtime.auth.accounts.list_users(limit=limit, offset=offset)
    return UserList(
        items=[UserPublic.of(u) for u in page.items], total=page.total, limit=limit, offset=offset
    )


@router.get("/users/{user_id}", summary="Get a user")
async def get_user(user_id: UserId, who: Caller, runtime: RuntimeDep) -> UserPublic:
    """One user."""
    del who
    return UserPublic.of(await runtime.auth.accounts.get_user(user_id))


@router.patch("/users/{user_id}", summary="Change a user")
async def update_user(
    user_id: UserId, body: UserUpdate, actor: Acting, runtime: RuntimeDep
) -> UserPublic:
    """Role, camera scope, disabled, or a new password; the user's sessions end."""
    return UserPublic.of(await runtime.auth.accounts.update_user(user_id, body.command(), actor))


@router.delete("/users/{user_id}", status_code=204, summary="Delete a user")
async def delete_user(user_id: UserId, actor: Acting, runtime: RuntimeDep) -> Response:
    """Delete a user and end its sessions."""
    await runtime.auth.accounts.delete_user(user_id, actor)
    return Response(status_code=204)


@router.post("/users/{user_id}/unlock", summary="Unlock a user")
async def unlock_user(user_id: UserId, actor: Acting, runtime: RuntimeDep) -> UserPublic:
    """Clear a lockout after failed sign-ins."""
    return UserPublic.of(await runtime.auth.accounts.unlock_user(user_id, actor))


@router.post("/users/{user_id}/reset-mfa", summary="Reset a user's MFA")
async def reset_mfa(user_id: UserId, actor: Acting, runtime: RuntimeDep) -> UserPublic:
    """Remove a user's TOTP and recovery codes (lost device); it enrols again."""
    return UserPublic.of(await runtime.auth.accounts.reset_mfa(user_id, actor))


@router.post("/api-keys", status_code=201, summary="Create an API key")
async def create_key(body: ApiKeyCreate, actor: Acting, runtime: RuntimeDep) -> ApiKeyCreated:
    """A key for an edge node or integration; the secret is in this answer only."""
    issued = await runtime.auth.accounts.create_key(body.command(), actor)
    return ApiKeyCreated.of_issued(issued.api_key, issued.key)


@router.get("/api-keys", summary="List API keys")
async def list_keys(
    who: Caller, runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0
) -> ApiKeyList:
    """API keys, newest first, without secrets."""
    del who
    page = await runtime.auth.accounts.list_keys(limit=limit, offset=offset)
    return ApiKeyList(
        items=[ApiKeyPublic.of(k) for k in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.delete("/api-keys/{key_id}", summary="Revoke an API key")
async def revoke_key(key_id: KeyId, actor: Acting, runtime: RuntimeDep) -> ApiKeyPublic:
    """The key stops working at once."""
    return ApiKeyPublic.of(await runtime.auth.accounts.revoke_key(key_id, actor))


@router.get("/security/policy", summary="Get the security policy")
async def get_policy(who: Caller, runtime: RuntimeDep) -> PolicyPublic:
    """Which roles must use MFA."""
    del who
    return PolicyPublic.of(await runtime.auth.accounts.policy())


@router.put("/security/policy", summary="Set the security policy")
async def set_policy(body: PolicyPublic, actor: Acting, runtime: RuntimeDep) -> PolicyPublic:
    """Require MFA per role; users of those roles without MFA must enrol at next sign-in."""
    return PolicyPublic.of(await runtime.auth.accounts.set_policy(body.policy(), actor))
