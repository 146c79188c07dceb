"""Sign-in fails closed, tried as a careless operator would: a real server started on a real secrets file
(broken, incomplete, naming a provider that is not there, or none at all) or an unreachable database,
opened in a real browser. None of them may show data, a role switcher or a secret; each says what is wrong.
"""

from __future__ import annotations

import secrets

import pytest

from qidash import db, scenarios
from tests.e2e.conftest import free_port, start_server, stop_server, wait_idle

COOKIE_SECRET = secrets.token_hex(16)
CLIENT_SECRET = "client-secret-" + secrets.token_hex(8)


def auth_section(port: int, provider_port: int, drop: tuple[str, ...] = ()) -> str:
    keys = {
        "redirect_uri": f"http://127.0.0.1:{port}/oauth2callback",
        "cookie_secret": COOKIE_SECRET,
        "client_id": "qidash-test",
        "client_secret": CLIENT_SECRET,
        "server_metadata_url": f"http://127.0.0.1:{provider_port}/.well-known/openid-configuration",
    }
    return "[auth]\n" + "".join(f'{k} = "{v}"\n' for k, v in keys.items() if k not in drop)


@pytest.fixture(scope="module")
def programme_url(tmp_path_factory) -> str:
    url = db.sqlite_url(tmp_path_factory.mktemp("fail_closed") / "app.db")
    scenarios.load_demo(db.make_engine(url), "barnet")
    return url


# (case, database?, secrets file text or None for no file, extra environment, what the page must say)
CASES = [
    (
        "unparseable",
        True,
        lambda port, prov: auth_section(port, prov) + "client_id = [unclosed\n",
        {},
        "The secrets file cannot be read",
    ),
    (
        "unparseable_demo",
        False,
        lambda port, prov: 'cookie_secret = "' + COOKIE_SECRET + "\n",
        {},
        "The secrets file cannot be read",
    ),
    (
        "missing_keys",
        True,
        lambda port, prov: auth_section(port, prov, drop=("client_id", "server_metadata_url")),
        {},
        "missing client_id, server_metadata_url",
    ),
    (
        "unreachable_provider",
        True,
        lambda port, prov: auth_section(port, prov),
        {},
        "the sign-in provider cannot be used",
    ),
    ("no_secrets", True, None, {}, "Sign-in is not configured"),
    (
        "unreachable_database",
        "postgresql+psycopg://app:hunter2@127.0.0.1:{closed}/qidash",
        None,
        {"QIDASH_AUTH": "off"},
        "The database cannot be reached; your admin has details. Reference: ",
    ),
]


@pytest.mark.parametrize(
    ("case", "database", "secrets_text", "env", "says"), CASES, ids=[c[0] for c in CASES]
)
def test_a_broken_setup_stops_the_app_with_a_plain_message(
    case, database, secrets_text, env, says, programme_url, tmp_path, browser
):
    port, nothing_listens = free_port(), free_port()
    secrets_file = tmp_path / "secrets.toml"  # absent unless the case writes it
    if secrets_text:
        secrets_file.write_text(secrets_text(port, nothing_listens))
    env = dict(env)
    if database is True:
        env["QIDASH_DB_URL"] = programme_url
    elif database:
        env["QIDASH_DB_URL"] = database.format(closed=nothing_listens)
    proc, base = start_server(env, ["--secrets.files", str(secrets_file)], port=port)
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    try:
        page = context.new_page()
        page.goto(base)
        wait_idle(page)
        text = page.locator("body").inner_text()
        assert says in text
        # No data, no role switcher, no pages, no secret, no database detail.
        assert page.locator('[data-testid="stMetric"]').count() == 0
        assert "View as" not in text and "Programme admin" not in text
        assert page.get_by_role("link", name="Overview").count() == 0
        for leak in (
            COOKIE_SECRET,
            CLIENT_SECRET,
            "hunter2",
            "Traceback",
            str(nothing_listens),
            str(tmp_path),
        ):
            assert leak not in text, leak
    finally:
        context.close()
        stop_server(proc)
