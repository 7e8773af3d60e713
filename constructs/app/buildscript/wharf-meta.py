#!/usr/bin/env python3
"""Wharf build metadata (docs/build-metadata.md).

  wharf-meta.py detect            print the build settings as shell assignments
                                  after checking wharf.json and the Procfile
  wharf-meta.py generate ARGS     print wharf-build.json
  wharf-meta.py build-config      turn `aws ssm get-parameters` JSON (stdin)
                                  into export lines for the build config

Runs in the app's source folder, inside CodeBuild, with the Python 3 of the
standard build image. Errors go to stderr and exit with status 2.
"""
import argparse
import json
import os
import re
import shlex
import sys

CONFIG_FILE = "wharf.json"
PROCFILE = "Procfile"
APP_JSON = "app.json"
# Test services: the image each runs and the default version (a tag of the
# official image). app.json add-on plans map onto them (Heroku CI).
SERVICES = {"postgres": "16", "redis": "7"}
ADDONS = {
    "heroku-postgresql": "postgres", "heroku-postgresql:in-dyno": "postgres",
    "heroku-redis": "redis", "heroku-redis:in-dyno": "redis",
}
VERSION_RE = re.compile(r"^[0-9][0-9A-Za-z.-]{0,31}$")
REPORT_RE = re.compile(r"^[A-Za-z0-9._/-]+$")
DEFAULT_BUILDER = "heroku/builder:24"
PROC_RE = re.compile(r"^[a-z][a-z0-9]{0,15}$")
SCHEDULE_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
SCHEDULE_RE = re.compile(r"^(cron\([^()]+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$")
PATH_RE = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._/-]*$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BUILDER_RE = re.compile(r"^[A-Za-z0-9._/:@-]+$")
CPU = (256, 512, 1024, 2048, 4096, 8192, 16384)
# Process types buildpacks declare for tooling, not for running.
CNB_TOOLING = ("console", "rake", "shell")
# EventBridge's limit on a rule name, and the longest schedule name under any
# prefix and app. The App construct passes the bound for its prefix and app
# (WHARF_MAX_SCHEDULE_NAME, from contract.MaxScheduleNameLength);
# schedule_name_max computes the same when it is not given.
RULE_NAME_MAX = 64
SCHEDULE_NAME_CAP = 32


def schedule_name_max(prefix, app, given=0):
    if given and given > 0:
        return given
    return min(SCHEDULE_NAME_CAP, RULE_NAME_MAX - len(f"{prefix}-{app}_schedule-"))


class MetaError(Exception):
    pass


def fail(msg):
    raise MetaError(msg)


def load_config():
    if not os.path.exists(CONFIG_FILE):
        return {}
    try:
        with open(CONFIG_FILE, encoding="utf-8") as f:
            cfg = json.load(f)
    except ValueError as e:
        fail(f"{CONFIG_FILE}: not valid JSON: {e}")
    if not isinstance(cfg, dict):
        fail(f"{CONFIG_FILE}: must be a JSON object")
    unknown = set(cfg) - {"build", "release", "processes", "schedules", "test"}
    if unknown:
        fail(f"{CONFIG_FILE}: unknown keys {sorted(unknown)} (allowed: build, release, processes, schedules, test)")
    return cfg


