"""The README's mermaid diagrams are what ``congvan workflow-diagram`` prints: the same drift test as the OpenAPI file.

When a transition changes, run ``congvan workflow-diagram`` and paste its two blocks into README.md.
"""

import difflib
import re
from pathlib import Path

from app.cli import cmd_workflow_diagram
from app.workflow.machine import ASSIGNMENT_MACHINE, DOCUMENT_MACHINE, mermaid

README = Path(__file__).resolve().parents[2] / "README.md"
MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def diagrams() -> list[str]:
    """The two diagrams as the command renders them."""
    return [mermaid(DOCUMENT_MACHINE, "Incoming document"), mermaid(ASSIGNMENT_MACHINE, "Assignment of a unit")]


def test_readme_diagrams_are_the_machines():
    in_readme = MERMAID_BLOCK.findall(README.read_text(encoding="utf-8"))
    diff = "".join(difflib.unified_diff(
        "".join(in_readme).splitlines(keepends=True), "".join(diagrams()).splitlines(keepends=True),
        "README.md", "congvan workflow-diagram",
    ))
    assert len(in_readme) == 2 and not diff, (
        f"README.md's mermaid diagrams are out of date; paste the output of `congvan workflow-diagram`:\n{diff}")


def test_the_command_prints_the_machines(capsys):
    assert cmd_workflow_diagram(None, None) == 0  # type: ignore[arg-type]
    assert MERMAID_BLOCK.findall(capsys.readouterr().out) == diagrams()
