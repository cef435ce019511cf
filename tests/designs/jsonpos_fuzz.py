"""A mutation fuzzer for the compiled JSON position scanner, with the text walk as its oracle.

    .venv/bin/python -m tests.designs.jsonpos_fuzz [--seconds 20] [--seed N] [--save] [--module SO] [DOCUMENT ...]

From the seeds in tests/fixtures/jsonpos-corpus/ it makes texts by flipping characters,
inserting JSON punctuation, escapes and wide characters, cutting, repeating and nesting deeply,
and checks for each:

- a text json.loads reads: the scanner's position of every dict, list and member is the one
  the pure-Python walk of the text gives (`JsonLocator` without the scanner), and so are the
  extension keys and `$ref` values it collects; or the scanner refuses and the text has a
  duplicate key or nests past MAX_DEPTH, which is when the walk serves instead;
- a text paired with data it did not make: the scanner refuses or answers, never crashes;
- data changed after the scan (members removed, lists cut and grown, dicts refilled): every
  lookup still answers None or a recorded position.

It stops after JSONPOS_FUZZ_SECONDS (or --seconds). Run under the sanitizer build it is the
workload (see test_jsonpos_fuzz.py); `--save` keeps each text that disagreed as a new seed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fixtures" / "jsonpos-corpus"
SECONDS_SETTING = "JSONPOS_FUZZ_SECONDS"
DEFAULT_SECONDS = 20.0

_PUNCTUATION = [
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    '"',
    "\\",
    " ",
    "\n",
    "\t",
    "\r",
    '"x-a": 1,',
    '"$ref": "#/a",',
    "1",
    "null",
]
_WIDE = ["\u00e9", "\u2014", "\U0001f600", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "\\n", '\\"', "\\/", "\\u0061"]


@dataclass
class Tally:
    iterations: int = 0
    parsed: int = 0
    accepted: int = 0
    refused: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (reason, text)


def seeds() -> list[str]:
    found = [p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.json"))]
    return found or ['{"a": [1, {"b": "c"}]}']


def mutate(text: str, rng: random.Random) -> str:
    """One to four random edits of `text`."""
    for _ in range(rng.randint(1, 4)):
        at = rng.randint(0, len(text))
        choice = rng.randrange(9)
        if choice == 0 and text:  # replace a character
            at = min(at, len(text) - 1)
            text = text[:at] + rng.choice(_PUNCTUATION + _WIDE) + text[at + 1 :]
        elif choice == 1:
            text = text[:at] + rng.choice(_PUNCTUATION) + text[at:]
        elif choice == 2:
            text = text[:at] + rng.choice(_WIDE) + text[at:]
        elif choice == 3:  # cut a span
            text = text[:at] + text[at + rng.randint(1, 12) :]
        elif choice == 4:  # repeat a span (duplicate keys and members)
            end = min(len(text), at + rng.randint(1, 40))
            text = text[:end] + text[at:end] + text[end:]
        elif choice == 5:  # truncate
            text = text[:at]
        elif choice == 6:  # nest deeply, sometimes past MAX_DEPTH
            depth = rng.choice([1, 5, 200, 1990, 2000, 2001, 2500])
            text = "[" * depth + text + "]" * depth
        elif choice == 7:  # a key or string escaped as json.dumps with ensure_ascii writes it
            with contextlib.suppress(ValueError, RecursionError):
                text = json.dumps(json.loads(text), ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1, "\t"]))
        else:  # whitespace that moves lines and columns
            text = text[:at] + rng.choice(["\n", "\r\n", "  ", "\n\n\t"]) + text[at:]
    return text


def _duplicate_key(text: str) -> bool:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise _Duplicate
        return dict(items)

    try:
        json.loads(text, object_pairs_hook=pairs)
    except _Duplicate:
        return True
    return False


class _Duplicate(Exception):
    pass


def _depth(data: Any) -> int:
    deepest, stack = 0, [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))
    return deepest


def _members(data: Any) -> Iterator[tuple[Any, str, Any, Any]]:
    """(container, pointer, key, value) for every member, and (root, "", None, root)."""
    from apps.designs.engine.structured import escape_pointer_part

    yield data, "", None, data
    stack = [(data, "")]
    while stack:
        node, ptr = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node) if type(node) is list else ()
        for key, value in items:
            child = f"{ptr}/{escape_pointer_part(str(key))}"
            yield node, child, key, value
            if type(value) in (dict, list):
                stack.append((value, child))


def check_text(text: str, positions_type: Callable[..., Any], tally: Tally) -> None:
    """The oracle for one text (see the module docstring); failures go to `tally`."""
    from apps.designs.engine.structured import JsonLocator

    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return
    tally.parsed += 1
    try:
        scanned = positions_type(text, data)
    except ValueError:
        tally.refused += 1
        if not (_duplicate_key(text) or _depth(data) > _max_depth()):
            tally.failures.append(("refused a text the walk reads", text))
        return
    tally.accepted += 1
    if _duplicate_key(text):
        tally.failures.append(("accepted a duplicate key", text))
        return
    walked = JsonLocator(text, document="f.json", data=data)
    walked._positions = False
    compiled = JsonLocator(text, document="f.json", data=data)
    compiled._positions = scanned
    for _parent, ptr, _key, value in _members(data):
        if type(value) in (dict, list) and compiled.node(value, ptr) != walked.node(value, ptr):
            tally.failures.append((f"container {ptr!r} located elsewhere", text))
            return
        if compiled.ref(ptr) != walked.ref(ptr):
            tally.failures.append((f"pointer {ptr!r} located elsewhere", text))
            return
    # A document that is only `null` gives the locator no data: it answers "unknown" (None),
    # where the scanner, handed None all the same, has met no key and no $ref (empty sets).
    if data is not None and (scanned.extensions, scanned.refs) != (walked.extension_keys(), walked.ref_values()):
        tally.failures.append(("extensions or refs differ", text))


def check_mismatch(text: str, other: Any, positions_type: Callable[..., Any], tally: Tally) -> None:
    """A text with data it did not make: refused, or answered within the text."""
    try:
        scanned = positions_type(text, other)
    except ValueError:
        return
    lines = text.count("\n") + 1
    for _parent, _ptr, _key, value in _members(other):
        packed = scanned.get(value) if type(value) in (dict, list) else None
        if packed is not None and not (1 <= packed >> 32 <= lines and 1 <= packed & 0xFFFFFFFF <= len(text)):
            tally.failures.append(("a position outside the text", text))
            return


def check_mutation(text: str, positions_type: Callable[..., Any], rng: random.Random, tally: Tally) -> None:
    """Data changed after the scan: every lookup answers None or a recorded position."""
    try:
        data = json.loads(text)
        scanned = positions_type(text, data)
    except (ValueError, RecursionError):
        return
    members = list(_members(data))
    recorded = {scanned.member(p, k) for p, _, k, _ in members if k is not None} | {
        scanned.get(v) for _, _, _, v in members if type(v) in (dict, list)
    }
    for parent, _ptr, key, _value in rng.sample(members, min(len(members), 8)):
        if type(parent) is dict and key in parent:
            if rng.random() < 0.5:
                del parent[key]
            else:
                parent[key + "!"] = {"new": []}
        elif type(parent) is list:
            if rng.random() < 0.5:
                del parent[rng.randrange(len(parent) + 1) :]
            else:
                parent.extend([[], {}, 1] * rng.randint(1, 5))
    for parent, _ptr, key, value in members:
        for answer in (
            scanned.get(value),
            scanned.member(parent, key if key is not None else 0),
            scanned.member(parent, rng.randint(-3, 40)),
            scanned.member(parent, "!"),
        ):
            if answer is not None and answer not in recorded:
                tally.failures.append(("an answer never recorded after a change", text))
                return


def _installed() -> Callable[..., Any]:
    from apps.designs.engine._jsonpos import Positions

    return Positions  # type: ignore[no-any-return]


def _max_depth() -> int:
    from apps.designs.engine import _jsonpos

    return int(_jsonpos.MAX_DEPTH)


def run(seconds: float, *, seed: int, positions_type: Callable[..., Any] | None = None) -> Tally:
    """Fuzz for `seconds`; `positions_type` is the scanner under test (the installed one by default)."""
    if positions_type is None:
        positions_type = _installed()
    rng = random.Random(seed)  # noqa: S311 - mutations, not secrets
    pool = seeds()
    tally = Tally()
    for text in pool:  # every seed as it is, first
        check_text(text, positions_type, tally)
    previous: Any = None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = mutate(rng.choice(pool), rng)
        tally.iterations += 1
        check_text(text, positions_type, tally)
        check_mismatch(text, previous, positions_type, tally)
        if tally.iterations % 4 == 0:
            check_mutation(text, positions_type, rng, tally)
        try:
            previous = json.loads(text)
            if len(text) < 4000 and rng.random() < 0.05:
                pool.append(text)  # a text that reads becomes a seed for the rest of the run
        except (ValueError, RecursionError):
            pass
    return tally


def load_module(path: Path) -> Any:
    """A build of the scanner from `path`, put where the workbench imports it from."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("apps.designs.engine._jsonpos", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["apps.designs.engine._jsonpos"] = module
    return module