def load_procfile():
    procs = {}
    if not os.path.exists(PROCFILE):
        return procs
    with open(PROCFILE, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, sep, command = line.partition(":")
            name, command = name.strip(), command.strip()
            if not sep or not command:
                fail(f"{PROCFILE}:{n}: expected '<type>: <command>'")
            if name in procs:
                fail(f"{PROCFILE}:{n}: process type {name!r} is declared twice")
            procs[name] = command
    return procs


def build_settings(cfg):
    build = cfg.get("build", {})
    if not isinstance(build, dict):
        fail(f"{CONFIG_FILE}: build must be an object")
    unknown = set(build) - {"system", "dockerfile", "builder"}
    if unknown:
        fail(f"{CONFIG_FILE}: build: unknown keys {sorted(unknown)}")
    dockerfile = build.get("dockerfile", "Dockerfile")
    if not isinstance(dockerfile, str) or not PATH_RE.match(dockerfile) or ".." in dockerfile.split("/"):
        fail(f"{CONFIG_FILE}: build.dockerfile {dockerfile!r}: must be a relative path inside the repository")
    system = build.get("system")
    if system is None:
        system = "dockerfile" if os.path.exists(dockerfile) else "buildpacks"
    if system not in ("dockerfile", "buildpacks"):
        fail(f"{CONFIG_FILE}: build.system {system!r}: must be dockerfile or buildpacks")
    if system == "dockerfile" and not os.path.exists(dockerfile):
        fail(f"{CONFIG_FILE}: build.system is dockerfile but {dockerfile} does not exist")
    builder = build.get("builder", DEFAULT_BUILDER)
    if not isinstance(builder, str) or not BUILDER_RE.match(builder):
        fail(f"{CONFIG_FILE}: build.builder {builder!r}: must be an image reference")
    return system, dockerfile, builder


def cnb_processes(path):
    """Process types from the io.buildpacks.build.metadata image label."""
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    if not text:
        return {}
    try:
        label = json.loads(text)
    except ValueError as e:
        fail(f"buildpack metadata label: not valid JSON: {e}")
    procs = {}
    for p in label.get("processes") or []:
        kind = p.get("type", "")
        cmd = p.get("command", [])
        if isinstance(cmd, str):
            cmd = [cmd]
        args = list(p.get("args") or [])
        if not cmd or kind in CNB_TOOLING:
            continue
        if not PROC_RE.match(kind) and kind != "release":
            print(f"wharf: skipping buildpack process type {kind!r}: not a valid Wharf process type", file=sys.stderr)
            continue
        if p.get("direct", True):
            procs[kind] = shlex.join(cmd + args)
        else:
            procs[kind] = " ".join([cmd[0]] + [shlex.quote(a) for a in args])
    return procs


def positive_int(value, where):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(f"{where}: must be a non-negative integer")
    return value


def merge(cfg, procfile, cnb):
    """Process commands: wharf.json over Procfile over buildpack label."""
    base = procfile if procfile else cnb
    release = base.pop("release", "")
    if "release" in cfg:
        release = cfg["release"]
        if not isinstance(release, str):
            fail(f"{CONFIG_FILE}: release must be a string command")
    processes = {name: {"command": command} for name, command in base.items()}
    declared = cfg.get("processes", {})
    if not isinstance(declared, dict):
        fail(f"{CONFIG_FILE}: processes must be an object")
    for name, spec in declared.items():
        where = f"{CONFIG_FILE}: processes.{name}"
        if not isinstance(spec, dict):
            fail(f"{where}: must be an object")
        unknown = set(spec) - {"command", "cpu", "memory", "count"}
        if unknown:
            fail(f"{where}: unknown keys {sorted(unknown)} (allowed: command, cpu, memory, count)")
        entry = processes.setdefault(name, {})
        if "command" in spec:
            if not isinstance(spec["command"], str) or not spec["command"].strip():
                fail(f"{where}.command: must be a non-empty string")
            entry["command"] = spec["command"]
        if "cpu" in spec:
            if positive_int(spec["cpu"], f"{where}.cpu") not in CPU:
                fail(f"{where}.cpu: must be one of {list(CPU)}")
            entry["cpu"] = spec["cpu"]
        if "memory" in spec:
            if positive_int(spec["memory"], f"{where}.memory") < 128:
                fail(f"{where}.memory: must be at least 128 (MiB)")
            entry["memory"] = spec["memory"]
        if "count" in spec:
            entry["count"] = positive_int(spec["count"], f"{where}.count")
        if "command" not in entry:
            fail(f"{where}: no command (set processes.{name}.command or declare {name} in the Procfile)")
    for name in processes:
        if name == "release":
            fail("process type 'release' is reserved for the release command (Procfile 'release:' line or wharf.json 'release')")
        if not PROC_RE.match(name):
            fail(f"process type {name!r}: must be 1-16 lowercase letters and digits, starting with a letter")
    return release.strip(), dict(sorted(processes.items()))


def schedules(cfg, prefix, app, max_name=0):
    out = []
    limit = schedule_name_max(prefix, app, max_name)
    items = cfg.get("schedules", [])
    if not isinstance(items, list):
        fail(f"{CONFIG_FILE}: schedules must be a list")
    seen = set()
    for i, s in enumerate(items):
        where = f"{CONFIG_FILE}: schedules[{i}]"
        if not isinstance(s, dict) or set(s) != {"name", "schedule", "command"}:
            fail(f"{where}: must be an object with exactly name, schedule and command")
        name, expr, command = s["name"], s["schedule"], s["command"]
        if not isinstance(name, str) or not SCHEDULE_NAME_RE.match(name) or "--" in name:
            fail(f"{where}.name {name!r}: must be lowercase letters, digits and single hyphens, starting with a letter")
        if len(name) > limit:
            fail(f"{where}.name {name!r}: is {len(name)} characters; app {app} under prefix {prefix} allows at most {limit}, "
                 f"so that the rule name {prefix}-{app}_schedule-<name> fits EventBridge's {RULE_NAME_MAX} characters")
        rule = f"{prefix}-{app}_schedule-{name}"
        if len(rule) > RULE_NAME_MAX:
            fail(f"{where}.name {name!r}: the rule name {rule} would be {len(rule)} characters, EventBridge allows {RULE_NAME_MAX}")
        if name in seen:
            fail(f"{where}.name {name!r}: listed twice")
        seen.add(name)
        if not isinstance(expr, str) or not SCHEDULE_RE.match(expr):
            fail(f"{where}.schedule {expr!r}: must be cron(...) or rate(<n> <unit>)")
        if not isinstance(command, str) or not command.strip():
            fail(f"{where}.command: must be a non-empty string")
        out.append({"name": name, "schedule": expr, "command": command})
    return out


def check_services(services, where):
    if not isinstance(services, dict):
        fail(f"{where}: must be an object of service name to version, like {{\"postgres\": \"16\"}}")
    out = {}
    for name, version in services.items():
        if name not in SERVICES:
            fail(f"{where}.{name}: unknown service (available: {', '.join(sorted(SERVICES))})")
        if version in (None, ""):
            version = SERVICES[name]
        if not isinstance(version, str) or not VERSION_RE.match(version):
            fail(f"{where}.{name} {version!r}: must be a version like \"{SERVICES[name]}\"")
        out[name] = version
    return out


def app_json_tests():
    """The test command, services and env of app.json (Heroku CI)."""
    if not os.path.exists(APP_JSON):
        return None
    try:
        with open(APP_JSON, encoding="utf-8") as f:
            doc = json.load(f)
    except ValueError as e:
        fail(f"{APP_JSON}: not valid JSON: {e}")
    test = ((doc or {}).get("environments") or {}).get("test") if isinstance(doc, dict) else None
    if not isinstance(test, dict):
        return None
    command = (test.get("scripts") or {}).get("test")
    if command is None:
        return None
    if not isinstance(command, str) or not command.strip():
        fail(f"{APP_JSON}: environments.test.scripts.test must be a non-empty string")
    services = {}
    for i, addon in enumerate(test.get("addons") or []):
        plan = addon.get("plan") if isinstance(addon, dict) else addon
        if not isinstance(plan, str):
            fail(f"{APP_JSON}: environments.test.addons[{i}]: must be a plan name or an object with plan")
        if plan in ADDONS:
            services[ADDONS[plan]] = SERVICES[ADDONS[plan]]
        else:
            print(f"wharf: {APP_JSON}: add-on {plan!r} is not provided in Wharf builds; skipping it", file=sys.stderr)
    env = test.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and ENV_RE.match(k) and isinstance(v, str) and "\n" not in v for k, v in env.items()):
        fail(f"{APP_JSON}: environments.test.env must map variable names to strings")
    return {"command": command, "services": services, "env": env, "report": "", "source": APP_JSON}


