"""Package a stage for CloudFormation, offline: ``python -m infra.package prod build/prod``.

1. ``chalice package --stage STAGE --merge-template`` with ``infra.stack.resources(stage)``:
   Chalice's functions, API and schedules plus the table, queues, SES, secrets, alarms
   and the least-privilege role policy.
2. What Chalice cannot express, patched into its template: the deployed queues wired to
   the SQS event sources with ``ReportBatchItemFailures`` (and a concurrency cap on the
   sender), names, environment from the stack's resources, and log groups with retention.
3. The deployment zip rebuilt for the stage's runtime (``stack.LAMBDA_RUNTIME``): Chalice's
   own code and ours from its zip, the requirements as wheels for that runtime's Python and
   Lambda's Linux, whatever Python runs the build (Chalice would vendor the builder's, so Chalice
   is run on the code alone: its dependency build, pip's downloads and 33 MB zipped for every change
   of the code, was thrown away here). The wheels are installed once per requirements.txt and
   runtime, into build/.runtime-dependencies (pip's resolving is most of a package's time). Slimmed:
   no boto3/botocore and their dependencies (the Lambda runtime has them; pynamodb only needs
   some botocore), Babel's locale data only for the locales we send in; and the files the code
   reads at run time (the e-mail templates), which Chalice does not package, added.

Needs no AWS account: a region and fake credentials are set for Chalice if none are.
Deploy the result with ``aws cloudformation package`` + ``deploy`` (README: Deploy to AWS).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra import stack

PROJECT_DIR = stack.INFRA_DIR.parent
TEMPLATE_NAME = "sam.json"
ZIP_NAME = "deployment.zip"

# In every Python Lambda runtime; shipping them again only makes the zip bigger and the cold start slower.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
_RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "urllib3", "six")
# Read by the code at run time relative to the project root (chalicelib/mail/base.py: TEMPLATES_DIR).
DATA_PATHS = ("templates",)
_PREVIEW_DIR = "templates/preview"  # development previews, not read by the service


@dataclass(frozen=True)
class Packaged:
    template: Path
    zip_path: Path
    chalice_zip_bytes: int
    chalice_unzipped_bytes: int
    zip_bytes: int
    unzipped_bytes: int
    left_out_bytes: int  # unzipped: the runtime's own packages and the other locales' data, dropped by slimming


def package(stage: str, out_dir: Path, *, slim: bool = True, dependencies: Path | None = None,
            chalice_dependencies: bool = False) -> Packaged:
    """``dependencies``: the runtime's wheels installed already by ``install_runtime_dependencies``
    (they do not depend on the stage, so one install serves every stage); by default the ones
    ``runtime_dependencies`` keeps for this requirements.txt. ``chalice_dependencies``: let Chalice
    build its own zip with the requirements too, as ``chalice package`` alone would (only its size
    is used, as a comparison: bench/deploy_figures.py)."""
    if stage not in stack.STAGES:
        raise SystemExit(f"unknown stage {stage!r}: one of {', '.join(stack.STAGES)}")
    out_dir = Path(out_dir).resolve()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    merge_file = out_dir.parent / f"{out_dir.name}.merge-template.json"
    merge_file.write_text(json.dumps(stack.resources(stage), indent=2))
    _chalice_package(stage, out_dir, merge_file, with_requirements=chalice_dependencies)
    merge_file.unlink()

    template_path = out_dir / TEMPLATE_NAME
    template = json.loads(template_path.read_text())
    patch_template(template, stage)
    template_path.write_text(json.dumps(template, indent=2) + "\n")

    zip_path = out_dir / ZIP_NAME
    chalice_bytes, chalice_unzipped = zip_path.stat().st_size, _unzipped_bytes(zip_path)
    left_out = rebuild_zip(zip_path, dependencies or runtime_dependencies(), slim=slim)
    return Packaged(template_path, zip_path, chalice_bytes, chalice_unzipped, zip_path.stat().st_size,
                    _unzipped_bytes(zip_path), left_out)


def package_stages(stages, out_root: Path, *, slim: bool = True) -> dict[str, Packaged]:
    """Each of ``stages`` into ``out_root/STAGE``, from one install of the runtime's wheels (the
    zips are the ones ``package`` makes stage by stage), side by side: most of a stage's time is
    Chalice's process and zlib, neither holding the GIL."""
    from concurrent.futures import ThreadPoolExecutor

    out_root = Path(out_root).resolve()
    dependencies = runtime_dependencies()
    with ThreadPoolExecutor(max_workers=len(stages) or 1) as pool:
        packaged = {stage: pool.submit(package, stage, out_root / stage, slim=slim, dependencies=dependencies)
                    for stage in stages}
        return {stage: future.result() for stage, future in packaged.items()}


RUNTIME_DEPENDENCIES_DIR = PROJECT_DIR / "build" / ".runtime-dependencies"


