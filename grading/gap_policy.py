"""The policy of what the code in a gap may use, checked on its syntax tree (ast) before anything runs.

A backward pass needs arithmetic on arrays, NumPy, the arguments and attributes it is given, loops and a few
built-in functions. The policy allows that and nothing that reaches outside the computation: the test process
around it (frames, module dictionaries, the points plugin), files, other modules, the operating system. It is
an allow-list where it can be (names, imports, attribute assignment) and a deny-list where it must be (attribute
names, which depend on the object). docs/instructor.md has the same rules as a table; tools/tests/test_gap_policy.py
tests each one in both directions. It ships with the handout: the points plugin checks the student's gaps
with it, so that a gap the grader would refuse shows up in the student's own points table first.

RestrictedPython implements a similar policy, but as a compiler that rewrites attribute access and calls into
guard functions which must then be supplied at run time; the gaps run inside the library's own modules, with the
real NumPy, so only a static check fits. This module is that check.
"""
import ast
import importlib
import types
import warnings
from collections import namedtuple
from typing import Dict, List, Optional

# key: (what is checked, the rule). The keys name the rules in messages, tests and docs/instructor.md.
RULES = {
    "underscore": "names and attributes that start with an underscore (__class__, _reset_grads, __import__)",
    "names": "a name that is not the function's own (arguments, local variables), its module's, or a safe built-in",
    "builtins": "eval, exec, compile, open, getattr, setattr, delattr, hasattr, globals, locals, vars, dir, type, "
                "object, super, input, breakpoint, format, memoryview, help, exit, quit",
    "imports": "an import of anything but numpy (with numpy.linalg, numpy.random, numpy.fft), math, functools and "
               "itertools; relative imports; import *",
    "modules": "a module used other than as module.member, or a member outside the allowed ones: numpy's functions "
               "and classes but its other submodules and its file and system entry points (np.lib, np.testing, "
               "np.f2py, np.test, np.load, ...), and of functools only reduce, partial, lru_cache and cache",
    "arrays": "NumPy's array classes (np.ndarray, np.recarray, ...) other than in isinstance(x, np.ndarray), the "
              "keywords buffer, buf, offset, strides and refcheck, and **keywords in a call: they build arrays over "
              "raw memory (so do frombuffer, fromstring, from_dlpack, .cast and .resize, denied as attributes)",
    "attributes": "attributes that read or write files, reach C memory, change NumPy's global state or reach "
                  "modules: load, save*, savetxt, loadtxt, genfromtxt, fromfile, fromregex, tofile, dump, dumps, "
                  "memmap, DataSource, ctypes, cffi, format, format_map, seterr, seterrcall, set_printoptions, info, "
                  "show_config, mro, sys, os, builtins, update_wrapper, wraps, singledispatch, ...",
    "frames": "attributes of frames, generators, code objects and Cython functions (gi_frame, f_back, f_globals, "
              "tb_frame, co_code, func_globals, ...)",
    "assignment": "assigning to or deleting an attribute other than .grad and .data, or anything (also .grad, "
                  ".data and items) of a module-level name: a class, a function, a module or a global array",
    "statements": "global, nonlocal, class, async, await, yield, match, annotations, and a bare except: (it would "
                  "swallow the test's timeout)",
}

ALLOWED_IMPORTS = ("numpy", "numpy.linalg", "numpy.random", "numpy.fft", "math", "functools", "itertools")
# The modules a gap may use, as module.member only, and which of their members: numpy's submodules linalg, random
# and fft, and every other public member that is not a module or a banned attribute; of functools only these.
ALLOWED_SUBMODULES = {"numpy": ("linalg", "random", "fft")}
# (Not cmp_to_key: its comparisons call back into Python while NumPy sorts an object array, which a callback
# that changes the array turns into a dangling pointer.)
FUNCTOOLS_MEMBERS = ("reduce", "partial", "lru_cache", "cache")
BANNED_BUILTINS = frozenset(("eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "hasattr", "globals",
                             "locals", "vars", "dir", "type", "object", "super", "input", "breakpoint", "format",
                             "memoryview", "help", "exit", "quit", "classmethod", "staticmethod", "property"))