def test_settings(cfg):
    """The test command: wharf.json test, else app.json's test script."""
    if "test" not in cfg:
        return app_json_tests()
    test = cfg["test"]
    if isinstance(test, str):
        test = {"command": test}
    where = f"{CONFIG_FILE}: test"
    if not isinstance(test, dict):
        fail(f"{where}: must be a command string or an object with command, services, report")
    unknown = set(test) - {"command", "services", "report"}
    if unknown:
        fail(f"{where}: unknown keys {sorted(unknown)} (allowed: command, services, report)")
    command = test.get("command")
    if not isinstance(command, str) or not command.strip():
        fail(f"{where}.command: must be a non-empty string")
    services = check_services(test.get("services", {}), f"{where}.services")
    report = test.get("report", "")
    if report and (not isinstance(report, str) or not REPORT_RE.match(report) or ".." in report.split("/")):
        fail(f"{where}.report {report!r}: must be a file path (letters, digits, . _ - /) in the image")
    return {"command": command, "services": services, "env": {}, "report": report, "source": CONFIG_FILE}


def cmd_detect(args):
    cfg = load_config()
    system, dockerfile, builder = build_settings(cfg)
    # Check commands and schedules now, before spending minutes on a build.
    procfile = load_procfile()
    merge(cfg, dict(procfile), {})
    if args.prefix and args.app:
        schedules(cfg, args.prefix, args.app, args.max_schedule_name)
    for key, value in (("WHARF_SYSTEM", system), ("WHARF_DOCKERFILE", dockerfile), ("WHARF_BUILDER", builder)):
        print(f"{key}={shlex.quote(value)}")
    test = test_settings(cfg)
    if test:
        services = " ".join(f"{n}:{v}" for n, v in sorted(test["services"].items()))
        for key, value in (("WHARF_TEST_COMMAND", test["command"]), ("WHARF_TEST_SERVICES", services),
                           ("WHARF_TEST_REPORT", test["report"]), ("WHARF_TEST_SOURCE", test["source"])):
            print(f"{key}={shlex.quote(value)}")
        # Test env of app.json, one NAME=value per line in its own file
        # (values may hold spaces).
        os.makedirs(".wharf", exist_ok=True)
        with open(os.path.join(".wharf", "test.env"), "w", encoding="utf-8") as f:
            for k, v in sorted(test["env"].items()):
                f.write(f"{k}={v}\n")