def runtime_dependencies(cache_dir: Path = RUNTIME_DEPENDENCIES_DIR) -> Path:
    """The runtime's wheels for requirements.txt, installed by ``install_runtime_dependencies`` the
    first time and kept under a key of the requirements, the runtime and its platforms (what pip is
    asked; every requirement is pinned), as Chalice keeps its dependency builds. A new key installs
    again; an install is moved into place whole, so a reader never sees half of one."""
    import hashlib

    key = hashlib.sha256(json.dumps([(PROJECT_DIR / "requirements.txt").read_text(), stack.LAMBDA_RUNTIME,
                                     stack.LAMBDA_PLATFORMS, sorted(RUNTIME_PROVIDED)]).encode()).hexdigest()[:16]
    installed = cache_dir / f"{stack.LAMBDA_RUNTIME}-{key}"
    if not installed.is_dir():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = cache_dir / f"{installed.name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        install_runtime_dependencies(partial)
        try:
            partial.rename(installed)
        except OSError:  # another build put the same install in place first
            shutil.rmtree(partial)
    return installed


def _unzipped_bytes(zip_path: Path) -> int:
    with zipfile.ZipFile(zip_path) as archive:
        return sum(info.file_size for info in archive.infolist())


def _chalice_package(stage: str, out_dir: Path, merge_file: Path, *, with_requirements: bool) -> None:
    """``chalice package`` of the project; without requirements.txt unless ``with_requirements``:
    Chalice reads the project (app.py, chalicelib, .chalice) from a directory of links to it that
    has none, so it packs our code and nothing else (``rebuild_zip`` takes nothing else from it)."""
    if with_requirements:
        _run_chalice_package(stage, out_dir, merge_file, PROJECT_DIR)
        return
    project = out_dir.parent / f"{out_dir.name}.project"
    shutil.rmtree(project, ignore_errors=True)
    (project / ".chalice").mkdir(parents=True)
    for name in ("app.py", "chalicelib"):
        (project / name).symlink_to(PROJECT_DIR / name)
    for path in (PROJECT_DIR / ".chalice").iterdir():
        if path.name not in ("deployments", "venv"):  # Chalice's caches, written into the copy
            (project / ".chalice" / path.name).symlink_to(path)
    try:
        _run_chalice_package(stage, out_dir, merge_file, project)
    finally:
        shutil.rmtree(project)


def _run_chalice_package(stage: str, out_dir: Path, merge_file: Path, project: Path) -> None:
    env = dict(os.environ)
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION") or "eu-central-1")
    if not (env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_PROFILE")):
        env.update(AWS_ACCESS_KEY_ID="packaging-only", AWS_SECRET_ACCESS_KEY="packaging-only")
    env.pop("AWS_ENDPOINT_URL", None)
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice) if chalice.exists() else "chalice", "package", "--stage", stage,
               "--merge-template", str(merge_file), str(out_dir)]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"chalice package failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def install_runtime_dependencies(target: Path) -> None:
    """``requirements.txt`` into ``target`` as the Lambda runtime's wheels (binary only: nothing
    is compiled for the builder's machine)."""
    version = stack.LAMBDA_RUNTIME.removeprefix("python")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--target", str(target), "--implementation", "cp", "--python-version", version,
               "--only-binary=:all:", *(f"--platform={name}" for name in stack.LAMBDA_PLATFORMS),
               "-r", str(PROJECT_DIR / "requirements.txt")]
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"installing the {stack.LAMBDA_RUNTIME} wheels failed ({result.returncode}):\n"
                           f"{result.stdout}\n{result.stderr}")


def patch_template(template: dict, stage: str) -> None:
    names = stack.Names(stage)
    options = stack.STAGES[stage]
    resources = template["Resources"]
    template["Description"] = f"Loyalty mail ({stage}): API, webhooks, queues, schedules, table, SES events"
    # The API's name is what its 5xx alarm names; Name (merged in) and the OpenAPI title agree.
    resources["RestAPI"]["Properties"]["DefinitionBody"].setdefault("info", {})["title"] = names.api
    for logical_id, resource in list(resources.items()):
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        properties["Runtime"] = stack.LAMBDA_RUNTIME
        properties["Tracing"] = "Active"  # X-Ray: each invocation's AWS calls as a trace (role: Tracing)
        handler = _handler_name(properties["Handler"])
        properties["FunctionName"] = names.function(handler)
        variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
        variables.update(stack.function_environment(handler))
        variables["LOYALTY_STAGE"] = stage  # the Stage dimension of chalicelib/metrics.py
        if handler == "size_sender":  # the function whose concurrency it sets from SES's rate
            variables["LOYALTY_SEND_FUNCTION"] = names.function("send_email")
        # The function waits for its log group: the role may write logs but not create log groups.
        resource["DependsOn"] = sorted({*_as_list(resource.get("DependsOn")), f"{logical_id}LogGroup"})
        resources[f"{logical_id}LogGroup"] = {
            "Type": "AWS::Logs::LogGroup",
            **stack.DISPOSABLE,
            "Properties": {"LogGroupName": f"/aws/lambda/{names.function(handler)}",
                           "RetentionInDays": options.log_retention_days},
        }
        for event in properties.get("Events", {}).values():
            if event["Type"] == "DynamoDB":
                _subscribe_to_table_stream(handler, event["Properties"])
                continue
            if event["Type"] != "SQS":
                continue
            if handler not in stack.QUEUE_HANDLERS:
                raise RuntimeError(f"queue handler {handler} has no queue in infra/stack.py QUEUE_HANDLERS")
            queue_id, _ = stack.QUEUE_HANDLERS[handler]
            event_properties = event["Properties"]
            event_properties["Queue"] = {"Fn::GetAtt": [queue_id, "Arn"]}
            event_properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            if handler == "send_email":
                # Below the reserved concurrency: Lambda never throttles a received message
                # (which would count as a try and push it towards the dead-letter queue).
                event_properties["ScalingConfig"] = {"MaximumConcurrency": options.send_concurrency}