SAFE_BUILTINS = frozenset((
    "abs", "all", "any", "bool", "callable", "chr", "complex", "dict", "divmod", "enumerate", "filter", "float",
    "frozenset", "hash", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next",
    "ord", "pow", "print", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple",
    "zip", "Ellipsis", "NotImplemented", "ArithmeticError", "AssertionError", "AttributeError", "Exception",
    "FloatingPointError", "IndexError", "KeyError", "LookupError", "NotImplementedError", "OverflowError",
    "RuntimeError", "StopIteration", "TypeError", "ValueError", "ZeroDivisionError"))
# Denied on any object, whatever it is: the checker cannot always know an object's type.
BANNED_ATTRIBUTES = frozenset((
    "load", "loads", "save", "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt", "fromfile", "fromregex",
    "tofile", "dump", "dumps", "memmap", "open_memmap", "DataSource", "ctypes", "cffi", "ctypeslib", "format",
    "format_map", "seterr", "seterrcall", "setbufsize", "set_printoptions", "info", "show_config", "show_runtime",
    "get_include", "mro", "lib", "testing", "test", "f2py", "add_docstring", "add_newdoc", "sys", "os", "builtins",
    "subprocess", "inspect", "importlib", "eval", "exec", "open", "compile", "getattr", "setattr", "delattr",
    "globals", "locals", "update_wrapper", "wraps", "singledispatch", "singledispatchmethod", "total_ordering",
    "get_type_hints", "vars", "dir", "type", "object", "super", "breakpoint", "input", "memoryview", "getter",
    "setter", "deleter", "fget", "fset", "fdel", "attrgetter", "methodcaller", "resize", "chararray", "frombuffer",
    "fromstring", "from_dlpack", "cast"))
# NumPy's array classes build an array over any buffer, offset and strides, or over raw integers with dtype "O":
# memory that the gap could then read and write as Python objects. A gap may name them only to test a type:
# isinstance(x, np.ndarray). Keywords that hand such a constructor its buffer are refused in every call.
ARRAY_CLASSES = ("ndarray", "recarray", "matrix", "memmap", "chararray")
REFUSED_KEYWORDS = ("buffer", "buf", "offset", "strides", "refcheck")
# Attributes of frames, generators, tracebacks, code objects, and the Python 2 names of function attributes that
# Cython's functions still have (func_globals is a module's dictionary).
FRAME_PREFIXES = ("f_", "gi_", "cr_", "ag_", "tb_", "co_", "func_", "im_")
ASSIGNABLE_ATTRIBUTES = ("grad", "data")
# Modules known statically, by name, to resolve attribute chains such as np.lib.npyio.
RESOLVABLE_MODULES = ("numpy", "math", "functools", "itertools", "scipy", "typing")

Violation = namedtuple("Violation", "rule line construct")


_MEMBERS = {}


def allowed_members(module: types.ModuleType) -> frozenset:
    """The members of an allowed module that a gap may use; empty for any other module."""
    name = module.__name__
    if name not in _MEMBERS:
        if name not in ALLOWED_IMPORTS:
            _MEMBERS[name] = frozenset()
        elif name == "functools":
            _MEMBERS[name] = frozenset(FUNCTOOLS_MEMBERS)
        else:
            members = set(ALLOWED_SUBMODULES.get(name, ()))
            with warnings.catch_warnings():  # some of numpy's old names warn that they are deprecated
                warnings.simplefilter("ignore")
                for member in dir(module):
                    if member.startswith("_") or member in BANNED_ATTRIBUTES:
                        continue
                    value = getattr(module, member, None)
                    # No modules, and no mutable containers (np.sctypeDict): changing them changes NumPy for all.
                    if not isinstance(value, (types.ModuleType, dict, list, set, bytearray)):
                        members.add(member)
            _MEMBERS[name] = frozenset(members)
    return _MEMBERS[name]


