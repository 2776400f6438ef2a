#!/usr/bin/env python3
"""Checks the deployment files in deploy/ without a container engine or a cluster.

    python3 deploy/check.py

What it holds them to, each derived from the code so that it stays true as the code grows:
- every JIJIAO_* name in deploy/ (compose, Kubernetes, systemd, Dockerfile, nginx, README) is a setting
  of server/src/config.rs (its struct fields, nested structs as OUTER__INNER) or an `env = "…"` of
  server/src/cli.rs; the environment given to our own containers holds nothing else (but RUST_LOG);
- every `jijiao …` command run by compose, Kubernetes, systemd, the Dockerfile or shown in
  deploy/README.md's code blocks is a command (and subcommand) of server/src/cli.rs;
- docker-compose.yml and every Kubernetes manifest parse, and what they name exists: services, volumes,
  ConfigMaps, Secrets, Service ports, Deployments, kustomization resources; the Deployment is ready on
  /readyz, servers do not sync tenants and the migration step (compose service, Job) runs `migrate` and
  `tenant sync`; the host names routed (Ingress, nginx) are the tenants' `hosts` in tenants/*/tenant.toml
  and every tenant gets one;
- images are our own (`…/jijiao:<workspace version>`) or official images with a pinned tag;
- the Dockerfile builds with the commands deploy/README.md lists (`cargo xtask plugins`,
  `cargo build --release … -p jijiao`), on the Rust release of Cargo.toml's rust-version, and runs as
  a non-root user with only the CJK font and CA certificates installed;
- servers are stopped with a signal server/src/app.rs shuts down gracefully on (`shutdown_signal`; the
  default SIGTERM unless STOPSIGNAL, stop_signal or KillSignal says otherwise), and are given at least as
  long as app.rs lets open requests finish (compose stop_grace_period, Kubernetes
  terminationGracePeriodSeconds after the preStop hook's sleep, systemd TimeoutStopSec; the platform's
  default where one is not set).

Needs PyYAML (`pip install pyyaml`; .ci/run installs it). Exits 1 with one line per problem.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("deploy/check.py: PyYAML is missing: python3 -m pip install pyyaml")

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
errors: list[str] = []


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def err(path: Path, message: str) -> None:
    errors.append(f"{rel(path)}: {message}")


# ---------------------------------------------------------------------------------------------------
# What the code defines: settings, commands, tenants' host names, versions.

CONFIG_RS = ROOT / "server/src/config.rs"
CLI_RS = ROOT / "server/src/cli.rs"
APP_RS = ROOT / "server/src/app.rs"
OTHER_ENV = {"RUST_LOG"}  # read by the tracing subscriber, not by Config


def strip_comments(source: str) -> str:
    return re.sub(r"^\s*//.*$", "", source, flags=re.M)


def settings() -> dict[str, str]:
    """JIJIAO_* variable -> dotted key, from the struct fields of config.rs (nested structs: `__`)."""
    source = strip_comments(CONFIG_RS.read_text(encoding="utf-8"))
    structs: dict[str, list[tuple[str, str]]] = {}
    for name, body in re.findall(r"pub struct (\w+)\s*\{(.*?)\n\}", source, flags=re.S):
        fields = []
        attrs: list[str] = []
        for line in body.splitlines():
            line = line.strip()
            if line.startswith("#["):
                attrs.append(line)
                continue
            m = re.match(r"pub (\w+)\s*:\s*([\w:<>, ]+?),?$", line)
            if m:
                if any("serde(" in a and ("rename" in a or "alias" in a or "flatten" in a) for a in attrs):
                    err(CONFIG_RS, f"field `{m.group(1)}` has a serde rename/alias/flatten: teach deploy/check.py about it")
                if not any("serde(" in a and "skip" in a for a in attrs):
                    fields.append((m.group(1), m.group(2).strip()))
            attrs = []
        structs[name] = fields
    if "Config" not in structs:
        err(CONFIG_RS, "no `pub struct Config` found (deploy/check.py reads the settings from it)")
        return {}
    out: dict[str, str] = {}

    def walk(struct: str, env_prefix: str, key_prefix: str, depth: int) -> None:
        for field, ty in structs[struct]:
            if ty in structs and depth < 4:
                walk(ty, f"{env_prefix}{field.upper()}__", f"{key_prefix}{field}.", depth + 1)
            else:
                out[f"{env_prefix}{field.upper()}"] = f"{key_prefix}{field}"

    walk("Config", "JIJIAO_", "", 0)
    if "JIJIAO_BIND" not in out or len(out) < 10:
        err(CONFIG_RS, f"found only {sorted(out)}: deploy/check.py no longer understands config.rs")
    for name in re.findall(r'env\s*=\s*"(JIJIAO_\w+)"', CLI_RS.read_text(encoding="utf-8")):
        out[name] = f"(command line: {name})"
    return out


def kebab(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def commands() -> dict[str, set[str] | None]:
    """Top-level command -> its subcommands (None: takes free arguments), from cli.rs's clap enums."""
    source = strip_comments(CLI_RS.read_text(encoding="utf-8"))
    enums: dict[str, str] = dict(re.findall(r"pub enum (\w+)\s*\{(.*?)\n\}", source, flags=re.S))

    def variants(body: str) -> list[tuple[str, str]]:
        out, current, depth = [], None, 0
        for line in body.splitlines():
            if depth == 0:
                m = re.match(r"\s{4}([A-Z]\w*)\s*([{,(]|$)", line)
                if m:
                    current = m.group(1)
                    out.append((current, line))
            elif current:
                out[-1] = (current, out[-1][1] + "\n" + line)
            depth += line.count("{") - line.count("}")
            depth = max(depth, 0)
        return out

    tree: dict[str, set[str] | None] = {}
    for variant, text in variants(enums.get("Command", "")):
        sub = re.search(r"command\s*:\s*(\w+)", text)
        if sub and sub.group(1) in enums:
            tree[kebab(variant)] = {kebab(v) for v, _ in variants(enums[sub.group(1)])}
        elif "trailing_var_arg" in text or variant == "Rules":
            tree[kebab(variant)] = None
        else:
            tree[kebab(variant)] = set()
    if "serve" not in tree or "migrate" not in tree:
        err(CLI_RS, f"found commands {sorted(tree)}: deploy/check.py no longer understands cli.rs")
    return tree


