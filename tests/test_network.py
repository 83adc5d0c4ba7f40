"""The network edge without servers: redaction, pip's settings, proxies, trusted hosts."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipguard import runner
from pipguard.errors import UsageError
from pipguard.options import network_env, settings
from pipguard.pipargs import parse
from pipguard.pipconfig import merged, network_settings, parse_config_list, uses_truststore
from pipguard.redact import keep_auth, redact_text, redact_url, split_credentials
from pipguard.transport import Transport
from pipguard.wire import NetworkSettings
from tests.helpers import clean_env, run

# --- redaction ---------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:tok3n@host/whl", "https://user:****@host/whl"),
    ("https://tok3n@host:8443/whl/", "https://****@host:8443/whl/"),
    ("https://host/whl/x.whl?token=tok3n&v=1", "https://host/whl/x.whl?token=****&v=1"),
    ("https://host/x?X-Amz-Signature=tok3n", "https://host/x?X-Amz-Signature=****"),
    ("https://host/whl", "https://host/whl"),
    ("file:///tmp/index", "file:///tmp/index"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "tok3n" not in redact_text(f"error: cannot read {url}: HTTP 401")


def test_redact_text_finds_urls_in_json_and_commands() -> None:
    text = '{"url": "https://u:tok3n@h/whl/t.whl#sha256=ab"}\npip install \'t @ https://u:tok3n@h/t\''
    assert "tok3n" not in redact_text(text)
    assert "https://u:****@h/whl/t.whl#sha256=ab" in redact_text(text)


def test_credentials_split_and_kept_on_the_same_host_only() -> None:
    assert split_credentials("https://u%40x:p%3Aw@h/a") == ("https://h/a", "u@x", "p:w")
    assert keep_auth("https://u:p@h/a/", "https://h/b.whl") == "https://u:p@h/b.whl"
    assert keep_auth("https://u:p@h/a/", "https://other/b.whl") == "https://other/b.whl"


# --- pip's settings ----------------------------------------------------------------------

CONFIG_LIST = """\
global.cert='/etc/global.pem'
global.timeout='30'
install.timeout='20'
global.trusted-host='a.example b.example:8443'
:env:.cert='/env/ca.pem'
:env:.default-timeout='12'
:env:.disable-pip-version-check='1'
download.proxy='http://dl-proxy:3128'
"""


def test_pip_config_list_is_merged_in_pips_order() -> None:
    items = parse_config_list(CONFIG_LIST)
    assert ("global", "trusted-host", "a.example b.example:8443") in items
    install = merged(items, "install")
    assert install["cert"] == ("/env/ca.pem", "PIP_CERT")
    assert install["timeout"] == ("12", "PIP_DEFAULT_TIMEOUT")  # :env: beats install.timeout
    assert "proxy" not in install  # another command's section
    assert merged(items, "download")["proxy"][0] == "http://dl-proxy:3128"
    assert merged(parse_config_list("install.timeout='20'\nglobal.timeout='30'\n"),
                  "plan")["timeout"][0] == "20"  # plan reads install's section


class FakePip:
    def __init__(self, stdout: str) -> None:
        self.stdout = stdout
        self.calls: list[tuple[str, ...]] = []

    def __call__(self, argv: Sequence[str], **kw: Any) -> runner.Completed:
        self.calls.append(tuple(argv))
        return runner.Completed(tuple(argv), 0, self.stdout, "")


def _net(monkeypatch: pytest.MonkeyPatch, argv: list[str], config: str,
         environ: dict[str, str] | None = None, pip_version: str = "23.2.1") -> NetworkSettings:
    fake = FakePip(config)
    monkeypatch.setattr(runner, "RUNNER", fake)
    cl = parse(argv)
    s = settings(cl, environ or {})
    return network_settings(cl, ["py", "-m", "pip"], env=s.network_env,
                            inert=s.pip_config_inert, pip_version=pip_version,
                            python=(3, 11, 0))


def test_command_line_beats_pip_variables_beats_files(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _net(monkeypatch, ["plan", "torch", "--cert", "/cli.pem", "--trusted-host", "c"],
               CONFIG_LIST)
    assert net.cert == "/cli.pem" and net.sources["cert"] == "--cert"
    assert net.timeout == 12.0 and net.sources["timeout"] == "PIP_DEFAULT_TIMEOUT"
    assert net.trusted_hosts == ("a.example", "b.example:8443", "c")  # pip's lists add up
    net = _net(monkeypatch, ["--timeout", "4", "plan", "torch"], CONFIG_LIST)
    assert (net.cert, net.timeout) == ("/env/ca.pem", 4.0)


def test_requests_ca_bundle_wins_as_in_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _net(monkeypatch, ["plan", "torch", "--cert", "/cli.pem"], "",
               {"REQUESTS_CA_BUNDLE": "/req.pem", "PIP_CERT": "/x"})
    assert (net.cert, net.sources["cert"]) == ("/req.pem", "REQUESTS_CA_BUNDLE")


def test_no_pip_run_when_pips_configuration_is_inert(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakePip("global.cert='/x'\n")
    monkeypatch.setattr(runner, "RUNNER", fake)
    cl = parse(["plan", "torch"])
    s = settings(cl, {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1"})
    assert s.pip_config_inert
    net = network_settings(cl, ["py"], env={}, inert=True, pip_version=None, python=(3, 11))
    assert fake.calls == [] and net.cert is None and net.timeout == 15.0
    assert not settings(cl, {"PIP_CONFIG_FILE": os.devnull, "PIP_CERT": "/c"}).pip_config_inert


def test_index_url_credentials_and_bad_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _net(monkeypatch, ["install", "torch", "--extra-index-url", "https://u:tok@mirror/s"],
               "global.index-url='https://v:tik@other:8443/simple'\n")
    assert net.index_credentials == {"mirror": ("u", "tok"), "other:8443": ("v", "tik")}
    with pytest.raises(UsageError, match="--retries"):
        _net(monkeypatch, ["install", "torch"], ":env:.retries='many'\n")


@pytest.mark.parametrize(("pip", "python", "features", "deprecated", "expected"), [
    ("24.2", (3, 12), [], [], True),
    ("26.0", (3, 10), [], ["legacy-certs"], False),
    ("24.2", (3, 9), [], [], False),
    ("23.2.1", (3, 11), [], [], False),
    ("23.2.1", (3, 11), ["truststore"], [], True),
])
def test_truststore_where_pip_uses_it(pip: str, python: tuple[int, int], features: list[str],
                                      deprecated: list[str], expected: bool) -> None:
    assert uses_truststore(pip, python, features, deprecated) is expected


def test_real_pip_config_list_shows_files_and_variables(tmp_path: Path) -> None:
    """The real pip: a config file (PIP_CONFIG_FILE) and a PIP_ variable, merged by pip."""
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\ncert = /from/file.pem\ntimeout = 30\n[install]\nretries = 7\n")
    env = clean_env({"PIP_CONFIG_FILE": str(conf), "PIP_DEFAULT_TIMEOUT": "9"})
    done = run([sys.executable, "-m", "pip", "config", "list"], env=env)
    got = merged(parse_config_list(done.stdout), "install")
    assert got["cert"][0] == "/from/file.pem"
    assert got["timeout"] == ("9", "PIP_DEFAULT_TIMEOUT")
    assert got["retries"][0] == "7"


# --- proxies, trusted hosts, netrc -------------------------------------------------------


def test_environment_proxies_and_no_proxy() -> None:
    env = network_env({"HTTPS_PROXY": "http://envproxy:3128", "no_proxy": "internal.example,"
                       "10.0.0.0/8,.corp", "NO_PROXY": "ignored"})
    t = Transport(NetworkSettings(proxy="http://pip-proxy:8080",
                                  env_proxies={"https": env["https_proxy"]},
                                  no_proxy=env["no_proxy"]))
    assert t.proxy_for("https://download.pytorch.org/whl") == "http://envproxy:3128"
    assert t.proxy_for("https://a.internal.example/whl") == "http://pip-proxy:8080"
    assert t.proxy_for("https://10.1.2.3/whl") == "http://pip-proxy:8080"
    assert t.proxy_for("https://x.corp/whl") == "http://pip-proxy:8080"
    assert Transport(NetworkSettings()).proxy_for("https://h/") is None


def test_trusted_hosts_match_like_pip() -> None:
    t = Transport(NetworkSettings(trusted_hosts=("mirror.example", "other:8443")))
    assert t.trusted("mirror.example", None) and t.trusted("mirror.example", 8443)
    assert t.trusted("other", 8443) and not t.trusted("other", 443)
    assert not t.trusted("download.pytorch.org", None)


def test_netrc_credentials(tmp_path: Path) -> None:
    rc = tmp_path / "netrc"
    rc.write_text("machine 127.0.0.1 login alice password s3cret\n")
    assert network_env({"NETRC": str(rc)})["netrc"] == str(rc)
    assert network_env({"HOME": str(tmp_path / "nohome")}).get("netrc") is None
    t = Transport(NetworkSettings(netrc=str(rc)))
    assert t.credentials("http://127.0.0.1:8080/whl/") == ("alice", "s3cret")
    assert t.credentials("http://bob:pw@127.0.0.1:8080/whl/") == ("bob", "pw")
    assert t.credentials("http://127.0.0.1:8080/x") == ("bob", "pw")  # remembered, as pip does
    assert t.credentials("http://example.org/") is None