def module_names(tree: ast.Module) -> Dict[str, object]:
    """{name: what it is bound to} for every name the module defines at its top level.

    Imports of RESOLVABLE_MODULES are resolved to the real objects, so that np.lib is known to be a module;
    everything else (the library's own classes and functions) is bound to None.
    """
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                bound = alias.asname or root
                names[bound] = _import(alias.name if alias.asname else root)
        elif isinstance(node, ast.ImportFrom):
            module = _import(node.module) if node.module and node.level == 0 else None
            for alias in node.names:
                names[alias.asname or alias.name] = getattr(module, alias.name, None) if module else None
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = None
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        names[name.id] = None
    return names


def _import(name: str) -> Optional[types.ModuleType]:
    if name.split(".")[0] not in RESOLVABLE_MODULES:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def local_names(function: ast.AST) -> set:
    """Every name the function binds anywhere: arguments, assignments, loop targets, imports, `except ... as`."""
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return names


class GapChecker(ast.NodeVisitor):
    """Collects the violations in the statements of one gap."""

    def __init__(self, known: Dict[str, object], local: set, first_line: int):
        self.known = known  # module-level names -> object (modules resolved) or None
        self.local = local
        self.local_modules = {}  # modules imported inside the gap: name -> module
        self.first_line = first_line  # the file line of the gap's first body line
        self.violations = []
        self.parents = {}

    def report(self, node: ast.AST, rule: str, construct: str) -> None:
        self.violations.append(Violation(rule, node.lineno - self.first_line + 1, construct))

    def check(self, statement: ast.stmt) -> None:
        """Check one of the gap's statements (with everything inside it)."""
        for node in ast.walk(statement):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.visit(statement)

    # ---------------------------------------------------------------- names
    def visit_Name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("_") and name != "_":  # `_` alone is the usual name of an unused value
            self.report(node, "underscore", name)
        elif name in BANNED_BUILTINS:
            self.report(node, "builtins", name)
        elif isinstance(node.ctx, ast.Load) and not (name in self.local or name in self.known or
                                                     name in SAFE_BUILTINS):
            self.report(node, "names", name)
        else:
            self.check_module_use(node, name)

    def visit_arg(self, node: ast.arg) -> None:
        if node.arg.startswith("_"):
            self.report(node, "underscore", node.arg)
        if node.annotation is not None:
            # typing.get_type_hints and friends evaluate annotations written as strings: code in a string.
            self.report(node, "statements", "annotation")
        self.generic_visit(node)

    # ---------------------------------------------------------------- modules and attributes
    def resolve(self, node: ast.AST):
        """The module an expression stands for (np -> numpy, np.linalg -> numpy.linalg), else None."""
        if isinstance(node, ast.Name):
            if node.id in self.local_modules:
                return self.local_modules[node.id]
            bound = self.known.get(node.id)
            # A module-level module stays a module: check_rebinding refuses a gap that binds its name again.
            return bound if isinstance(bound, types.ModuleType) else None
        if isinstance(node, ast.Attribute):
            owner = self.resolve(node.value)
            if owner is not None and not node.attr.startswith("_"):
                with warnings.catch_warnings():  # np.core and the like warn that they are deprecated
                    warnings.simplefilter("ignore")
                    value = getattr(owner, node.attr, None)
                return value if isinstance(value, types.ModuleType) else None
        return None

    def check_module_use(self, node: ast.AST, construct: str) -> None:
        """A module may only be the left side of module.member: never a value that could be passed around, where
        no check could follow it (a list element, an argument, a default, an assignment, ...)."""
        if self.resolve(node) is None:
            return
        parent = self.parents.get(node)
        if not (isinstance(parent, ast.Attribute) and parent.value is node):
            self.report(node, "modules", construct)

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if keyword.arg is None:
                self.report(node, "arrays", "**keywords")
            elif keyword.arg in REFUSED_KEYWORDS:
                self.report(node, "arrays", "the keyword {}=".format(keyword.arg))
        self.generic_visit(node)

    def is_type_test(self, node: ast.AST) -> bool:
        """Whether node is (in) the second argument of isinstance or issubclass: isinstance(x, np.ndarray)."""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Tuple):
            node, parent = parent, self.parents.get(parent)
        return (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and
                parent.func.id in ("isinstance", "issubclass") and len(parent.args) == 2 and parent.args[1] is node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        construct = "." + name
        owner = self.resolve(node.value)
        if owner is not None and name in ARRAY_CLASSES and not self.is_type_test(node):
            self.report(node, "arrays", construct)
        if name.startswith("_"):
            self.report(node, "underscore", construct)
        elif name.startswith(FRAME_PREFIXES):
            self.report(node, "frames", construct)
        elif name in BANNED_ATTRIBUTES:
            self.report(node, "attributes", construct)
        elif owner is not None and name not in allowed_members(owner):
            self.report(node, "modules", construct)
        else:
            self.check_module_use(node, construct)
        if isinstance(node.ctx, ast.Store) and (name not in ASSIGNABLE_ATTRIBUTES or owner is not None or
                                                self.module_level_root(node) is not None):
            self.report(node, "assignment", "assignment to " + construct)
        elif isinstance(node.ctx, ast.Del):
            self.report(node, "assignment", "del " + construct)
        self.generic_visit(node)

    def module_level_root(self, node: ast.AST) -> Optional[str]:
        """The name at the root of an attribute or subscript chain if it is a module-level name (a class, a
        function, a module, a global array), else None: `Parameter.grad` and `XOR_INPUTS[0]` have one."""
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.known and node.id not in self.local:
            return node.id
        return None

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)) and self.module_level_root(node) is not None:
            self.report(node, "assignment", "assignment to an item of " + self.module_level_root(node))
        self.generic_visit(node)

    # ---------------------------------------------------------------- imports
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                self.report(node, "imports", "import " + alias.name)
            elif alias.asname and alias.asname.startswith("_"):
                self.report(node, "underscore", alias.asname)
            else:
                bound = alias.asname or alias.name.split(".")[0]
                self.local_modules[bound] = importlib.import_module(alias.name if alias.asname else bound)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module not in ALLOWED_IMPORTS:
            self.report(node, "imports", "from {}{} import".format("." * node.level, module))
            return
        for alias in node.names:
            if alias.name == "*":
                self.report(node, "imports", "from {} import *".format(module))
            elif alias.name.startswith("_") or (alias.asname or "").startswith("_"):
                self.report(node, "underscore", alias.name)
            elif alias.name in BANNED_ATTRIBUTES:
                self.report(node, "attributes", "from {} import {}".format(module, alias.name))
            elif alias.name in ARRAY_CLASSES:
                self.report(node, "arrays", "from {} import {}".format(module, alias.name))
            elif alias.name not in allowed_members(importlib.import_module(module)):
                self.report(node, "modules", "from {} import {}".format(module, alias.name))
            else:
                value = getattr(importlib.import_module(module), alias.name)
                if isinstance(value, types.ModuleType):
                    self.local_modules[alias.asname or alias.name] = value

    # ---------------------------------------------------------------- statements
    def visit_FunctionDef(self, node):
        if node.name.startswith("_"):
            self.report(node, "underscore", node.name)
        if node.returns is not None:
            self.report(node, "statements", "annotation")
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self.report(node, "statements", "annotation")
        self.generic_visit(node)

    def visit_Match(self, node):
        # case C(attr=x) reads any attribute by a name the checker sees only as a string.
        self.report(node, "statements", "match")

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.report(node, "statements", "bare except:")
        self.generic_visit(node)

    def visit_Global(self, node):
        self.report(node, "statements", "global")

    def visit_Nonlocal(self, node):
        self.report(node, "statements", "nonlocal")

    def visit_ClassDef(self, node):
        self.report(node, "statements", "class")

    def visit_AsyncFunctionDef(self, node):
        self.report(node, "statements", "async def")

    def visit_Await(self, node):
        self.report(node, "statements", "await")

    def visit_Yield(self, node):
        self.report(node, "statements", "yield")

    def visit_YieldFrom(self, node):
        self.report(node, "statements", "yield from")

    def visit_AsyncFor(self, node):
        self.report(node, "statements", "async for")

    def visit_AsyncWith(self, node):
        self.report(node, "statements", "async with")