def tenant_hosts() -> dict[str, list[str]]:
    out = {}
    for path in sorted((ROOT / "tenants").glob("*/tenant.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out[data.get("code", path.parent.name)] = list(data.get("hosts", []))
    if not out:
        err(ROOT / "tenants", "no tenants/*/tenant.toml found")
    return out


def shutdown() -> tuple[set[str], int]:
    """The signals `jijiao serve` shuts down gracefully on, and for how many seconds it then lets open
    requests finish, from app.rs (`shutdown_signal` and the timeout around `graceful.shutdown()`)."""
    source = strip_comments(APP_RS.read_text(encoding="utf-8"))
    signals = set()
    if re.search(r"signal::ctrl_c\(\)", source):
        signals.add("SIGINT")
    if re.search(r"SignalKind::terminate\(\)", source):
        signals.add("SIGTERM")
    m = re.search(r"timeout\(\s*Duration::from_secs\((\d+)\)\s*,\s*graceful\.shutdown\(\)", source)
    if not signals or not m:
        err(APP_RS, "found no shutdown signal or no drain timeout (`timeout(Duration::from_secs(N), graceful.shutdown())`): "
            "deploy/check.py no longer understands app.rs")
    return signals, int(m.group(1)) if m else 30


SETTINGS = settings()
COMMANDS = commands()
STOP_SIGNALS, DRAIN_SECS = shutdown()
HOSTS = tenant_hosts()
ALL_HOSTS = {h: code for code, hosts in HOSTS.items() for h in hosts}
WORKSPACE = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))["workspace"]["package"]
VERSION = WORKSPACE["version"]
RUST_VERSION = WORKSPACE.get("rust-version", "")
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


# ---------------------------------------------------------------------------------------------------
# Shared checks.

SIGNAL_NUMBERS = {"2": "SIGINT", "3": "SIGQUIT", "9": "SIGKILL", "15": "SIGTERM"}


def check_stop_signal(path: Path, where: str, signal: str | None, setting: str) -> None:
    """`signal` is what `setting` (written with its separator: "KillSignal=") says, or None where it is not
    set (then the platform sends SIGTERM)."""
    name = str(signal or "SIGTERM").strip().upper()
    name = SIGNAL_NUMBERS.get(name, name if name.startswith("SIG") else f"SIG{name}")
    if name not in STOP_SIGNALS:
        said = f"{setting}{signal}" if signal else f"no {setting.strip(' :=')}, so SIGTERM"
        err(path, f"{where}: {said}, but `jijiao serve` shuts down gracefully only on {', '.join(sorted(STOP_SIGNALS))} "
            "(server/src/app.rs, shutdown_signal)")


GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
SYSTEMD_UNITS = GO_UNITS | {
    "usec": 1e-6, "msec": 1e-3, "sec": 1, "second": 1, "seconds": 1, "min": 60, "minute": 60, "minutes": 60,
    "hr": 3600, "hour": 3600, "hours": 3600,
}


def seconds(value: object, units: dict[str, float] = SYSTEMD_UNITS) -> float | None:
    """A duration as systemd (`1min 30s`, `45`, `infinity`), Kubernetes (an integer) or, with GO_UNITS,
    compose (`1m30s`) writes it, in seconds; None when it is not one."""
    text = str(value).strip().lower()
    if text == "infinity":
        return float("inf")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-zµ]+)\s*", text)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != re.sub(r"\s+", "", text) or any(u not in units for _, u in parts):
        return None
    return sum(float(n) * units[u] for n, u in parts)


def check_grace(
    path: Path, where: str, value: object, setting: str, default: float | None = None, before: float = 0,
    units: dict[str, float] = SYSTEMD_UNITS,
) -> None:
    """The time the platform gives a server between asking it to stop and killing it must cover the
    drain of app.rs (and `before`, spent in a preStop hook, where it counts against the same time)."""
    given = seconds(value, units) if value is not None else default
    if given is None:
        err(path, f"{where}: {setting} {value!r} is not a duration")
    elif given < DRAIN_SECS + before:
        said = f"{setting} is {value}" if value is not None else f"no {setting}, so the default {default:g} s"
        extra = f" after the preStop hook's {before:g} s" if before else ""
        err(path, f"{where}: {said}; give it at least {DRAIN_SECS + before:g} s (the server lets open requests "
            f"finish for up to {DRAIN_SECS} s{extra}, server/src/app.rs)")


def check_env_name(path: Path, name: str, where: str, own: bool) -> None:
    if name.startswith("JIJIAO_"):
        if name not in SETTINGS:
            err(path, f"{where}: {name} is not a setting of server/src/config.rs")
    elif own and name not in OTHER_ENV:
        err(path, f"{where}: {name} is neither a JIJIAO_* setting nor one of {sorted(OTHER_ENV)}")


