"""Names and texts from the paste are hostile: the generated files parse, compile, pass Django's
checks and hold no executable trace of them (they appear only inside string literals)."""

import ast
import io
import subprocess
import tokenize

from apps.endpoints.engine.generate import generate_app
from apps.endpoints.engine.project import project_files
from tests.endpoints.helpers import ROOT, RUFF, design, run_in_project, write_project

HOSTILE = (ROOT / "tests" / "fixtures" / "endpoints-hostile-design.md").read_text(encoding="utf-8")

# What must never be code: a call of these, or these names anywhere outside a string.
FORBIDDEN_CALLS = {"__import__", "eval", "exec", "compile", "system", "open"}
# Files that hold nothing from a design (the same for every design).
CONSTANT = {"design/base.py", "manage.py", "project/__init__.py", "project/settings.py", "project/urls.py"}
FORBIDDEN_WORDS = ("import os", "os.system", "__import__", "exec(", "eval(", "rm -rf")


def _generated():
    return project_files(generate_app(design(HOSTILE)))


def test_the_hostile_design_is_generated_and_every_python_file_parses_and_compiles() -> None:
    files = [f for f in _generated() if f.path.endswith(".py")]
    assert any(f.path == "design/models.py" for f in files)
    for file in files:
        tree = ast.parse(file.content, filename=file.path)
        compile(tree, file.path, "exec")


def test_no_executable_trace_of_the_paste_remains() -> None:
    for file in (f for f in _generated() if f.path.endswith(".py") and f.path not in CONSTANT):
        tree = ast.parse(file.content)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                assert called not in FORBIDDEN_CALLS, (file.path, ast.unparse(node))
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                assert not name.startswith("__") or name in {"__name__", "__file__"}, (file.path, name)
                assert name.isascii(), (file.path, name)
        # Outside string literals (code and comments), none of the paste's payloads.
        outside = [
            token.string
            for token in tokenize.generate_tokens(io.StringIO(file.content).readline)
            if token.type
            not in {tokenize.STRING, tokenize.FSTRING_START, tokenize.FSTRING_MIDDLE, tokenize.FSTRING_END}
        ]
        code = " ".join(outside)
        for word in FORBIDDEN_WORDS:
            assert word not in code, (file.path, word)


def test_header_names_from_the_paste_are_string_literals_in_the_contract_tests() -> None:
    tests = generate_app(design(HOSTILE)).file("design/tests/test_contract.py")
    call = next(
        node
        for test in ast.parse(tests).body
        if isinstance(test, ast.FunctionDef) and test.name.startswith("test_")
        for node in ast.walk(test)
        if isinstance(node, ast.Call) and any(k.arg == "headers" for k in node.keywords)
    )
    headers = ast.literal_eval(next(k.value for k in call.keywords if k.arg == "headers"))
    # Mathematical italic letters, as in the fixture: "A=exec(chr(49)),B" to the eye.
    assert set(headers) == {
        "A=\U0001d452\U0001d465\U0001d452\U0001d450(\U0001d450\u210e\U0001d45f(49)),B",
        "X-Trace.Id",
    }
    # Python folds these letters to `exec` in a name: they must never be one.
    assert all(k.arg in {"data", "format", "headers"} for k in call.keywords)


def test_a_hostile_receivers_names_and_signature_header_are_string_literals() -> None:
    generation = generate_app(design(HOSTILE))
    [receiver] = [o for o in generation.operations if o.action == "receive"]
    assert receiver.operation_id == "webhook'''); __import__('os').system('id') #"
    assert receiver.enforces == (("signature", "X-Signature\"); exec('x') #"),)
    views = ast.parse(generation.file("design/views.py"))
    operation = next(
        node
        for node in ast.walk(views)
        if isinstance(node, ast.Call) and any(k.arg == "received_as" for k in node.keywords)
    )
    given = {
        k.arg: ast.literal_eval(k.value) for k in operation.keywords if k.arg in {"received_as", "signature_header"}
    }
    assert given == {"received_as": receiver.operation_id, "signature_header": receiver.enforces[0][1]}


def test_the_paste_survives_as_data_and_the_renamed_names_are_listed() -> None:
    generation = generate_app(design(HOSTILE))
    serializers = generation.file("design/serializers.py")
    assert "rename_fields(" in serializers
    assert repr("a\nb").replace("'", '"') in serializers  # the API keeps its own field name
    originals = {r.original for r in generation.renamed}
    assert "__import__('os').system('id')" in originals and "__import__" in originals
    names = next(f.content for f in project_files(generation) if f.path == "design/NAMES.md")
    assert "\n" not in "".join(line for line in names.splitlines() if "a\\nb" in line)


def test_the_hostile_project_passes_djangos_checks_and_ruff_in_its_own_process(tmp_path) -> None:
    project = write_project(generate_app(design(HOSTILE)), tmp_path / "hostile")
    for args in (("manage.py", "check"), ("manage.py", "makemigrations", "--check", "--dry-run")):
        result = run_in_project(project, *args)
        assert result.returncode == 0, result.stdout + result.stderr
    for args in (["format", "--check", "."], ["check", "--no-cache", "."]):
        result = subprocess.run(  # noqa: S603 - the venv's ruff on our own output
            [str(RUFF), *args], cwd=project, capture_output=True, text=True, check=False, timeout=60
        )
        assert result.returncode == 0, result.stdout + result.stderr
