"""Settings of the hardening work: trusted proxies and the metrics scrape token."""

from __future__ import annotations

import pydantic
import pytest
from pydantic import SecretStr

from argus.config import Settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("127.0.0.1", ["127.0.0.1"]),
        (" 10.0.0.0/8 , ::1 ", ["10.0.0.0/8", "::1"]),
    ],
    ids=["empty-trusts-none", "one-address", "networks-and-spaces"],
)
def test_trusted_proxies_parse(value: str, expected: list[str]) -> None:
    assert Settings(trusted_proxies=value).trusted_proxy_list == expected


def test_no_proxy_is_trusted_by_default() -> None:
    assert Settings().trusted_proxy_list == []


@pytest.mark.parametrize(
    "value",
    ["*", "proxy.example.net", "10.0.0.0/33", "300.1.1.1"],
    ids=["wildcard", "host-name", "bad-prefix", "bad-address"],
)
def test_trusted_proxies_refuse_anything_but_addresses(value: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings(trusted_proxies=value)


@pytest.mark.parametrize(
    "token", ["short", "x" * 20, "<metrics-token-here>"], ids=["short", "one-character", "template"]
)
def test_a_weak_metrics_token_is_refused(token: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        Settings(metrics_token=SecretStr(token))
