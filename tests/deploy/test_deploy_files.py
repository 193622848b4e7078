"""The files of deploy/ as a server gets them: nginx accepts the site (`nginx -t`), systemd
accepts the units (`systemd-analyze verify`), scripts/add_agent.sh writes logins nginx can
check, and the site `make cluster` renders is the shipped one with other paths and ports."""

from __future__ import annotations

import configparser
import getpass
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List

import pytest

from deploy import nginx_conf

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
NGINX = Path("/usr/sbin/nginx")


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    # systemd continues lines with a trailing backslash; configparser with indentation
    parser.read_string(path.read_text(encoding="utf-8").replace("\\\n", "\n"))
    return parser


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_units_name_what_a_server_needs(unit: Path) -> None:
    parsed = _unit(unit)
    service = parsed["Service"]
    assert service["User"] == "telco-assistant"
    assert "/etc/telco-assistant/assistant.env" in (DEPLOY / "systemd" / unit.name).read_text()
    assert service["Restart"] == "on-failure"
    assert "/opt/telco-assistant/.venv/bin/python" in service["ExecStart"]
    assert parsed["Install"]["WantedBy"] == "multi-user.target"
    # loopback unless the instance file says otherwise
    assert "127.0.0.1" in service["Environment"]


def test_env_templates_hold_no_secret() -> None:
    env = (DEPLOY / "assistant.env.example").read_text(encoding="utf-8")
    for name in (
        "TRACKER_DB_PASSWORD",
        "LOCK_REDIS_PASSWORD",
        "AGENT_PROXY_SECRET",
        "RABBITMQ_PASSWORD",
        "ANALYTICS_DB_URL",
        "OPS_TOKEN",
    ):
        assert re.search(rf"^{name}=$", env, re.M), name
    # every variable endpoints.production.yml needs is in the two templates
    instance = (DEPLOY / "instance.env.example").read_text(encoding="utf-8")
    production = (ROOT / "endpoints.production.yml").read_text(encoding="utf-8")
    needed = set(re.findall(r"\$\{(\w+)\}", re.sub(r"#.*", "", production)))
    given = set(re.findall(r"^(\w+)=", env + instance, re.M))
    assert needed <= given, needed - given


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """The units with this checkout as /opt/telco-assistant (systemd checks the programs
    exist) and the example environment files."""
    etc = tmp_path / "etc"
    etc.mkdir()
    shutil.copy(DEPLOY / "assistant.env.example", etc / "assistant.env")
    shutil.copy(DEPLOY / "instance.env.example", etc / "instance-1.env")
    user = getpass.getuser()
    names: List[str] = []
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/telco-assistant", str(ROOT))
        text = text.replace("/etc/telco-assistant", str(etc))
        text = re.sub(r"^(User|Group)=.*$", rf"\1={user}", text, flags=re.M)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
        names.append(unit.name.replace("@.", "@1."))
    result = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # systemd only warns about unknown keys or bad values: any output is a finding
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_cluster_site_is_the_shipped_site_with_other_paths_and_ports(tmp_path: Path) -> None:
    shipped = nginx_conf.SITE.read_text(encoding="utf-8")
    site = nginx_conf.render_site(tmp_path, "127.0.0.1:18443", [6101, 6102, 6103])
    directives = re.sub(r"#.*", "", site)
    assert "/etc/" not in directives and "/var/log" not in site
    assert "listen 127.0.0.1:18443 ssl http2;" in site and "listen 80" not in site
    for upstream in ("telco_assistant_chat", "telco_assistant_pages"):
        block = site.split(f"upstream {upstream} {{", 1)[1].split("}", 1)[0]
        assert re.findall(r"server (\S+) max_fails", block) == [
            "127.0.0.1:6101",
            "127.0.0.1:6102",
            "127.0.0.1:6103",
        ]
    # every location of the shipped site is there, with the same logins
    locations = re.findall(r"location [^{]+\{", shipped)
    assert locations and locations == re.findall(r"location [^{]+\{", site)
    # the four agents' locations, the ops page (TLs) and its fallback for other logins
    assert site.count("auth_basic_user_file") == shipped.count("auth_basic_user_file") == 6
    assert site.count("/htpasswd-tl;") == 1


