"""What an import costs: modules a run does not use are not loaded (each check in a fresh interpreter,
since this test process has long imported everything)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sympy", "torch", "transformers", "math_verify", "scipy")


def loaded_after(code: str, names: tuple[str, ...] = HEAVY) -> set[str]:
    """The `names` present in `sys.modules` after running `code` in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([n for n in {list(names)!r} if n in sys.modules]))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_runner_imports_neither_sympy_nor_the_model_stack() -> None:
    assert loaded_after("import vlmbench.runner") == set()


def test_cli_imports_no_runner_and_no_model_stack() -> None:
    assert loaded_after("import vlmbench.cli", (*HEAVY, "vlmbench.runner")) == set()


def test_backend_registry_imports_no_torch_until_a_backend_is_built() -> None:
    assert loaded_after("import vlmbench.models") == set()
    assert loaded_after("from vlmbench.models import get_backend; get_backend('baseline', 'random')") == set()


@pytest.mark.parametrize(
    "module", ["vlmbench.metrics", "vlmbench.scoring", "vlmbench.extract", "vlmbench.rescore"]
)
def test_scoring_side_imports_no_sympy(module: str) -> None:
    assert loaded_after(f"import {module}") == set()


def test_metrics_without_an_arithmetic_claim_never_load_sympy() -> None:
    code = (
        "from vlmbench.metrics.reasoning import step_accuracy; step_accuracy('The bars are blue. Answer: B')"
    )
    assert "sympy" not in loaded_after(code)


def test_the_first_arithmetic_claim_loads_sympy_and_is_checked() -> None:
    code = (
        "from vlmbench.metrics.reasoning import step_accuracy\n"
        "check = step_accuracy('3 + 4 = 7, so 2 * 5 = 11')\n"
        "assert (check.n_verifiable, check.n_correct) == (2, 1), check"
    )
    assert "sympy" in loaded_after(code)
