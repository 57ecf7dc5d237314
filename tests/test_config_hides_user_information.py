"""A setting refused at start-up is named with its value, but the user information of a
URL in that value (a password, or a user name standing alone, which may be a token) is
written as ``***``, as the database URL's password is: the message goes to the console
and the service's journal, which are no place for a credential. An operator who put a
service account's password in an allow-list URL, the very mistake being refused, must
not find it copied there."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pecoma.errors import ConfigError, hide_password
from pecoma.store.db import redact
from pecoma.web.config import WebConfig

SECRET = "FHIRPWzz9"

#: URLs carrying the secret in their user information, as an operator may write them.
WITH_USERINFO = [
    f"https://svc:{SECRET}@ehr.example/fhir",
    f"http://user:{SECRET}@x/fhir",
    f"https://{SECRET}@ehr.example/fhir",  # a token as the user name
    f"https://svc:p@{SECRET}@ehr.example/fhir",  # an '@' left unescaped in the password
    f"https://svc:a/{SECRET}@ehr.example/fhir",  # a '/' left unescaped in the password
    f"HTTPS://svc:{SECRET}@EHR.example:8443/fhir",
    f"https://svc:{SECRET}@[::1]:8443/fhir",
    f"https://svc:{SECRET}@",
]


@pytest.mark.parametrize("url", WITH_USERINFO)
@pytest.mark.parametrize(
    ("variable", "setting", "extra"),
    [
        ("PECOMA_CDS_FHIR_SERVERS", "cds.fhir_servers", {}),
        ("PECOMA_SMART_ISSUERS", "smart.issuers",
         {"PECOMA_SMART_CLIENT_ID": "x", "PECOMA_SMART_REDIRECT_BASE": "http://127.0.0.1:8848"}),
    ],
)
def test_an_allow_list_url_with_user_information_is_refused_without_it(
    url: str, variable: str, setting: str, extra: dict[str, str]
) -> None:
    with pytest.raises(ConfigError) as info:
        WebConfig.from_env({variable: url, **extra})
    said = str(info.value)
    assert setting in said  # the setting is named
    assert SECRET not in said
    assert "***" in said


@pytest.mark.parametrize("url", WITH_USERINFO)
def test_a_second_entry_is_hidden_too(url: str) -> None:
    """Each URL of a list is masked, the good ones shown as written."""
    env = {"PECOMA_CDS_FHIR_SERVERS": f"https://ok.example/fhir,{url}"}
    with pytest.raises(ConfigError) as info:
        WebConfig.from_env(env)
    said = str(info.value)
    assert "allow-list entry 2" in said and SECRET not in said
    assert "https://ok.example/fhir" in said


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://u:pw@127.0.0.1/x", "postgresql://u:***@127.0.0.1/x"),
        ("postgresql://u:p@ss@h/x", "postgresql://u:***@h/x"),
        ("postgresql://u:pa/ss@h/x", "postgresql://u:***@h/x"),
        ("https://tok@h/fhir", "https://***@h/fhir"),
        ("('https://a:b@h/x', 'https://c:d@k/y')", "('https://a:***@h/x', 'https://c:***@k/y')"),
        ("sqlite:///data/pecoma.sqlite3", "sqlite:///data/pecoma.sqlite3"),
        ("https://ehr.example/fhir", "https://ehr.example/fhir"),
        ("postgresql://u@h:notaport/x", "postgresql://***@h:notaport/x"),
        ("no URL here: a@b", "no URL here: a@b"),
        ("'://u:pw@h/x'", "'://u:***@h/x'"),  # no scheme
        # a quote is legal, unescaped, in a password: it never ends the user information
        ("postgresql://u:ab'cd@h/x", "postgresql://u:***@h/x"),
        ('(got "postgresql://u:ab\'c\"d@h/x")', '(got "postgresql://u:***@h/x")'),

    ],
)
def test_hide_password(text: str, expected: str) -> None:
    assert hide_password(text) == expected


def test_the_database_url_is_masked_by_the_same_rule() -> None:
    for url in ("postgresql://u:pw@127.0.0.1:5432/x", "postgresql://u:pw@127.0.0.1:notaport/x",
                "postgresql://u:pw@[::1/x"):
        assert redact(url) == hide_password(url)
        assert "pw" not in redact(url)
    # a password holding a quote, printed by `pecoma registry init` (it had been shown)
    assert redact("postgresql://u:ab'cd@host/db") == "postgresql://u:***@host/db"


def test_serve_says_it_without_the_password() -> None:
    """The command as an operator runs it: exit 5, the setting named, no password."""
    env = {**os.environ, "PECOMA_CDS_FHIR_SERVERS": f"https://svc:{SECRET}@ehr.example/fhir"}
    env.pop("PECOMA_WEB_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-m", "pecoma", "serve", "--port", "8852"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert run.returncode == 5
    assert "cds.fhir_servers" in run.stderr
    assert SECRET not in run.stderr + run.stdout