def check_jijiao_argv(path: Path, argv: list[str], where: str) -> None:
    """argv after the `jijiao` word."""
    args = list(argv)
    while args and args[0].startswith("--config"):
        args = args[2:] if args[0] == "--config" else args[1:]
    if not args:
        err(path, f"{where}: `jijiao` without a command")
        return
    top = args[0]
    if top in ("--help", "-h", "--version", "-V", "help"):
        return
    if top not in COMMANDS:
        err(path, f"{where}: `jijiao {top}` is not a command (server/src/cli.rs has {', '.join(sorted(COMMANDS))})")
        return
    subs = COMMANDS[top]
    if subs:
        if len(args) < 2 or args[1].startswith("-"):
            if not (len(args) > 1 and args[1] in ("--help", "-h")):
                err(path, f"{where}: `jijiao {top}` needs a subcommand ({', '.join(sorted(subs))})")
        elif args[1] not in subs:
            err(path, f"{where}: `jijiao {top} {args[1]}` is not a command (`{top}` has {', '.join(sorted(subs))})")


# `jijiao` in command position of a shell line: at the start, after && ; | or `--`, after
# `exec <container>`, `sudo -u <user>`, or as a path ending in /jijiao.
SHELL_JIJIAO = re.compile(
    r"(?:^|&&|;|\||\s--\s|\bexec\s+(?:-\S+\s+)*[\w.][\w./-]*\s|\bsudo\s+-u\s+\w+\s)\s*(?:\S*/)?jijiao(?=\s|$)([^;&|\n]*)",
    re.M,
)


def check_shell(path: Path, text: str, where: str, bare_ok: bool = False) -> None:
    for m in SHELL_JIJIAO.finditer(text):
        rest = m.group(1).split("#")[0]
        if bare_ok and not rest.strip():
            continue
        try:
            argv = shlex.split(rest)
        except ValueError:
            argv = [a.strip("'\"") for a in rest.split()]
        argv = [a for a in argv if not a.startswith("<")]
        check_jijiao_argv(path, argv, f"{where}: `{('jijiao' + rest).strip()}`")


def check_container_command(path: Path, entrypoint, command, where: str) -> str:
    """Our image's ENTRYPOINT is ["jijiao"]; returns the command text that runs."""
    def as_list(v):
        if v is None:
            return None
        return shlex.split(v) if isinstance(v, str) else [str(x) for x in v]

    entry, cmd = as_list(entrypoint), as_list(command)
    if entry is None:
        entry = ["jijiao"]
    if entry[:2] in (["/bin/sh", "-c"], ["sh", "-c"], ["/bin/bash", "-c"], ["bash", "-c"]):
        script = " ".join(entry[2:] + (cmd or []))
        if not SHELL_JIJIAO.search(script):
            err(path, f"{where}: the shell script runs no `jijiao` command: {script!r}")
        check_shell(path, script, where)
        return script
    if Path(entry[0]).name == "jijiao":
        argv = entry[1:] + (cmd if cmd is not None else ["serve"])
        check_jijiao_argv(path, argv, where)
        return "jijiao " + " ".join(argv)
    err(path, f"{where}: runs {entry[0]!r}, not jijiao")
    return ""


OWN_IMAGE = re.compile(r"^(?:[\w.-]+(?::\d+)?/)*jijiao:([\w.-]+)(@sha256:[0-9a-f]{64})?$")
RELEASE_TAG = r"RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ"
OFFICIAL_IMAGES = {
    "postgres": r"\d+(\.\d+)?(-(bookworm|trixie|alpine[\d.]*))?",
    "nginx": r"\d+\.\d+\.\d+(-alpine)?",
    "caddy": r"\d+\.\d+\.\d+(-alpine)?",
    "debian": r"\d+(\.\d+)?-slim",
    "rust": r"\d+\.\d+\.\d+-(bookworm|trixie)",
    "quay.io/minio/minio": RELEASE_TAG,
    "quay.io/minio/mc": RELEASE_TAG,
    "axllent/mailpit": r"v\d+\.\d+\.\d+",
}


def check_image(path: Path, image: str, where: str) -> str:
    """'own', 'official' or '' (and an error)."""
    m = OWN_IMAGE.match(image)
    if m:
        if m.group(1) != VERSION:
            err(path, f"{where}: image {image}: our image's tag should be the workspace version {VERSION} (Cargo.toml)")
        return "own"
    repo, _, tag = image.partition("@")[0].rpartition(":") if ":" in image.split("/")[-1] else (image, "", "")
    if repo not in OFFICIAL_IMAGES:
        err(path, f"{where}: image {image} is neither ours (…/jijiao:TAG) nor one of the official images {sorted(OFFICIAL_IMAGES)}")
        return ""
    if not tag or not re.fullmatch(OFFICIAL_IMAGES[repo], tag):
        err(path, f"{where}: image {image} is not pinned (want {repo}:<{OFFICIAL_IMAGES[repo]}>)")
        return ""
    return "official"


