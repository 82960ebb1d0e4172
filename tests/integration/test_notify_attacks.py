"""Attacks on what issue 18's notification channels opened: destinations, mail headers, templates.

Each test performs one attack as a hostile holder of the ``configure``
permission would, over the real API (or, for the template bounds, through the
real renderer the dispatcher uses), and asserts the refusal:

* channel hosts in IPv6 forms that carry an internal IPv4 address (NAT64,
  6to4, IPv4-compatible and -translated, site-local) and the usual loopback
  spellings (decimal, hex, short, mapped, ``localhost``, metadata address);
* mail addresses, header names, group names and clock times ending in a line
  break (``re.match`` with ``$`` accepted ``"a@b.org\\n"``, which ends a
  mail's header block early: the following headers fell into the body);
* channel templates that would loop 10^10 times, build gigabyte strings or
  recurse without end on the server's event loop: the delivery still goes
  out, with the built-in template, to a real webhook receiver process;
* a webhook receiver answering with a redirect (not followed: dead-lettered).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from argus.adapters.notify.templates import render
from argus.domain.notify import Templates, WebhookSettings
from tests.auth_support import settings_for
from tests.integration.api_support import STORES, Api, api, eventually
from tests.integration.notify_support import channel, notification, requests, webhook_sink

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PUBLIC_HOST = "93.184.216.34"
MAIL: dict[str, Any] = {
    "name": "Mail",
    "kind": "email",
    "settings": {
        "host": PUBLIC_HOST,
        "security": "none",
        "sender": "argus@example.org",
        "to": ["ops@example.org"],
    },
}
HOOK: dict[str, Any] = {
    "name": "Hook",
    "kind": "webhook",
    "settings": {"url": f"https://{PUBLIC_HOST}/hooks/argus"},
}

# Nested loops (10^10 steps), a string of a gigabyte, doubling by ``~``, a huge format
# width, unbounded recursion: each one used to run on the event loop unbounded.
HOSTILE_TEMPLATES = [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in 'x' * 9000 %}{% for b in 'y' * 9000 %}{% endfor %}{% endfor %}",
    "{{ 'x' * 10**10 }}",
    "{{ 'x' | center(2000000000) }}",
    "{{ '%0999999999d' | format(1) }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ 'x'.ljust(2000000000) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s | length }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}{{ ns.s | length }}",
    "{% set l = [1] %}{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}",
    "{% set s = 'x' * 100000 %}{{ s | replace('x', s) }}",
    "{{ lipsum(n=1000000) }}",
    "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "{% for a in ['x'] recursive %}{% if loop.depth < 3 %}{{ loop('x' * 9000) }}{% endif %}"
    "{% endfor %}",
    "{% set s = 'x' * 250000 %}{% for a in range(5000) %}{% set t = s | sort %}{% endfor %}",
    "{% for i in range(100000) %}{{ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }}{% endfor %}",
]


@pytest.fixture(params=STORES)
async def app(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Api]:
    async with api(request.param, tmp_path) as running:
        yield running


def _with(base: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {**base, "settings": {**base["settings"], **settings}}


@pytest.mark.parametrize(
    "host",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1 (AWS's NAT gateway translates these)
        "64:ff9b::a9fe:a9fe",  # NAT64 of the cloud metadata address
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "64:ff9b:1::a00:5",  # the local-use NAT64 prefix
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:5::1",  # 6to4 of 10.0.0.5
        "::7f00:1",  # IPv4-compatible 127.0.0.1
        "::ffff:0:7f00:1",  # IPv4-translated 127.0.0.1
        "fec0::1",  # site-local (deprecated, still routed inside some networks)
        "::ffff:127.0.0.1",  # IPv4-mapped (held before)
        "::1",
        "fe80::1",
    ],
)
async def test_ipv6_forms_of_internal_addresses_are_refused_for_every_kind(
    app: Api, host: str
) -> None:
    bodies = [
        _with(HOOK, url=f"http://[{host}]:8080/hook"),
        _with(MAIL, host=host),
        {"name": "Broker", "kind": "mqtt", "settings": {"host": host}},
    ]
    for body in bodies:
        answer = await app.client.post("/api/v1/channels", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert (await app.client.get("/api/v1/channels")).json()["total"] == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # decimal 127.0.0.1
        "http://0x7f000001/",
        "http://127.1/",
        "http://017700000001/",  # octal
        "http://localhost:6379/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:5432/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://100.64.0.1/",  # carrier-grade NAT
    ],
)
async def test_loopback_spellings_of_webhook_hosts_are_refused(app: Api, url: str) -> None:
    answer = await app.client.post("/api/v1/channels", json=_with(HOOK, url=url))
    assert answer.status_code == 422, answer.text


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\nBcc: spy@evil.example"])
async def test_mail_addresses_ending_in_a_line_break_are_refused(app: Api, suffix: str) -> None:
    for body in (
        _with(MAIL, to=[f"ops@example.org{suffix}"]),
        _with(MAIL, sender=f"argus@example.org{suffix}"),
        _with(HOOK, headers={f"X-Team{suffix}": "a"}),
        _with(MAIL, host=f"mail.example.org{suffix}"),
    ):
        answer = await app.client.post("/api/v1/channels", json=body)
        assert answer.status_code == 422, (body, answer.text)
    groups = await app.client.put(
        "/api/v1/recipient-groups", json={"groups": {"night": [f"a@example.org{suffix}"]}}
    )
    assert groups.status_code == 422, groups.text
    named = await app.client.put(
        "/api/v1/recipient-groups", json={"groups": {f"night{suffix}": ["a@example.org"]}}
    )
    assert named.status_code == 422, named.text
    mail = await app.client.post("/api/v1/channels", json=MAIL)
    assert mail.status_code == 201, mail.text
    for target in (
        {"channel_id": mail.json()["id"], "to": [f"boss@example.org{suffix}"]},
        {"channel_id": mail.json()["id"], "to": [f"group:night{suffix}"]},
    ):
        route = await app.client.post("/api/v1/routes", json={"name": "R", "targets": [target]})
        assert route.status_code == 422, route.text
    clock = await app.client.post(
        "/api/v1/routes",
        json={
            "name": "R",
            "targets": [{"channel_id": mail.json()["id"]}],
            "schedule": {"start": f"18:00{suffix}", "end": "06:00"},
        },
    )
    assert clock.status_code == 422, clock.text


@pytest.mark.parametrize("source", HOSTILE_TEMPLATES)
@pytest.mark.parametrize("where", ["subject", "body"])
def test_hostile_templates_fall_back_to_the_built_in_quickly(source: str, where: str) -> None:
    settings = WebhookSettings(url=f"https://{PUBLIC_HOST}/h", secret="s")
    hook = channel("webhook", settings, templates=Templates(**{where: source}))
    message, error = render(hook, notification(hook))
    assert error is not None
    assert where in error
    assert len(message.body) < 300_000
    assert '"type":"alert.created"' in message.body  # the built-in template


async def test_a_hostile_template_does_not_stall_the_server(tmp_path: Path) -> None:
    out = tmp_path / "hooks.jsonl"
    sink = webhook_sink(out, "--secret", "hook-secret")
    port = sink.start(0)
    settings = settings_for(tmp_path, notify_allowed_networks="127.0.0.0/8", notify_poll_s=0.1)
    try:
        async with api("sqlite", tmp_path, settings=settings) as app:
            created = await app.client.post(
                "/api/v1/channels",
                json={
                    "name": "hostile",
                    "kind": "webhook",
                    "settings": {"url": f"http://127.0.0.1:{port}/h", "secret": "hook-secret"},
                    "templates": {"subject": HOSTILE_TEMPLATES[2], "body": HOSTILE_TEMPLATES[0]},
                },
            )
            assert created.status_code == 201, created.text
            queued = await app.client.post(f"/api/v1/channels/{created.json()['id']}/test")
            assert queued.status_code == 202, queued.text

            async def arrived() -> bool:
                return len(requests(out)) == 1

            await eventually(arrived, "the test notification with the built-in template")
            # The server kept answering while (and after) it rendered the template.
            assert (await app.client.get("/api/v1/channels")).status_code == 200
    finally:
        sink.stop()
    (request,) = requests(out)
    assert request["verified"] is True


async def test_a_webhook_redirect_is_not_followed(tmp_path: Path) -> None:
    out = tmp_path / "hooks.jsonl"
    sink = webhook_sink(out, "--status", "307")
    port = sink.start(0)
    settings = settings_for(tmp_path, notify_allowed_networks="127.0.0.0/8", notify_poll_s=0.1)
    try:
        async with api("sqlite", tmp_path, settings=settings) as app:
            created = await app.client.post(
                "/api/v1/channels",
                json={
                    "name": "redirected",
                    "kind": "webhook",
                    "settings": {"url": f"http://127.0.0.1:{port}/h"},
                },
            )
            assert created.status_code == 201, created.text
            channel_id = created.json()["id"]
            queued = await app.client.post(f"/api/v1/channels/{channel_id}/test")
            assert queued.status_code == 202, queued.text
            items: list[dict[str, Any]] = []

            async def dead() -> bool:
                page = await app.client.get(
                    "/api/v1/notifications", params={"channel_id": channel_id}
                )
                items[:] = page.json()["items"]
                return bool(items) and items[0]["state"] == "dead"

            await eventually(dead, "the redirected notification dead-lettered")
    finally:
        sink.stop()
    assert "redirects are not followed" in str(items[0]["last_error"])
    assert len(requests(out)) == 1  # one request, to the checked address; no second one
