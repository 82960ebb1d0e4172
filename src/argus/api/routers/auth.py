"""``/api/v1/auth``: sign-in (OAuth2 password flow + TOTP), refresh, sign-out, own account, MFA.

Every answer that carries tokens, a TOTP secret or recovery codes is sent
with ``Cache-Control: no-store``, so no browser or proxy cache keeps it.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Body, Form, Request, Response

from argus.api.deps import RuntimeDep
from argus.api.schemas.auth import (
    MfaConfirm,
    MfaDisable,
    MfaEnrolmentPublic,
    MfaReauth,
    PasswordChange,
    RecoveryCodes,
    RefreshRequest,
    SignOut,
    TokenResponse,
    UserPublic,
)
from argus.api.schemas.common import AUTH_RESPONSES, ERROR_RESPONSES, ErrorBody
from argus.api.security import Account, AccountHolder, client_ip

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["auth"], responses={**ERROR_RESPONSES, **AUTH_RESPONSES})

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""Headers of an answer holding secrets (RFC 6749 section 5.1)."""


def _no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token and not token.startswith("ak_") else None


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
    response: Response,
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
    _no_store(response)
    pair = await runtime.auth.sessions.login(username, password, otp, ip=client_ip(request))
    return TokenResponse.of(pair)


@router.post("/refresh", summary="Refresh tokens", responses=_SIGN_IN_RESPONSES)
async def refresh(
    request: Request, response: Response, body: RefreshRequest, runtime: RuntimeDep
) -> TokenResponse:
    """Exchange a refresh token for new tokens; reusing an old one ends the session."""
    _no_store(response)
    return TokenResponse.of(
        await runtime.auth.sessions.refresh(body.refresh_token, ip=client_ip(request))
    )


@router.post("/logout", status_code=204, summary="Sign out")
async def logout(
    request: Request, runtime: RuntimeDep, body: Annotated[SignOut | None, Body()] = None
) -> Response:
    """End the session of the bearer access token and of ``refresh_token``, on every server.

    Either is enough; unknown or invalid ones are ignored (signing out is
    idempotent). The session's access tokens are refused at once, and its
    open sockets and video streams close.
    """
    await runtime.auth.sessions.logout(
        body.refresh_token if body is not None else None,
        access_token=_bearer_token(request),
        ip=client_ip(request),
    )
    return Response(status_code=204)


@router.get("/me", summary="Who am I")
async def me(who: AccountHolder, runtime: RuntimeDep) -> UserPublic:
    """The signed-in user (API keys have no account: 403)."""
    return UserPublic.of(await runtime.auth.accounts.me(who))


@router.post("/password", summary="Change my password")
async def change_password(
    request: Request,
    response: Response,
    body: PasswordChange,
    who: AccountHolder,
    runtime: RuntimeDep,
) -> TokenResponse:
    """Change one's own password; other sessions end and new tokens are returned."""
    _no_store(response)
    pair = await runtime.auth.sessions.change_password(
        who, body.current_password, body.new_password, ip=client_ip(request)
    )
    return TokenResponse.of(pair)


@router.post("/mfa/enrol", summary="Start MFA enrolment")
async def mfa_enrol(
    request: Request,
    response: Response,
    who: AccountHolder,
    runtime: RuntimeDep,
    body: Annotated[MfaReauth | None, Body()] = None,
) -> MfaEnrolmentPublic:
    """A new TOTP secret with its otpauth URI and QR code; confirm it with a code.

    While MFA is on, replacing the secret needs ``password`` and ``otp`` (a
    current code or a recovery code).
    """
    _no_store(response)
    reauth = body if body is not None else MfaReauth()
    enrolment = await runtime.auth.mfa.begin(
        who, password=reauth.password, otp=reauth.otp, ip=client_ip(request)
    )
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
    png = await runtime.auth.mfa.qr(who)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/mfa/confirm", summary="Confirm MFA enrolment")
async def mfa_confirm(
    request: Request, response: Response, body: MfaConfirm, who: AccountHolder, runtime: RuntimeDep
) -> RecoveryCodes:
    """Activate MFA with a current code; returns recovery codes (once) and new tokens."""
    _no_store(response)
    codes, pair = await runtime.auth.mfa.confirm(who, body.code, ip=client_ip(request))
    return RecoveryCodes(recovery_codes=codes, tokens=TokenResponse.of(pair))


@router.post("/mfa/disable", status_code=204, summary="Turn MFA off")
async def mfa_disable(
    request: Request, body: MfaDisable, who: Account, runtime: RuntimeDep
) -> Response:
    """Turn one's own MFA off with the password and a current or recovery code.

    Refused when the policy requires MFA for the role.
    """
    await runtime.auth.mfa.disable(who, body.password, body.otp, ip=client_ip(request))
    return Response(status_code=204)


@router.post("/mfa/recovery-codes", summary="New recovery codes")
async def recovery_codes(
    request: Request,
    response: Response,
    who: Account,
    runtime: RuntimeDep,
    body: Annotated[MfaReauth | None, Body()] = None,
) -> RecoveryCodes:
    """Replace the recovery codes (the old ones stop working); needs ``password`` and ``otp``."""
    _no_store(response)
    reauth = body if body is not None else MfaReauth()
    codes = await runtime.auth.mfa.regenerate_recovery_codes(
        who, password=reauth.password, otp=reauth.otp, ip=client_ip(request)
    )
    return RecoveryCodes(recovery_codes=codes)