def cmd_generate(args):
    cfg = load_config()
    build_settings(cfg)
    release, processes = merge(cfg, load_procfile(), cnb_processes(args.cnb_metadata))
    scheds = schedules(cfg, args.prefix, args.app, args.max_schedule_name)
    if not processes and not scheds:
        fail("no process types: add a Procfile or wharf.json processes (web for HTTP)")
    if not re.match(r"^[^\s@]+@sha256:[0-9a-f]{64}$", args.image):
        fail(f"image {args.image!r}: must be a digest reference <repository>@sha256:<64 hex>")
    doc = {
        "version": 1,
        "app": args.app,
        "buildNumber": args.build_number,
        "buildId": args.build_id,
        "commit": args.commit,
        "image": args.image,
    }
    if args.branch:
        doc["branch"] = args.branch
    if release:
        doc["releaseCommand"] = release
    doc["processes"] = processes
    doc["schedules"] = scheds
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write("\n")


def cmd_build_config(args):
    """Export lines for the build config: `aws ssm get-parameters` JSON on
    stdin. Values are quoted for the shell and never printed elsewhere."""
    try:
        reply = json.load(sys.stdin)
    except ValueError as e:
        fail(f"build config: unreadable reply from SSM: {e}")
    missing = [n[len(args.prefix):] if n.startswith(args.prefix) else n for n in reply.get("InvalidParameters") or []]
    if missing:
        fail(f"build config: {', '.join(sorted(missing))} not set; set it with the app's config (the platform config lists it in buildConfig)")
    for p in reply.get("Parameters") or []:
        name = p.get("Name", "")
        if not name.startswith(args.prefix) or not ENV_RE.match(name[len(args.prefix):]):
            fail(f"build config: unexpected parameter {name!r}")
        print(f"export {name[len(args.prefix):]}={shlex.quote(p.get('Value', ''))}")


def main(argv):
    parser = argparse.ArgumentParser(prog="wharf-meta")
    sub = parser.add_subparsers(dest="cmd", required=True)
    det = sub.add_parser("detect")
    det.add_argument("--prefix", default="")
    det.add_argument("--app", default="")
    det.add_argument("--max-schedule-name", type=int, default=0)
    gen = sub.add_parser("generate")
    gen.add_argument("--prefix", required=True)
    gen.add_argument("--app", required=True)
    gen.add_argument("--build-number", type=int, required=True)
    gen.add_argument("--build-id", required=True)
    gen.add_argument("--commit", required=True)
    gen.add_argument("--image", required=True)
    gen.add_argument("--branch", default="")
    gen.add_argument("--cnb-metadata", default="")
    gen.add_argument("--max-schedule-name", type=int, default=0)
    bc = sub.add_parser("build-config")
    bc.add_argument("--prefix", required=True)
    args = parser.parse_args(argv)
    try:
        {"detect": cmd_detect, "generate": cmd_generate, "build-config": cmd_build_config}[args.cmd](args)
    except MetaError as e:
        print(f"wharf: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