def enclosing_function(tree: ast.Module, line: int) -> Optional[ast.AST]:
    """The innermost function whose lines hold `line` (1-based)."""
    found = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno < line <= node.end_lineno:
            if found is None or node.lineno > found.lineno:
                found = node
    return found


def check_gap(tree: ast.Module, first_line: int, last_line: int) -> List[Violation]:
    """The violations in the statements on lines first_line..last_line (1-based, the gap's body) of the module."""
    function = enclosing_function(tree, first_line)
    if function is None:
        raise ValueError("line {} is not inside a function".format(first_line))
    checker = GapChecker(module_names(tree), local_names(function), first_line)
    statements = gap_statements(function, first_line, last_line)
    for statement in statements:
        checker.check(statement)
    checker.violations += rebinding_violations(statements, checker, first_line)
    return sorted(checker.violations, key=lambda violation: violation.line)


def bound_names(statements: List[ast.stmt]):
    """(name, node, how) for every binding in the statements, nested scopes included."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.arg):
                yield node.arg, node, "argument"
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                yield node.id, node, "assignment"
            elif isinstance(node, ast.ExceptHandler) and node.name:
                yield node.name, node, "except ... as"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield node.name, node, "def"
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    yield alias.asname or alias.name.split(".")[0], node, "import"


def rebinding_violations(statements: List[ast.stmt], checker: "GapChecker", first_line: int) -> List[Violation]:
    """A name that stands for a module must keep standing for it: the checks of module.member rely on it. So a
    gap may not bind a module-level module's name (np) again, nor bind a name it imports a module as in any
    other way."""
    modules = {name for name, value in checker.known.items() if isinstance(value, types.ModuleType)}
    imported = set(checker.local_modules)
    found = []
    for name, node, how in bound_names(statements):
        if (name in modules and how != "import") or (name in imported and how != "import") or \
                (name in modules and how == "import" and checker.local_modules.get(name) is not checker.known[name]):
            found.append(Violation("modules", node.lineno - first_line + 1, "{} binding the module name {}".format(
                how, name)))
    return found


def gap_statements(function: ast.AST, first_line: int, last_line: int) -> List[ast.stmt]:
    """The outermost statements of the function that start on the gap's lines (their bodies come with them)."""
    parents = {}
    for node in ast.walk(function):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def in_gap(node):
        return isinstance(node, ast.stmt) and node is not function and first_line <= node.lineno <= last_line

    found = []
    for node in ast.walk(function):
        if in_gap(node):
            ancestor = parents.get(node)
            while ancestor is not None and ancestor is not function and not in_gap(ancestor):
                ancestor = parents.get(ancestor)
            if ancestor is None or ancestor is function:
                found.append(node)
    return sorted(found, key=lambda node: node.lineno)


def message(gap_number: int, gap_name: str, violation: Violation) -> str:
    """'gap 2 (ReLU.backward), line 3: 'open' is not allowed in a gap (...)': one line for the student and the tutor."""
    advice = {".format": "use an f-string or %", ".format_map": "use an f-string or %",
              "format": "use an f-string or %"}.get(violation.construct)
    construct = violation.construct if len(violation.construct) <= 60 else violation.construct[:57] + "..."
    return "gap {} ({}), line {}: '{}' is not allowed in a gap ({}){}".format(
        gap_number, gap_name, violation.line, construct, RULES[violation.rule],
        "; " + advice if advice else "")