def scan_document(path: Path, positions_type: Callable[..., Any]) -> int:
    """Scans a whole document (YAML written out as JSON first) and asks for every position in it;
    returns how many containers it has."""
    text = path.read_text(encoding="utf-8")
    if not text.lstrip().startswith("{"):
        import yaml

        text = json.dumps(yaml.safe_load(text), indent=2, ensure_ascii=False, default=str)
    data = json.loads(text)
    scanned = positions_type(text, data)
    for parent, _ptr, key, value in _members(data):
        if type(value) in (dict, list):
            assert scanned.get(value) is not None
        if key is not None:
            assert scanned.member(parent, key) is not None
    return len(scanned)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=float(os.environ.get(SECONDS_SETTING, DEFAULT_SECONDS)))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--save", action="store_true", help="keep each text that disagreed in the corpus")
    parser.add_argument("--module", type=Path, help="a build of the scanner to test instead of the installed one")
    parser.add_argument("documents", nargs="*", type=Path, help="whole documents to scan as well")
    args = parser.parse_args()
    positions_type = load_module(args.module).Positions if args.module else None
    for document in args.documents:
        print(f"{document.name}: {scan_document(document, positions_type or _installed())} containers")
    tally = run(args.seconds, seed=args.seed, positions_type=positions_type)
    print(
        f"seed {args.seed}: {tally.iterations} texts, {tally.parsed} read by json.loads, "
        f"{tally.accepted} scanned, {tally.refused} refused, {len(tally.failures)} failures"
    )
    for index, (reason, text) in enumerate(tally.failures[:20]):
        print(f"  {reason}: {text[:200]!r}")
        if args.save:
            (CORPUS / f"found-{args.seed}-{index}.json").write_text(text, encoding="utf-8")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