def check_text_env_names(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        for name in re.findall(r"\bJIJIAO_[A-Z0-9_]*[A-Z0-9]\b", line):
            check_env_name(path, name, f"line {lineno}", own=False)
        if re.search(r"\bJIJIAO_[A-Z0-9_]*_(?=…|\.\.\.)", line):
            err(path, f"line {lineno}: a JIJIAO_ name cut short with an ellipsis: write it out")


def load_yaml_docs(path: Path) -> list[dict]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError as e:
        err(path, f"does not parse: {e}")
        return []
    for d in docs:
        if not isinstance(d, dict):
            err(path, "a document that is not a mapping")
    return [d for d in docs if isinstance(d, dict)]


# ---------------------------------------------------------------------------------------------------
# The Dockerfile.

DOCKERFILE = DEPLOY / "Dockerfile"
README = DEPLOY / "README.md"


def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    out, buf = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        buf += line
        word, _, rest = buf.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def build_commands(script: str) -> list[str]:
    """`cargo …` and `rustup …` commands of a shell script, whitespace normalised."""
    out = []
    for part in re.split(r"&&|;|\n", script):
        words = part.split()
        while words and re.match(r"^\w+=", words[0]):
            words = words[1:]
        if words and words[0] in ("cargo", "rustup"):
            out.append(" ".join(words))
    return out


def check_dockerfile() -> tuple[list[str], str]:
    """Returns the build commands and the server's port (from JIJIAO_BIND)."""
    if not DOCKERFILE.exists():
        err(DOCKERFILE, "missing")
        return [], "8080"
    stages: list[list[tuple[str, str]]] = []
    stage_names: set[str] = set()
    for word, rest in dockerfile_instructions(DOCKERFILE):
        if word == "FROM":
            parts = rest.split()
            image = [p for p in parts if not p.startswith("--")][0]
            if image not in stage_names:
                check_image(DOCKERFILE, image, "FROM")
                if image.startswith("rust:") and RUST_VERSION and not image.split(":")[1].startswith(RUST_VERSION + "."):
                    err(DOCKERFILE, f"FROM {image}: the builder's Rust is not Cargo.toml's rust-version {RUST_VERSION}")
            if len(parts) >= 3 and parts[-2].upper() == "AS":
                stage_names.add(parts[-1])
            stages.append([])
        elif stages:
            stages[-1].append((word, rest))
    if len(stages) < 2:
        err(DOCKERFILE, "want a multi-stage build (a build stage and a runtime stage)")
        return [], "8080"
    cmds = [c for stage in stages[:-1] for w, r in stage if w == "RUN" for c in build_commands(re.sub(r"--mount=\S+", "", r))]
    if "cargo xtask plugins" not in cmds:
        err(DOCKERFILE, "the build stage does not run `cargo xtask plugins` (the plugins tenants pin by sha256)")
    if not any(c.startswith("cargo build") and "--release" in c.split() and re.search(r"(-p|--package)\s+jijiao\b", c) for c in cmds):
        err(DOCKERFILE, "the build stage does not run `cargo build --release -p jijiao`")
    if cmds and "cargo xtask plugins" in cmds and cmds.index("cargo xtask plugins") > max(i for i, c in enumerate(cmds) if c.startswith("cargo")):
        err(DOCKERFILE, "build the plugins before the server")

    runtime = stages[-1]
    env: dict[str, str] = {}
    for word, rest in runtime:
        if word == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", rest):
                env[name] = value
                check_env_name(DOCKERFILE, name, "ENV", own=True)
        elif word == "RUN":
            for m in re.finditer(r"apt-get install ([^&;]*)", rest):
                packages = {p for p in m.group(1).split() if not p.startswith("-")}
                extra = packages - {"ca-certificates", "fonts-wqy-microhei"}
                if extra:
                    err(DOCKERFILE, f"runtime installs {sorted(extra)}: only the CJK font and CA certificates belong there")
                if "fonts-wqy-microhei" not in packages:
                    err(DOCKERFILE, "runtime does not install fonts-wqy-microhei (certificate PDFs)")
            if "cargo" in rest.split():
                err(DOCKERFILE, "the runtime stage runs cargo")
    user = [rest for word, rest in runtime if word == "USER"]
    if not user or user[-1].split(":")[0] in ("root", "0"):
        err(DOCKERFILE, "the runtime stage must end as a non-root USER")
    if env.get("JIJIAO_CERTIFICATE_FONT") != FONT:
        err(DOCKERFILE, f"ENV JIJIAO_CERTIFICATE_FONT should be {FONT} (Debian's fonts-wqy-microhei)")
    copies = [rest.split()[-1].rstrip("/") for word, rest in runtime if word == "COPY"]
    for setting, what in (("JIJIAO_TENANTS_DIR", "tenants"), ("JIJIAO_PLUGINS_DIR", "plugins/dist")):
        if env.get(setting, "").rstrip("/") not in copies:
            err(DOCKERFILE, f"ENV {setting}={env.get(setting)!r} is not where the runtime stage copies {what} ({copies})")
    stop = [rest for word, rest in runtime if word == "STOPSIGNAL"]
    check_stop_signal(DOCKERFILE, "runtime stage", stop[-1] if stop else None, "STOPSIGNAL ")
    entry = [rest for word, rest in runtime if word == "ENTRYPOINT"]
    cmd = [rest for word, rest in runtime if word == "CMD"]
    try:
        entry_argv = yaml.safe_load(entry[-1]) if entry else None
        cmd_argv = yaml.safe_load(cmd[-1]) if cmd else None
    except yaml.YAMLError:
        entry_argv = cmd_argv = None
    if entry_argv != ["jijiao"]:
        err(DOCKERFILE, 'ENTRYPOINT should be ["jijiao"] (compose and Kubernetes pass only the command)')
    elif isinstance(cmd_argv, list):
        check_jijiao_argv(DOCKERFILE, cmd_argv, "CMD")
    port = env.get("JIJIAO_BIND", "127.0.0.1:8080").rsplit(":", 1)[-1]
    if env.get("JIJIAO_BIND", "").startswith("127."):
        err(DOCKERFILE, "JIJIAO_BIND listens on loopback only: nothing outside the container reaches it")
    return cmds, port


# ---------------------------------------------------------------------------------------------------
# deploy/README.md.

def check_readme(docker_cmds: list[str]) -> None:
    if not README.exists():
        err(README, "missing")
        return
    text = README.read_text(encoding="utf-8")
    blocks = list(re.finditer(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M))
    for block in blocks:
        lineno = text[: block.start()].count("\n") + 1
        check_shell(README, block.group(1), f"code block at line {lineno}")
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    for m in re.finditer(r"`([^`\n]+)`", prose):
        lineno = text.count("\n", 0, text.find(m.group(0))) + 1
        check_shell(README, m.group(1), f"line {lineno}", bare_ok=True)
    section = re.search(r"^#+ Building without a container engine\s*$(.*?)(?=^#+ )", text, flags=re.S | re.M)
    if not section:
        err(README, 'no section "Building without a container engine" (the Dockerfile\'s build commands)')
        return
    code = re.search(r"^```[^\n]*\n(.*?)^```", section.group(1), flags=re.S | re.M)
    readme_cmds = build_commands(code.group(1)) if code else []
    if readme_cmds != docker_cmds:
        err(README, f'"Building without a container engine" lists {readme_cmds}, the Dockerfile runs {docker_cmds}')


# ---------------------------------------------------------------------------------------------------
# docker-compose.yml and the nginx configuration.

COMPOSE = DEPLOY / "docker-compose.yml"
NGINX = DEPLOY / "nginx/jijiao.conf"


def env_mapping(path: Path, value, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        return dict((str(x).split("=", 1) + [""])[:2] for x in value)
    err(path, f"{where}: environment is neither a mapping nor a list")
    return {}


def check_compose(port: str) -> list[str]:
    """Returns the names of the services that run `jijiao serve`."""
    docs = load_yaml_docs(COMPOSE) if COMPOSE.exists() else (err(COMPOSE, "missing") or [])
    if len(docs) != 1:
        return []
    services = docs[0].get("services") or {}
    volumes = docs[0].get("volumes") or {}
    servers, migrators, kinds = [], [], set()
    for name, svc in services.items():
        where = f"service {name}"
        if not isinstance(svc, dict):
            err(COMPOSE, f"{where}: not a mapping")
            continue
        image = svc.get("image")
        if not image:
            err(COMPOSE, f"{where}: no image (name a pinned image, or our jijiao:{VERSION} with a build)")
            continue
        kind = check_image(COMPOSE, str(image), where)
        repo = str(image).rsplit(":", 1)[0]
        kinds.add(repo if kind == "official" else kind)
        env = env_mapping(COMPOSE, svc.get("environment"), where)
        for key in env:
            check_env_name(COMPOSE, key, where, own=kind == "own")
        for dep, cond in (svc.get("depends_on") or {}).items() if isinstance(svc.get("depends_on"), dict) else (
            (d, None) for d in svc.get("depends_on") or []
        ):
            if dep not in services:
                err(COMPOSE, f"{where}: depends on unknown service {dep}")
        for vol in svc.get("volumes") or []:
            source = str(vol).split(":")[0] if isinstance(vol, str) else str(vol.get("source", ""))
            if source.startswith((".", "/")):
                if source.startswith(".") and not (DEPLOY / source).exists():
                    err(COMPOSE, f"{where}: mounts {source}, which does not exist next to the compose file")
            elif source and source not in volumes:
                err(COMPOSE, f"{where}: volume {source} is not declared under volumes:")
        build = svc.get("build")
        if build:
            context = DEPLOY / (build.get("context", ".") if isinstance(build, dict) else build)
            dockerfile = context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
            if dockerfile.resolve() != DOCKERFILE:
                err(COMPOSE, f"{where}: builds {rel(dockerfile.resolve())}, not deploy/Dockerfile")
        if kind != "own":
            continue
        script = check_container_command(COMPOSE, svc.get("entrypoint"), svc.get("command"), where)
        if re.search(r"\bjijiao serve\b", script):
            servers.append(name)
            if env.get("JIJIAO_SYNC_TENANTS", "").lower() != "false":
                err(COMPOSE, f"{where}: servers should set JIJIAO_SYNC_TENANTS=false (the migrate service syncs tenants)")
            if env.get("JIJIAO_TRUST_PROXY", "").lower() != "true":
                err(COMPOSE, f"{where}: behind the proxy, set JIJIAO_TRUST_PROXY=true")
            if svc.get("stop_signal") is not None:  # else the image's STOPSIGNAL, checked with the Dockerfile
                check_stop_signal(COMPOSE, where, str(svc["stop_signal"]), "stop_signal: ")
            check_grace(COMPOSE, where, svc.get("stop_grace_period"), "stop_grace_period", default=10, units=GO_UNITS)
            deps = svc.get("depends_on") or {}
            migrate_deps = [d for d in deps if d in migrators or "migrate" in d] if isinstance(deps, dict) else []
            if not any(isinstance(deps, dict) and deps[d].get("condition") == "service_completed_successfully" for d in migrate_deps):
                err(COMPOSE, f"{where}: should depend on the migrate service with condition service_completed_successfully")
        elif re.search(r"\bjijiao migrate\b", script) and re.search(r"\bjijiao tenant sync\b", script):
            migrators.append(name)
    if len(servers) < 2:
        err(COMPOSE, f"want at least two `jijiao serve` services, found {servers}")
    if not migrators:
        err(COMPOSE, "no service runs `jijiao migrate` and `jijiao tenant sync`")
    for want in ("postgres", "quay.io/minio/minio", "axllent/mailpit"):
        if want not in kinds:
            err(COMPOSE, f"no {want} service")
    if not kinds & {"nginx", "caddy"}:
        err(COMPOSE, "no reverse proxy service (nginx or caddy)")
    check_nginx(servers, port)
    return servers


def check_nginx(servers: list[str], port: str) -> None:
    if not NGINX.exists():
        err(NGINX, "missing")
        return
    text = re.sub(r"#.*", "", NGINX.read_text(encoding="utf-8"))
    names = [h for m in re.findall(r"server_name\s+([^;]+);", text) for h in m.split() if h != "_"]
    for host in names:
        if host not in ALL_HOSTS:
            err(NGINX, f"server_name {host} is no tenant's host (tenants/*/tenant.toml hosts)")
    for code in HOSTS:
        if not set(HOSTS[code]) & set(names):
            err(NGINX, f"no server_name routes tenant {code} ({HOSTS[code]})")
    upstream = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", text, flags=re.M)
    if sorted(h for h, _ in upstream) != sorted(servers):
        err(NGINX, f"upstream servers {[h for h, _ in upstream]} are not the compose servers {servers}")
    for host, p in upstream:
        if p != port:
            err(NGINX, f"upstream {host}:{p}: the servers listen on port {port} (JIJIAO_BIND)")
    if not re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$remote_addr\s*;", text):
        err(NGINX, "set `proxy_set_header X-Forwarded-For $remote_addr;` (the server trusts the header's first address)")
    if not re.search(r"proxy_set_header\s+Host\s+\$host\s*;", text):
        err(NGINX, "pass the Host header (`proxy_set_header Host $host;`): tenants are resolved from it")


# ---------------------------------------------------------------------------------------------------
# Kubernetes.

K8S = DEPLOY / "k8s"
API_VERSIONS = {
    "Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1", "Deployment": "apps/v1",
    "Job": "batch/v1", "Ingress": "networking.k8s.io/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1", "Kustomization": "kustomize.config.k8s.io/v1beta1",
}
REQUIRED_KINDS = {"Deployment", "Service", "Ingress", "ConfigMap", "Secret", "Job", "HorizontalPodAutoscaler"}


def check_k8s(port: str) -> None:
    files = sorted(p for p in K8S.rglob("*") if p.suffix in (".yaml", ".yml"))
    if not files:
        err(K8S, "no manifests")
        return
    objects: list[tuple[Path, dict]] = []
    kustomizations: list[tuple[Path, dict]] = []
    for path in files:
        for doc in load_yaml_docs(path):
            kind, api = doc.get("kind"), doc.get("apiVersion")
            if kind not in API_VERSIONS:
                err(path, f"kind {kind!r} is not one deploy/check.py knows ({sorted(API_VERSIONS)})")
                continue
            if api != API_VERSIONS[kind]:
                err(path, f"{kind}: apiVersion {api!r}, want {API_VERSIONS[kind]}")
            if kind == "Kustomization":
                kustomizations.append((path, doc))
                continue
            name = (doc.get("metadata") or {}).get("name")
            if not name:
                err(path, f"{kind} without metadata.name")
                continue
            ns = doc["metadata"].get("namespace")
            if kind != "Namespace" and ns != "jijiao":
                err(path, f"{kind} {name}: namespace {ns!r}, want jijiao")
            objects.append((path, doc))

    def named(kind: str) -> dict[str, tuple[Path, dict]]:
        return {d["metadata"]["name"]: (p, d) for p, d in objects if d["kind"] == kind}

    missing = REQUIRED_KINDS - {d["kind"] for _, d in objects}
    if missing:
        err(K8S, f"no {sorted(missing)} manifest")
    configmaps, secrets, services, deployments = named("ConfigMap"), named("Secret"), named("Service"), named("Deployment")

    for path, doc in list(configmaps.values()) + list(secrets.values()):
        keys = list((doc.get("data") or {}).keys()) + list((doc.get("stringData") or {}).keys())
        for key in keys:
            check_env_name(path, key, f"{doc['kind']} {doc['metadata']['name']}", own=True)

    # Kustomizations: resources exist, every manifest is in one (but examples), the image tags agree.
    listed: set[Path] = set()
    tags = set()
    for path, doc in kustomizations:
        for res in doc.get("resources") or []:
            target = (path.parent / res).resolve()
            if not target.exists():
                err(path, f"resource {res} does not exist")
            listed.add(target)
        for image in doc.get("images") or []:
            if image.get("name") != "jijiao":
                err(path, f"images: {image.get('name')!r} is not our image (jijiao)")
            full = f"{image.get('newName', image.get('name'))}:{image.get('newTag', '')}"
            check_image(path, full, "images")
            tags.add(str(image.get("newTag")))
    if len(tags) > 1:
        err(K8S, f"the kustomizations name different image tags {sorted(tags)}: the Job and the servers must run the same release")
    for path in files:
        if path.name.startswith("kustomization") or ".example." in path.name:
            continue
        if path.resolve() not in listed:
            err(path, "not listed in any kustomization.yaml (name it *.example.yaml if it is only an example)")

    def pod_spec(path: Path, doc: dict) -> dict:
        spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
        where = f"{doc['kind']} {doc['metadata']['name']}"
        sc = spec.get("securityContext") or {}
        if not sc.get("runAsNonRoot"):
            err(path, f"{where}: securityContext.runAsNonRoot should be true")
        for c in spec.get("containers") or []:
            cw = f"{where} container {c.get('name')}"
            kind = check_image(path, str(c.get("image", "")), cw)
            for e in c.get("env") or []:
                check_env_name(path, e.get("name", ""), cw, own=kind == "own")
            for src in c.get("envFrom") or []:
                if "configMapRef" in src and src["configMapRef"].get("name") not in configmaps:
                    err(path, f"{cw}: envFrom ConfigMap {src['configMapRef'].get('name')} is not defined")
                if "secretRef" in src and src["secretRef"].get("name") not in secrets:
                    err(path, f"{cw}: envFrom Secret {src['secretRef'].get('name')} is not defined (not even as an example)")
            if kind == "own":
                c["_script"] = check_container_command(path, c.get("command"), c.get("args"), cw)
                c["_env"] = {}
                for src in c.get("envFrom") or []:
                    if "configMapRef" in src and src["configMapRef"].get("name") in configmaps:
                        c["_env"].update(configmaps[src["configMapRef"]["name"]][1].get("data") or {})
                c["_env"].update({e.get("name"): str(e.get("value", "")) for e in c.get("env") or []})
        return spec

    servers = 0
    for path, doc in deployments.values():
        spec = pod_spec(path, doc)
        where = f"Deployment {doc['metadata']['name']}"
        labels = ((doc["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        doc["_labels"] = labels
        sel = (doc["spec"].get("selector") or {}).get("matchLabels") or {}
        if not sel or any(labels.get(k) != v for k, v in sel.items()):
            err(path, f"{where}: selector {sel} does not match the template's labels {labels}")
        for c in spec.get("containers") or []:
            if not re.search(r"\bjijiao serve\b", c.get("_script", "")):
                continue
            servers += 1
            probe = ((c.get("readinessProbe") or {}).get("httpGet") or {})
            if probe.get("path") != "/readyz":
                err(path, f"{where}: the readiness probe should be GET /readyz")
            ports = {str(p.get("containerPort")) for p in c.get("ports") or []}
            if port not in ports:
                err(path, f"{where}: containerPort {sorted(ports)} is not the port the server listens on ({port}, JIJIAO_BIND)")
            if str(c["_env"].get("JIJIAO_SYNC_TENANTS", "")).lower() != "false":
                err(path, f"{where}: set JIJIAO_SYNC_TENANTS=false (the migration Job syncs tenants)")
            if not (c.get("resources") or {}).get("requests", {}).get("cpu"):
                err(path, f"{where}: no CPU request (the HorizontalPodAutoscaler scales on CPU utilisation)")
            # The kubelet runs the preStop hook, then sends SIGTERM; the grace period counts from the hook.
            pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {})
            waits = float((pre_stop.get("sleep") or {}).get("seconds") or 0)
            hook = " ".join(str(a) for a in ((pre_stop.get("exec") or {}).get("command") or []))
            waits += sum(float(n) for n in re.findall(r"\bsleep\s+(\d+(?:\.\d+)?)\b", hook))
            check_grace(path, where, spec.get("terminationGracePeriodSeconds"), "terminationGracePeriodSeconds",
                        default=30, before=waits)
    if deployments and not servers:
        err(K8S, "no Deployment runs `jijiao serve`")

    jobs = named("Job")
    if jobs and not any(
        re.search(r"\bjijiao migrate\b", c.get("_script", "")) and re.search(r"\bjijiao tenant sync\b", c.get("_script", ""))
        for path, doc in jobs.values()
        for c in pod_spec(path, doc).get("containers") or []
    ):
        err(K8S, "no Job runs `jijiao migrate` and `jijiao tenant sync`")

    for path, doc in services.values():
        sel = (doc.get("spec") or {}).get("selector") or {}
        targets = [d for _, d in deployments.values() if sel and all(d.get("_labels", {}).get(k) == v for k, v in sel.items())]
        if not targets:
            err(path, f"Service {doc['metadata']['name']}: selector {sel} matches no Deployment")
        for p in (doc.get("spec") or {}).get("ports") or []:
            tp = p.get("targetPort")
            names = {c2.get("name") for d in targets for c in d["spec"]["template"]["spec"]["containers"] for c2 in c.get("ports") or []}
            nums = {str(c2.get("containerPort")) for d in targets for c in d["spec"]["template"]["spec"]["containers"] for c2 in c.get("ports") or []}
            if targets and str(tp) not in names | nums:
                err(path, f"Service {doc['metadata']['name']}: targetPort {tp} is no container port of the Deployment")

    routed: set[str] = set()
    for path, doc in named("Ingress").values():
        where = f"Ingress {doc['metadata']['name']}"
        spec = doc.get("spec") or {}
        rule_hosts = set()
        for rule in spec.get("rules") or []:
            host = rule.get("host")
            rule_hosts.add(host)
            if host not in ALL_HOSTS:
                err(path, f"{where}: host {host} is no tenant's host (tenants/*/tenant.toml hosts)")
            routed.add(host)
            for p in ((rule.get("http") or {}).get("paths") or []):
                backend = (p.get("backend") or {}).get("service") or {}
                svc = services.get(backend.get("name"))
                if not svc:
                    err(path, f"{where}: backend Service {backend.get('name')} is not defined")
                    continue
                want = backend.get("port") or {}
                ports = svc[1]["spec"].get("ports") or []
                if not any(want.get("name") == sp.get("name") or want.get("number") == sp.get("port") for sp in ports):
                    err(path, f"{where}: backend port {want} is not a port of Service {backend.get('name')}")
        tls_hosts = {h for t in spec.get("tls") or [] for h in t.get("hosts") or []}
        if tls_hosts != rule_hosts:
            err(path, f"{where}: TLS hosts {sorted(tls_hosts)} differ from the routed hosts {sorted(rule_hosts)}")
    for code, hosts in HOSTS.items():
        if named("Ingress") and not set(hosts) & routed:
            err(K8S, f"no Ingress routes tenant {code} ({hosts})")

    for path, doc in named("HorizontalPodAutoscaler").values():
        ref = (doc.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") != "Deployment" or ref.get("name") not in deployments:
            err(path, f"HorizontalPodAutoscaler {doc['metadata']['name']}: scaleTargetRef {ref} names no Deployment here")
        lo, hi = doc["spec"].get("minReplicas", 1), doc["spec"].get("maxReplicas", 0)
        if not 1 <= lo <= hi:
            err(path, f"HorizontalPodAutoscaler: minReplicas {lo} / maxReplicas {hi}")
    for path, doc in named("PodDisruptionBudget").values():
        sel = ((doc.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not any(all(d.get("_labels", {}).get(k) == v for k, v in sel.items()) for _, d in deployments.values()):
            err(path, f"PodDisruptionBudget {doc['metadata']['name']}: selector {sel} matches no Deployment")

    # Offline render with kubectl, when it is installed (it is not required).
    kubectl = shutil.which("kubectl")
    if kubectl:
        for path, _ in kustomizations:
            r = subprocess.run([kubectl, "kustomize", str(path.parent)], capture_output=True, text=True)
            if r.returncode != 0:
                err(path, f"`kubectl kustomize {rel(path.parent)}` failed: {r.stderr.strip()}")


# ---------------------------------------------------------------------------------------------------
# systemd.

SYSTEMD = DEPLOY / "systemd"


def check_systemd() -> None:
    units = sorted(SYSTEMD.glob("*.service"))
    if not units:
        err(SYSTEMD, "no systemd unit")
    for unit in units:
        entries: list[tuple[str, str]] = []
        for line in unit.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith(("#", ";", "[")) and "=" in line:
                key, _, value = line.partition("=")
                entries.append((key.strip(), value.strip()))
        values = {}
        for key, value in entries:
            values.setdefault(key, []).append(value)
            if key == "Environment":
                for assignment in shlex.split(value):
                    check_env_name(unit, assignment.split("=", 1)[0], "Environment=", own=True)
            elif key == "EnvironmentFile":
                local = SYSTEMD / Path(value.lstrip("-")).name
                if not local.exists():
                    err(unit, f"EnvironmentFile={value}: no example {rel(local)} next to the unit")
            elif key == "ExecStart":
                argv = shlex.split(value.lstrip("-@:+!"))
                if Path(argv[0]).name != "jijiao":
                    err(unit, f"ExecStart runs {argv[0]}, not jijiao")
                else:
                    check_jijiao_argv(unit, argv[1:], "ExecStart")
        kill_signal = values.get("KillSignal", [""])[-1]
        check_stop_signal(unit, "[Service]", kill_signal or None, "KillSignal=")
        for key in ("TimeoutStopSec", "TimeoutSec"):
            if values.get(key, [""])[-1]:
                check_grace(unit, "[Service]", values[key][-1], key)
                break
        if values.get("MemoryDenyWriteExecute", ["no"])[-1] in ("yes", "true", "1"):
            err(unit, "MemoryDenyWriteExecute breaks wasmtime (it compiles the rule plugins at run time)")
        if values.get("User", ["root"])[-1] in ("root", "0") and values.get("DynamicUser", ["no"])[-1] != "yes":
            err(unit, "runs as root: set User=")
        analyze = shutil.which("systemd-analyze")
        if analyze:
            r = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True)
            problems = [
                l for l in (r.stdout + r.stderr).splitlines()
                if l.strip() and "is not executable" not in l and "/usr/local/bin/jijiao" not in l
            ]
            if problems:
                err(unit, "systemd-analyze verify: " + " | ".join(problems))
    for env_file in sorted(SYSTEMD.glob("*.env")):
        for lineno, line in enumerate(env_file.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                name = line.split("=", 1)[0].strip()
                if "=" not in line:
                    err(env_file, f"line {lineno}: not NAME=value")
                check_env_name(env_file, name, f"line {lineno}", own=True)


# ---------------------------------------------------------------------------------------------------

def main() -> int:
    docker_cmds, port = check_dockerfile()
    check_readme(docker_cmds)
    check_compose(port)
    check_k8s(port)
    check_systemd()
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file() and path != Path(__file__).resolve() and path.suffix != ".pyc":
            check_text_env_names(path)
    if errors:
        print(f"deploy/check.py: {len(errors)} problem(s):", file=sys.stderr)
        for e in dict.fromkeys(errors):
            print(f"  {e}", file=sys.stderr)
        return 1
    files = sum(1 for p in DEPLOY.rglob("*") if p.is_file())
    print(f"deploy/check.py: OK ({files} files in deploy/, {len(SETTINGS)} settings, {len(COMMANDS)} commands, "
          f"tenants {', '.join(HOSTS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
