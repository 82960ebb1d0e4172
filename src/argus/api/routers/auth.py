"""``/api/v1/auth``: sign-in (OAuth2 password flow + TOTP), refresh, sign-out, own account, MFA."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.auth import (
    MfaConfirm,
    MfaDisable,
    MfaEnrolmentPublic,
    PasswordChange,
    RecoveryCodes,
    RefreshRequest,
    TokenResponse,
    UserPublic,
)
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.security import Account, AccountHolder, client_ip

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

_SIGN_IN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {
        "model": ErrorBody,
        "description": "Wrong credentials; code 'mfa_required' when a TOTP code is needed.",
    },
    429: {"model": ErrorBody, "description": "Too many attempts, or the account is locked."},
}


@router.post("/token", summary="Sign in", responses=_SIGN_IN_RESPONSES)
async def sign_in(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    otp: Annotated[
        str | None,
        Form(min_length=1, max_length=32, description="TOTP or recovery code (accounts with MFA)."),
    ] = None,
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenResponse:
    """OAuth2 password flow, with the TOTP (or a recovery code) in ``otp`` when MFA is on."""
    del grant_type  # only "password" is accepted
    pair = await runtime.auth.login(username, password, otp, ip=client_ip(request))
    return TokenResponse.of(pair)


@router.post("/refresh", summary="Refresh tokens", responses=_SIGN_IN_RESPONSES)
async def refresh(request: Request, body: RefreshRequest, runtime: RuntimeDep) -> TokenResponse:
    """Exchange a refresh token for new tokens; reusing an old one ends the session."""
    return TokenResponse.of(await runtime.auth.refresh(body.refresh_token, ip=client_ip(request)))


@router.post("/logout", status_code=204, summary="Sign out")
async def logout(request: Request, body: RefreshRequest, runtime: RuntimeDep) -> Response:
    """Revoke the session of a refresh token (an unknown token is ignored)."""
    await runtime.auth.logout(body.refresh_token, ip=client_ip(request))
    return Response(status_code=204)


@router.get("/me", summary="Who am I")
async def me(who: AccountHolder, runtime: RuntimeDep) -> UserPublic:
    """The signed-in user (API keys have no account: 403)."""
    return UserPublic.of(await runtime.auth.me(who))


@router.post("/password", summary="Change my password")
async def change_password(
    request: Request, body: PasswordChange, who: AccountHolder, runtime: RuntimeDep
) -> TokenResponse:
    """Change one's own password; other sessions end and new tokens are returned."""
    pair = await runtime.auth.change_password(
        who, body.current_password, body.new_password, ip=client_ip(request)
    )
    return TokenResponse.of(pair)


@router.post("/mfa/enrol", summary="Start MFA enrolment")
async def mfa_enrol(who: AccountHolder, runtime: RuntimeDep) -> MfaEnrolmentPublic:
    """A new TOTP secret with its otpauth URI and QR code; confirm it with a code."""
    enrolment = await runtime.auth.mfa_begin(who)
    return MfaEnrolmentPublic(
        secret=enrolment.secret,
        otpauth_uri=enrolment.uri,
        qr_png_base64=base64.b64encode(enrolment.qr_png).decode(),
        qr_png_url="/api/v1/auth/mfa/qr.png",
    )


@router.get(
    "/mfa/qr.png",
    summary="QR code of the MFA enrolment",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The QR code."}},
)
async def mfa_qr(who: AccountHolder, runtime: RuntimeDep) -> Response:
    """The enrolment's QR code as a PNG (409 when none was started)."""
    png = await runtime.auth.mfa_qr(who)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/mfa/confirm", summary="Confirm MFA enrolment")
async def mfa_confirm(
    request: Request, body: MfaConfirm, who: AccountHolder, runtime: RuntimeDep
) -> RecoveryCodes:
    """Activate MFA with a current code; returns recovery codes (once) and new tokens."""
    codes, pair = await runtime.auth.mfa_confirm(who, body.code, ip=client_ip(request))
    return RecoveryCodes(recovery_codes=codes, tokens=TokenResponse.of(pair))


@router.post("/mfa/disable", status_code=204, summary="Turn MFA off")
async def mfa_disable(
    request: Request, body: MfaDisable, who: Account, runtime: RuntimeDep
) -> Response:
    """Turn one's own MFA off (refused when the policy requires it for the role)."""
    await runtime.auth.mfa_disable(who, body.password, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/mfa/recovery-codes", summary="New recovery codes")
async def recovery_codes(who: Account, runtime: RuntimeDep) -> RecoveryCodes:
    """Replace the recovery codes (the old ones stop working)."""
    return RecoveryCodes(recovery_codes=await runtime.auth.regenerate_recovery_codes(who))