def _subscribe_to_table_stream(handler: str, event_properties: dict) -> None:
    """The stream handler reads this stage's table, only the records it acts on; a batch that
    keeps failing is split to find the bad record and, after ten tries, left to the sweeper."""
    if handler != stack.STREAM_HANDLER:
        raise RuntimeError(f"stream handler {handler} is not infra/stack.py STREAM_HANDLER")
    event_properties["Stream"] = {"Fn::GetAtt": ["LoyaltyTable", "StreamArn"]}
    event_properties["FilterCriteria"] = {"Filters": [{"Pattern": json.dumps(stack.OUTBOX_STREAM_FILTER)}]}
    event_properties["BisectBatchOnFunctionError"] = True
    event_properties["MaximumRetryAttempts"] = 10
    event_properties["MaximumRecordAgeInSeconds"] = 3600  # older ones: the sweeper has published them


def _as_list(value) -> list:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def _handler_name(handler: str) -> str:
    name = handler.rpartition(".")[2]
    return "api_handler" if name == "app" else name


# What Chalice's zip contributes: its runtime and our code. Everything else comes from the wheels.
_CODE_TOPS = ("app.py", "chalice", "chalicelib")


def rebuild_zip(zip_path: Path, dependencies: Path, *, slim: bool) -> int:
    """Rewrite Chalice's zip around the runtime's wheels: drop what the runtime has, keep only our
    locales' data, add data files. Returns the bytes (unzipped) of the wheels' files left out."""
    from chalicelib.mail.base import LOCALES

    keep_locales = {"root", *LOCALES}
    left_out = 0
    rebuilt = zip_path.with_suffix(".rebuilt.zip")
    with zipfile.ZipFile(zip_path) as source, \
            zipfile.ZipFile(rebuilt, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            # Chalice copies the project's folders as they are: compiled files a local run left in
            # them would ship, stale, beside the sources they were compiled from
            if info.filename.split("/", 1)[0] in _CODE_TOPS and "__pycache__" not in info.filename:
                target.writestr(info, source.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        for name, path in _files_under(dependencies):
            if name.split("/", 1)[0] in ("bin", *_CODE_TOPS):
                continue
            if slim and _dropped(name, keep_locales):
                left_out += path.stat().st_size
                continue
            _add_file(target, name, path, mode=0o755 if name.endswith(".so") else 0o644)
        for relative in DATA_PATHS:
            for name, path in _files_under(PROJECT_DIR / relative, PROJECT_DIR):
                if not name.startswith(_PREVIEW_DIR + "/"):
                    _add_file(target, name, path)
    rebuilt.replace(zip_path)
    return left_out


def _files_under(root: Path, relative_to: Path | None = None):
    files = [root] if root.is_file() else sorted(path for path in root.rglob("*") if path.is_file())
    for path in files:
        name = path.relative_to(relative_to or root).as_posix()
        if "__pycache__" not in name:
            yield name, path


def _add_file(target: zipfile.ZipFile, name: str, path: Path, *, mode: int = 0o644) -> None:
    entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # the same bytes give the same zip
    entry.external_attr = mode << 16
    target.writestr(entry, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def _dropped(name: str, keep_locales: set[str]) -> bool:
    top = name.split("/", 1)[0]
    if top.removesuffix(".py") in RUNTIME_PROVIDED:
        return True
    if top.endswith((".dist-info", ".data")) and top.split("-", 1)[0].lower() in _RUNTIME_DISTRIBUTIONS:
        return True
    if name.startswith("babel/locale-data/") and name.endswith(".dat"):
        locale = name.rsplit("/", 1)[1].removesuffix(".dat")
        return locale not in keep_locales and locale.split("_", 1)[0] not in keep_locales
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("stage", choices=sorted(stack.STAGES))
    parser.add_argument("out_dir", type=Path, nargs="?", help="default: build/STAGE")
    parser.add_argument("--no-slim", action="store_true", help="keep the zip as Chalice made it (for comparison)")
    args = parser.parse_args(argv)
    result = package(args.stage, args.out_dir or PROJECT_DIR / "build" / args.stage, slim=not args.no_slim)
    print(f"template  {result.template}")
    print(f"zip       {result.zip_path}: {result.zip_bytes / 1e6:.1f} MB "
          f"({result.unzipped_bytes / 1e6:.1f} MB unzipped; left out: {result.left_out_bytes / 1e6:.1f} MB unzipped "
          f"of what the runtime has and of other locales)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
