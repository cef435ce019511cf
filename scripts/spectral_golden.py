"""Regenerate the Spectral OWASP golden files the security parity tests compare against.

    .venv/bin/python scripts/spectral_golden.py

Installs the pinned Spectral CLI and OWASP ruleset from the npm registry into var/spectral,
lints each parity document with `extends: ["@stoplight/spectral-owasp-ruleset"]`, and writes
tests/fixtures/spectral/<key>.json: the sorted, de-duplicated (rule, JSON pointer) pairs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.public_specs import PARITY, spec_path  # noqa: E402

SPECTRAL_CLI = "@stoplight/spectral-cli@6.16.3"
RULESET = "@stoplight/spectral-owasp-ruleset@2.0.1"
WORK = ROOT / "var" / "spectral"
OUT = ROOT / "tests" / "fixtures" / "spectral"
CORPUS_V1 = ROOT.parent / "shared" / "corpus" / "shop" / "v1-design.md"


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _install() -> Path:
    cli = WORK / "node_modules" / ".bin" / "spectral"
    if not cli.exists():
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "package.json").write_text('{"private": true}\n')
        subprocess.run(  # noqa: S603 - pinned npm packages
            ["npm", "install", "--silent", "--no-audit", "--no-fund", SPECTRAL_CLI, RULESET],  # noqa: S607 - npm from PATH
            cwd=WORK,
            check=True,
        )
    (WORK / ".spectral.yaml").write_text('extends: ["@stoplight/spectral-owasp-ruleset"]\n')
    return cli


def _lint(cli: Path, document: Path) -> list[list[str]]:
    output = WORK / "out.json"
    # Spectral exits 1 when it finds problems; only a missing output is a failure.
    subprocess.run(  # noqa: S603 - the pinned Spectral CLI
        [str(cli), "lint", "-q", "-r", str(WORK / ".spectral.yaml"), "-f", "json", "-o", str(output), str(document)],
        cwd=WORK,
        check=False,
    )
    results = json.loads(output.read_text())
    return sorted({(r["code"], _pointer(r["path"])) for r in results if str(r["code"]).startswith("owasp:")})  # type: ignore[return-value]


def main() -> None:
    cli = _install()
    OUT.mkdir(parents=True, exist_ok=True)
    documents = [(spec.key, spec_path(spec), f"{spec.package} {spec.member}") for spec in PARITY]
    shop = WORK / "shop-v1-openapi.yaml"
    shop.write_text(CORPUS_V1.read_text().split("```openapi\n", 1)[1].split("```", 1)[0])
    documents.append(("shop-v1", shop, "shared/corpus/shop/v1-design.md (its openapi block)"))
    for key, path, source in documents:
        pairs = _lint(cli, path)
        golden = {"spectral": f"{SPECTRAL_CLI} with {RULESET}", "document": source, "pairs": pairs}
        (OUT / f"{key}.json").write_text(json.dumps(golden, indent=1) + "\n")
        print(f"{key}: {len(pairs)} (rule, pointer) pairs")


if __name__ == "__main__":
    main()
