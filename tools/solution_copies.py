"""Code of the handout that reproduces a gap's reference solution, however it is formatted: a stand-in, a test
helper or a value check written from the answer would ship the answer (tools/make_handout.py refuses it).

A block of the reference is a gap's body, the body of every statement in it, and each window of two or more
statements of such a block; the handout's code is compared statement by statement (as ast.dump, so formatting,
comments and names of nothing else do not matter).
"""
import ast
import textwrap
from typing import Dict, List, Tuple

from grading.gaps import find_gaps
from grading.tasks import CODE_TASKS


def statement_lists(nodes: list) -> list:
    """Every list of statements in nodes (theirs, and each body, else and handler inside them)."""
    found = [nodes]
    for node in nodes:
        for child in ast.walk(node):
            for field in ("body", "orelse", "finalbody", "handlers"):
                block = getattr(child, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    found.append(block)
    return found


def reference_blocks(solution: Dict[str, bytes]) -> Dict[Tuple[str, ...], str]:
    """{a sequence of statement dumps: its gap} for the statements of every reference solution in `solution`
    (the handout's files with the gaps filled, tools/handout.build_handout(cut=False))."""
    found = {}
    for task in CODE_TASKS:
        lines = solution[task.file].decode("utf-8").splitlines()
        for gap in find_gaps("\n".join(lines), task.file):
            if gap.name != task.gap:
                continue
            body = ast.parse(textwrap.dedent("\n".join(lines[gap.start + 1:gap.end]))).body
            for block in statement_lists(body):
                block = [ast.dump(statement) for statement in block]
                found[tuple(block)] = gap.name
                for size in range(2, len(block)):
                    for start in range(len(block) - size + 1):
                        found[tuple(block[start:start + size])] = gap.name
    return found


def copies_of_solutions(source: str, blocks: Dict[Tuple[str, ...], str]) -> List[Tuple[int, str]]:
    """(line, gap) wherever source holds a block of a reference solution."""
    found = []
    for statements in statement_lists(ast.parse(source).body):
        block = [ast.dump(statement) for statement in statements]
        for start in range(len(block)):
            for end in range(start + 1, len(block) + 1):
                if tuple(block[start:end]) in blocks:
                    found.append((statements[start].lineno, blocks[tuple(block[start:end])]))
    return found


def in_handout(cut: Dict[str, bytes], solution: Dict[str, bytes]) -> List[str]:
    """A line for every block of a reference solution in the cut handout's Python files."""
    blocks = reference_blocks(solution)
    return ["{}:{}: this code is {}'s reference solution (a stand-in or helper must not be the gap's answer)".format(
        path, line, gap) for path, content in sorted(cut.items()) if path.endswith(".py")
        for line, gap in copies_of_solutions(content.decode("utf-8"), blocks)]