@pytest.mark.parametrize(
    "secret", ["", "short", 'has"quote-0123456789', "has space 0123456789", "a;b" * 8]
)
def test_a_secret_that_could_break_the_nginx_file_is_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        nginx_conf.secret_conf(secret)


def _add_agent(*args: str, password: str = "", stdin: str = "") -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    env = dict(os.environ)
    env.pop("AGENT_PASSWORD", None)
    if password:
        env["AGENT_PASSWORD"] = password
    return subprocess.run(
        [str(ROOT / "scripts" / "add_agent.sh"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )


def _entries(path: Path) -> Dict[str, str]:
    return dict(line.split(":", 1) for line in path.read_text().splitlines() if line)


def _matches(password: str, hashed: str) -> bool:
    salt = hashed.split("$")[2]
    again = subprocess.run(
        ["openssl", "passwd", "-6", "-salt", salt, "-stdin"],
        input=password,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return again == hashed


def test_add_agent_adds_replaces_and_removes(tmp_path: Path) -> None:
    file = tmp_path / "htpasswd"
    assert _add_agent("budi", str(file), password="pw-budi-1").returncode == 0
    made = _add_agent("siti", str(file))  # no terminal, no AGENT_PASSWORD: one is made
    assert made.returncode == 0
    shown = re.search(r"\(shown once\): (\S+)", made.stdout)
    assert shown is not None
    assert _add_agent("budi", str(file), password="pw-budi-2").returncode == 0
    entries = _entries(file)
    assert sorted(entries) == ["budi", "siti"]
    assert _matches("pw-budi-2", entries["budi"]) and not _matches("pw-budi-1", entries["budi"])
    assert _matches(shown.group(1), entries["siti"])
    assert oct(file.stat().st_mode & 0o777) == "0o640"
    assert _add_agent("--remove", "siti", str(file)).returncode == 0
    assert sorted(_entries(file)) == ["budi"]


@pytest.mark.parametrize("name", ["", "a:b", "-rf", "budi siti", "x" * 129, "agen/1"])
def test_add_agent_refuses_names_nginx_or_the_assistant_would_misread(
    tmp_path: Path, name: str
) -> None:
    file = tmp_path / "htpasswd"
    assert _add_agent(name, str(file), password="pw").returncode == 2
    assert not file.exists() or file.read_text() == ""


@pytest.mark.servers
def test_nginx_accepts_the_shipped_site_and_the_cluster_config(tmp_path: Path) -> None:
    if not NGINX.exists():
        pytest.fail("nginx missing: run `make test-deps` (scripts/install_test_deps.sh)")
    # the shipped site, as on a server, with /etc and /var/log moved into tmp_path
    etc = tmp_path / "etc"
    (etc / "log").mkdir(parents=True)
    nginx_conf.self_signed(etc / "tls")
    (etc / "htpasswd").write_text("")
    (etc / "nginx-secret.conf").write_text(nginx_conf.secret_conf("x" * 32))
    site = nginx_conf.relocate(nginx_conf.SITE.read_text(encoding="utf-8"), etc)
    (tmp_path / "site.conf").write_text(site)
    main = nginx_conf.main_conf(tmp_path, os.geteuid() == 0).replace(
        f"{tmp_path}/site.conf", str(tmp_path / "site.conf")
    )
    (tmp_path / "log").mkdir()
    (tmp_path / "tmp").mkdir()
    (tmp_path / "nginx.conf").write_text(main)
    shipped = _nginx_t(tmp_path)
    assert shipped.returncode == 0, shipped.stderr

    # the configuration `make cluster` writes
    cluster = tmp_path / "cluster"
    nginx_conf.prepare(cluster, "127.0.0.1:18443", [6101, 6102], "y" * 32)
    rendered = _nginx_t(cluster)
    assert rendered.returncode == 0, rendered.stderr


def _nginx_t(prefix: Path) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        [
            str(NGINX), "-t", "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"),
            "-e", str(prefix / "log" / "nginx-error.log"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )  # fmt: skip
