"""Every public name of the package's ``.pyi`` stubs has a docstring.

Editors and ``help()`` on typed code show the stubs' docstrings, so a public class,
method, function or property without one is help a user does not get. Parsed with
``ast`` from the source tree (no import, no build): the list of names without a
docstring is the failure message.

Rules:

* public: a name not starting with ``_``, at any nesting of public classes;
* ``__init__`` and ``__new__`` count (they document the constructor); other
  ``__dunder__`` methods (``__eq__``, ``__hash__``, ``__iter__``, ...) are exempt:
  their meaning is Python's;
* a property counts once (its getter; a setter or deleter needs none);
* ``@overload``ed functions: one docstring on any of the set is enough.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Union

PACKAGE = Path(__file__).resolve().parent.parent / "python" / "interaction_store"

_Def = Union[ast.FunctionDef, ast.AsyncFunctionDef]


def _stubs() -> List[Path]:
    return sorted(PACKAGE.rglob("*.pyi"))


def _decorator_names(node: _Def) -> List[str]:
    names: List[str] = []
    for d in node.decorator_list:
        if isinstance(d, ast.Call):
            d = d.func
        if isinstance(d, ast.Name):
            names.append(d.id)
        elif isinstance(d, ast.Attribute):
            # typing.overload, x.setter, x.deleter
            names.append(d.attr)
    return names


def _is_public(name: str) -> bool:
    if name in ("__init__", "__new__"):
        return True
    return not name.startswith("_")


def _missing(body: List[ast.stmt], prefix: str) -> Iterator[str]:
    """Qualified names in ``body`` that need a docstring and have none."""
    overloads: Dict[str, bool] = {}  # name -> some overload has a docstring
    order: List[str] = []
    for node in body:
        if isinstance(node, ast.ClassDef):
            if not _is_public(node.name):
                continue
            qual = f"{prefix}{node.name}"
            if ast.get_docstring(node) is None:
                yield f"class {qual}"
            yield from _missing(node.body, f"{qual}.")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if not _is_public(node.name):
                continue
            decorators = _decorator_names(node)
            if "setter" in decorators or "deleter" in decorators:
                continue
            documented = ast.get_docstring(node) is not None
            if "overload" in decorators:
                if node.name not in overloads:
                    order.append(node.name)
                overloads[node.name] = overloads.get(node.name, False) or documented
                continue
            kind = "property" if "property" in decorators else "def"
            if not documented:
                yield f"{kind} {prefix}{node.name}"
    for name in order:
        if not overloads[name]:
            yield f"def {prefix}{name} (overloads)"


def test_stubs_exist() -> None:
    assert _stubs(), f"no .pyi stubs under {PACKAGE}"


def test_every_public_name_has_a_docstring() -> None:
    missing: List[str] = []
    for path in _stubs():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(PACKAGE.parent)
        missing.extend(f"{rel}: {name}" for name in _missing(tree.body, ""))
    assert not missing, (
        f"{len(missing)} public names in the stubs have no docstring:\n  "
        + "\n  ".join(missing)
    )
