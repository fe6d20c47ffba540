"""deploy/compose.yaml against the packages it runs.

One test asks a real Compose binary to validate the file (offline: ``config`` needs no engine);
the others read the YAML and the Dockerfiles and need no binary at all."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = DEPLOY / "compose.yaml"
POSTGRES_INIT = DEPLOY / "postgres-init"
INITDB_DIR = "/docker-entrypoint-initdb.d"

#: the services (each owns a database, a worker and migrations), found from the tree
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
#: every deployable package folder: the gateway and the services
PACKAGES = {"gateway": ROOT / "gateway"} | {name: ROOT / "services" / name for name in SERVICES}

HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"

# spelt in pieces so that a search of the repository for key material finds no false match
PEM_PRIVATE_KEY = re.compile("-----BEGIN [A-Z0-9 ]*" + "PRIVATE" + " KEY-----")
#: a bare base64/base64url blob of 32 bytes or more (a raw or JWK-encoded key)
KEY_BLOB = re.compile(r"^[A-Za-z0-9+/_-]{43,}={0,2}$")


# ----------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{COMPOSE_FILE} is not a YAML mapping"
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries = compose.get("services")
    assert isinstance(entries, dict) and entries, "compose.yaml has no services"
    return entries


def _dockerfile_of(entry: dict[str, Any]) -> Path | None:
    """The Dockerfile a compose entry builds from, resolved like Compose does."""
    build = entry.get("build")
    if build is None:
        return None
    if isinstance(build, str):
        return (DEPLOY / build / "Dockerfile").resolve()
    context = (DEPLOY / build.get("context", ".")).resolve()
    return (context / build.get("dockerfile", "Dockerfile")).resolve()


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and continued lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _dockerfile_cmd(path: Path) -> list[str]:
    commands = [args for keyword, args in _dockerfile_instructions(path) if keyword == "CMD"]
    assert commands, f"{path.relative_to(ROOT)} has no CMD"
    cmd = json.loads(commands[-1])
    assert isinstance(cmd, list), f"{path.relative_to(ROOT)}: CMD is not in exec form"
    return [str(part) for part in cmd]


def _command(entry: dict[str, Any]) -> list[str]:
    command = entry.get("command")
    if isinstance(command, str):
        return command.split()
    return [str(part) for part in command or []]


def _depends_on(entry: dict[str, Any]) -> dict[str, str]:
    """{dependency: condition}; the short list form means ``service_started``."""
    depends = entry.get("depends_on") or {}
    if isinstance(depends, list):
        return {name: "service_started" for name in depends}
    return {
        name: (spec or {}).get("condition", "service_started") for name, spec in depends.items()
    }


def _environment(entry: dict[str, Any]) -> dict[str, str | None]:
    environment = entry.get("environment") or {}
    if isinstance(environment, list):
        pairs = (item.partition("=") for item in environment)
        return {name: value if sep else None for name, sep, value in pairs}
    return {name: None if value is None else str(value) for name, value in environment.items()}


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif node is not None:
        yield str(node)


def _bind_port(entry: dict[str, Any]) -> int:
    command = _command(entry)
    assert "--bind" in command, f"no --bind in {command}"
    host, _, port = command[command.index("--bind") + 1].rpartition(":")
    assert host == "0.0.0.0", f"{command}: a container must listen on 0.0.0.0"
    return int(port)


def _is_migrate(name: str) -> bool:
    return name.endswith("-migrate")


def _compose_binary() -> list[str] | None:
    """``docker-compose`` (Debian's 1.29), else the ``docker compose`` plugin if it answers."""
    standalone = shutil.which("docker-compose")
    if standalone:
        return [standalone]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


# ------------------------------------------------------------------------- the real binary


def test_compose_binary_accepts_the_file() -> None:
    binary = _compose_binary()
    if binary is None:
        reason = (
            "neither docker-compose nor the docker compose plugin is installed "
            "(Debian: apt-get install docker-compose)"
        )
        if os.environ.get("REQUIRE_REAL_SERVICES") == "1":
            pytest.fail(f"{reason} (REQUIRE_REAL_SERVICES=1)")
        pytest.skip(reason)
    # `config` resolves and validates the file without talking to an engine
    result = subprocess.run(
        [*binary, "-f", str(COMPOSE_FILE), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{' '.join(binary)} config failed:\n{result.stderr}"
    assert "variable is not set" not in result.stderr, result.stderr


# ---------------------------------------------------------------------------- the YAML itself


def test_compose_specification_format(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose specification has no `version:` key"
    assert SERVICES, "no services/*/pyproject.toml found"


def test_every_package_has_a_dockerfile_and_a_web_entry(
    services: dict[str, dict[str, Any]],
) -> None:
    for package, folder in PACKAGES.items():
        dockerfile = folder / "Dockerfile"
        assert dockerfile.is_file(), f"{folder.relative_to(ROOT)} has no Dockerfile"
        builders = [name for name, entry in services.items() if _dockerfile_of(entry) == dockerfile]
        assert package in builders, (
            f"no compose service `{package}` built from {dockerfile.relative_to(ROOT)}"
        )
        web = services[package]
        assert _dockerfile_of(web) is not None and web["build"]["context"] == "..", (
            f"`{package}` must be built with the repository root as context"
        )
        assert _command(web) == _dockerfile_cmd(dockerfile), (
            f"`{package}` must run the gunicorn command of its Dockerfile's CMD"
        )
        port = _bind_port(web)
        health = " ".join(str(part) for part in web["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/healthz" in health, (
            f"`{package}`'s health check must GET its own /healthz, not {health!r}"
        )


def test_the_notifier_runs_both_of_its_roles(services: dict[str, dict[str, Any]]) -> None:
    roles = {
        tuple(_command(entry)[3:])
        for name, entry in services.items()
        if _command(entry)[:3] == ["python", "-m", "notifier.worker"]
    }
    assert roles in ({()}, {("--only", "consume"), ("--only", "deliver")}), roles


def test_every_service_has_a_worker_and_a_migrate_entry_on_the_same_image(
    services: dict[str, dict[str, Any]],
) -> None:
    for service in SERVICES:
        web = services[service]
        for role in ("worker", "migrate"):
            name = f"{service}-{role}"
            assert name in services, f"no compose service `{name}`"
            entry = services[name]
            # a worker may run one of its roles (e.g. notifier-worker --only consume)
            assert _command(entry)[:3] == ["python", "-m", f"{service}.{role}"], name
            assert entry.get("image") == web.get("image") and entry.get("image"), (
                f"`{name}` must share the image name of `{service}`"
            )
            assert _dockerfile_of(entry) == _dockerfile_of(web), name
            database_url = f"{service.upper()}_DATABASE_URL"
            assert _environment(entry).get(database_url) == _environment(web).get(database_url)
        assert str(services[f"{service}-migrate"].get("restart")) == "no", (
            f'`{service}-migrate` is a one-shot container: restart must be "no"'
        )
        assert _environment(services[f"{service}-worker"]).get("BIND_HOST") == "0.0.0.0"


def test_processes_wait_for_the_broker_the_database_and_their_migrations(
    services: dict[str, dict[str, Any]],
) -> None:
    for package in PACKAGES:
        processes = [package] if package == "gateway" else [package, f"{package}-worker"]
        for name in processes:
            depends = _depends_on(services[name])
            assert depends.get("rabbitmq") == HEALTHY, f"`{name}` must wait for rabbitmq healthy"
            if package == "gateway":
                continue
            assert depends.get("postgres") == HEALTHY, f"`{name}` must wait for postgres healthy"
            assert depends.get(f"{package}-migrate") == COMPLETED, (
                f"`{name}` must wait for `{package}-migrate` to complete"
            )
    for service in SERVICES:
        depends = _depends_on(services[f"{service}-migrate"])
        assert depends.get("postgres") == HEALTHY, f"`{service}-migrate` must wait for postgres"


def test_web_and_worker_share_the_keys_they_generate(
    services: dict[str, dict[str, Any]],
) -> None:
    # outside production each process generates its HMAC key under NEXAM_VAR_DIR when no key
    # file is named: two containers with two folders would digest codes under two keys
    for service in ("identity", "invitations"):
        mounts = {
            name: {v for v in services[name].get("volumes", []) if v.endswith(":/var/lib/nexam")}
            for name in (service, f"{service}-worker", f"{service}-migrate")
        }
        first = mounts[service]
        assert len(first) == 1, f"`{service}` must keep /var/lib/nexam in a named volume"
        assert all(m == first for m in mounts.values()), mounts


def test_every_long_running_container_has_a_health_check(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, entry in services.items():
        if _is_migrate(name):
            continue
        healthcheck = entry.get("healthcheck") or {}
        test = healthcheck.get("test")
        assert test and not healthcheck.get("disable") and test != ["NONE"], (
            f"`{name}` has no health check"
        )
    for dependency in ("rabbitmq", "postgres", "redis"):
        assert dependency in services, f"no `{dependency}` in compose.yaml"


def test_each_service_gets_its_own_database_from_the_init_script(
    services: dict[str, dict[str, Any]],
) -> None:
    scripts = sorted(p for p in POSTGRES_INIT.glob("*") if p.suffix in {".sql", ".sh"})
    assert scripts, f"no .sql or .sh init script in {POSTGRES_INIT.relative_to(ROOT)}"
    text = "\n".join(p.read_text(encoding="utf-8") for p in scripts)
    mounts = [str(volume) for volume in services["postgres"].get("volumes", [])]
    assert any(
        m.split(":")[0].rstrip("/") == "./postgres-init" and m.split(":")[1] == INITDB_DIR
        for m in mounts
    ), f"postgres must mount ./postgres-init at {INITDB_DIR}"
    for service in SERVICES:
        assert re.search(rf'CREATE\s+DATABASE\s+"?{service}"?\s*[;\s]', text, re.IGNORECASE), (
            f"the init script does not create the `{service}` database"
        )
        url = _environment(services[service]).get(f"{service.upper()}_DATABASE_URL") or ""
        assert url.startswith("postgresql+psycopg://"), url
        assert url.endswith(f"@postgres:5432/{service}"), url


def test_the_gateway_reaches_each_service_by_its_container(
    services: dict[str, dict[str, Any]],
) -> None:
    gateway = _environment(services["gateway"])
    for service in SERVICES:
        expected = f"http://{service}:{_bind_port(services[service])}"
        assert gateway.get(f"{service.upper()}_URL") == expected, f"{service.upper()}_URL"


def test_every_dockerfile_copies_and_installs_contracts() -> None:
    for folder in PACKAGES.values():
        dockerfile = folder / "Dockerfile"
        instructions = _dockerfile_instructions(dockerfile)
        destinations = []
        for keyword, arguments in instructions:
            parts = [part for part in arguments.split() if not part.startswith("--")]
            if keyword == "COPY" and len(parts) >= 2 and parts[0].rstrip("/") == "contracts":
                destinations.append(parts[-1].rstrip("/"))
        assert destinations, f"{dockerfile.relative_to(ROOT)} does not COPY contracts"
        installs = [
            arguments
            for keyword, arguments in instructions
            if keyword == "RUN" and "pip install" in arguments
        ]
        assert any(
            re.search(rf"(?<![\w/.-]){re.escape(dest)}(?![\w/.-])", run)
            for run in installs
            for dest in destinations
        ), f"{dockerfile.relative_to(ROOT)} does not pip install the copied contracts"


def test_no_private_key_in_the_compose_file(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    assert not PEM_PRIVATE_KEY.search(COMPOSE_FILE.read_text(encoding="utf-8"))
    for value in _strings(compose):
        assert not PEM_PRIVATE_KEY.search(value), "a private key is written in compose.yaml"
        assert not KEY_BLOB.match(value), f"{value[:12]}... looks like key material"
    # the gateway gets a path, to a file mounted from a secret or a volume
    gateway = services["gateway"]
    key_path = _environment(gateway).get("GATEWAY_SIGNING_KEY") or ""
    assert key_path.startswith("/"), "GATEWAY_SIGNING_KEY must be the path of a mounted file"
    mounted = []
    for secret in gateway.get("secrets", []):
        target = secret if isinstance(secret, str) else secret.get("target", secret["source"])
        mounted.append(target if target.startswith("/") else f"/run/secrets/{target}")
    mounted += [str(v).split(":")[1] for v in gateway.get("volumes", []) if ":" in str(v)]
    assert any(key_path == m or key_path.startswith(m.rstrip("/") + "/") for m in mounted), (
        f"GATEWAY_SIGNING_KEY={key_path} is not on a secret or volume of the gateway"
    )


ACCESS_LOGGER = "contracts.runtime.accesslog.AccessLogger"


def _gunicorn_setting(command: list[str], flag: str, name: str) -> object:
    """What gunicorn runs with: the command line's ``flag``, else the config module's
    ``name`` (``-c python:module``), else None."""
    config = None
    for index, part in enumerate(command):
        if part == flag and index + 1 < len(command):
            return command[index + 1]
        if part.startswith(f"{flag}="):
            return part.partition("=")[2]
        if part == "-c" and index + 1 < len(command):
            config = command[index + 1]
    if config is None or not config.startswith("python:"):
        return None
    return getattr(importlib.import_module(config.partition(":")[2]), name, None)


def _web_commands(services: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Every gunicorn command line: compose, the images, the Procfile."""
    commands = {
        f"compose `{name}`": _command(entry)
        for name, entry in services.items()
        if _command(entry)[:1] == ["gunicorn"]
    }
    commands |= {
        f"{(folder / 'Dockerfile').relative_to(ROOT)}": _dockerfile_cmd(folder / "Dockerfile")
        for folder in PACKAGES.values()
    }
    for line in (DEPLOY / "Procfile.dev").read_text(encoding="utf-8").splitlines():
        name, _, command = line.partition(":")
        if "gunicorn" in command.split():
            commands[f"Procfile.dev `{name}`"] = command.split()
    assert len(commands) >= 3 * len(PACKAGES)
    return commands


def test_every_web_process_redacts_secrets_from_its_access_log(
    services: dict[str, dict[str, Any]],
) -> None:
    # the emailed links carry the invitation code and the reset token in their query string
    for where, command in _web_commands(services).items():
        logger = _gunicorn_setting(command, "--logger-class", "logger_class")
        assert logger == ACCESS_LOGGER, f"{where} logs links unredacted"


def test_every_web_process_keeps_the_gateways_connections_open_past_its_pauses(
    services: dict[str, dict[str, Any]],
) -> None:
    # gunicorn's default 2 s closed pooled connections under the gateway between autosaves
    for where, command in _web_commands(services).items():
        keepalive = _gunicorn_setting(command, "--keep-alive", "keepalive")
        assert keepalive is not None and int(str(keepalive)) >= 60, f"{where}: {keepalive}"


def test_every_service_seals_events_with_the_same_mounted_key(
    services: dict[str, dict[str, Any]],
) -> None:
    # producers seal codes and tokens in events and consumers open them: one key for all
    paths = set()
    for service in SERVICES:
        for name in (service, f"{service}-worker"):
            entry = services[name]
            key_path = _environment(entry).get("BUS_SEAL_KEY_FILE") or ""
            assert key_path.startswith("/"), f"`{name}` needs BUS_SEAL_KEY_FILE, a mounted file"
            mounted = [
                f"/run/secrets/{s if isinstance(s, str) else s.get('target', s['source'])}"
                for s in entry.get("secrets", [])
            ]
            assert key_path in mounted, f"`{name}`: {key_path} is not one of its secrets"
            paths.add(key_path)
    assert len(paths) == 1, paths
