"""The type stubs (facto/__init__.pyi) describe the module as built: same names, same parameters."""
import ast
import inspect
import re
from pathlib import Path

import facto

STUB = Path(__file__).resolve().parents[1] / "facto" / "__init__.pyi"


def stub_tree():
    return ast.parse(STUB.read_text())


def params_from_doc(fn):
    """Parameter names from pybind11's signature line, e.g. 'cp_als(X: handle, rank: int = 10, *, ...)'."""
    line = fn.__doc__.splitlines()[0]
    inside = line[line.index("(") + 1: line.rindex(")")]
    names = []
    for part in re.split(r",\s*(?![^\[\(]*[\]\)])", inside):
        part = part.strip()
        if part == "*":
            names.append("*")
        elif part and part != "self":
            names.append(part.split(":")[0].split("=")[0].strip())
    return names


def params_from_stub(fn):
    a = fn.args
    names = [p.arg for p in a.args if p.arg != "self"]
    if a.kwonlyargs:
        names += ["*"] + [p.arg for p in a.kwonlyargs]
    return names


def test_stub_names_are_the_module_names():
    tree = stub_tree()
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert set(facto.__all__) <= defined
    assert defined - set(facto.__all__) == set()
    public = {n for n in dir(facto._facto) if not n.startswith("_")}
    assert public == set(facto.__all__)


def test_stub_functions_have_the_module_parameters():
    for node in stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            assert params_from_stub(node) == params_from_doc(getattr(facto, node.name)), node.name


def test_stub_classes_have_the_module_members():
    for node in stub_tree().body:
        if not isinstance(node, ast.ClassDef) or node.name in ("cp_init", "csf_policy"):
            continue
        cls = getattr(facto, node.name)
        members = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        members |= {n.target.id for n in node.body if isinstance(n, ast.AnnAssign)}
        actual = {n for n in vars(cls) if not n.startswith("_")} | ({"__init__"} if "__init__" in members else set())
        # Dunder methods the stub lists (__call__, __getitem__, __len__) must exist on the class.
        actual |= {d for d in ("__call__", "__getitem__", "__len__") if d in members and d in vars(cls)}
        assert members == actual, node.name


def test_every_function_has_a_docstring():
    for name in facto.__all__:
        obj = getattr(facto, name)
        doc = inspect.getdoc(obj) or ""
        assert len(doc.splitlines()) >= 1 and doc.strip(), name
        if callable(obj) and not inspect.isclass(obj):
            assert len(doc.splitlines()) >= 3, f"{name} has no description beyond its signature"
