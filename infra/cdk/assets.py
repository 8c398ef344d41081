"""Lambda code and the dependency layer, built without Docker.

The function asset is a staged copy of `functions/` alone (no tests, no infra). The layer holds
[project].dependencies of pyproject.toml, installed by pip for the Lambda platform through a local
bundling; the result is cached under build/ by a key of the requirements and the platform, so a
second synth copies instead of running pip."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    DockerImage,
    ILocalBundling,
)
from aws_cdk import (
    aws_lambda as lambda_,
)

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "cdk"
LAYER_CACHE = ROOT / "build" / "layer-cache"

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64
PYTHON_VERSION = "3.11"
PLATFORM = "manylinux2014_x86_64"
LAYER_SIZE_LIMIT = 250 * 1024 * 1024  # Lambda: function plus layers, unzipped


def requirements() -> list[str]:
    """What the functions need at run time: pyproject's [project].dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def pip_command(target: Path, requirements_file: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--platform",
        PLATFORM,
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--target",
        str(target),
        "-r",
        str(requirements_file),
    ]


def layer_key(reqs: list[str]) -> str:
    spec = {"requirements": sorted(reqs), "platform": PLATFORM, "python": PYTHON_VERSION}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]


def build_layer(reqs: list[str], cache: Path = LAYER_CACHE) -> Path:
    """The layer's content (a directory holding python/), from the cache or built by pip."""
    done = cache / layer_key(reqs)
    if (done / "python").is_dir():
        return done
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        work = Path(scratch)
        requirements_file = work / "requirements.txt"
        requirements_file.write_text("\n".join(reqs) + "\n")
        subprocess.run(pip_command(work / "python", requirements_file), check=True)
        # Bytecode and caches differ per build and buy nothing in a layer.
        for junk in (work / "python").rglob("__pycache__"):
            shutil.rmtree(junk, ignore_errors=True)
        staged = work / "layer"
        staged.mkdir()
        (work / "python").rename(staged / "python")
        # Another synth may have finished the same key meanwhile: keep the first.
        try:
            staged.rename(done)
        except OSError:
            if not (done / "python").is_dir():
                raise
    return done


@jsii.implements(ILocalBundling)
class PipLayerBundling:
    """CDK local bundling: pip for the Lambda platform, no Docker."""

    def __init__(self, reqs: list[str], cache: Path = LAYER_CACHE) -> None:
        self._reqs = reqs
        self._cache = cache

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:
        built = build_layer(self._reqs, self._cache)
        shutil.copytree(built / "python", Path(output_dir) / "python", copy_function=_link_or_copy)
        return True


def _link_or_copy(source: str, destination: str) -> None:
    # Thousands of small files (botocore's service models): links make a cached build instant.
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def dependencies_layer_code() -> lambda_.Code:
    reqs = requirements()
    key = layer_key(reqs)
    source = BUILD / "layer-source"
    source.mkdir(parents=True, exist_ok=True)
    (source / "requirements.txt").write_text("\n".join(reqs) + "\n")
    return lambda_.Code.from_asset(
        str(source),
        # The content is a function of the requirements and the platform: hashing by that key
        # lets CDK skip bundling when cdk.out already holds the asset.
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=key,
        bundling=BundlingOptions(
            # Never pulled: the local bundling always succeeds or raises.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.11"),
            local=PipLayerBundling(reqs),
        ),
    )


def function_code() -> lambda_.Code:
    """`functions/` alone, staged so that the asset holds nothing else. One directory per
    process: two synths at once (test workers, a `make synth` beside `make test`) must not
    clear each other's copy while CDK reads it."""
    staged = BUILD / f"function-code-{os.getpid()}"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    shutil.copytree(
        ROOT / "functions",
        staged / "functions",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".mypy_cache"),
    )
    return lambda_.Code.from_asset(str(staged))
