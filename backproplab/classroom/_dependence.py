"""Which stored outputs of a notebook may show what a solution computed (for the student release).

Nothing runs: the code is read, cell by cell and top-level statement by statement, keeping the
set of *tainted* names, those whose object may hold a solution's value or have been changed by one.

* A solution cell taints what it binds (its function, its class) and the outer names its code may
  change (``cache[k] = x``, ``log.append(x)``, ``global seen``), not its local variables; so does
  an import of a module that holds solutions (the learner's ``mygrad``).
* A statement that mentions a tainted name, directly or through a function that reads one when it
  runs (a ``def`` above whose global became tainted later), taints what it binds and what its calls
  may change: the objects handed to a call, the object a method is called on (``ax.plot(y)``,
  ``registry.add(silu)``), the outer names a function of the notebook changes when it runs, and
  each name that may share an object with a changed one (``fig, ax = plt.subplots()``).
  A statement that mentions none and rebinds a name (``model = MLP(...)``) makes it clean again.
* An imported name (a module, ``np``, ``bl``, ``plt``, or a function, ``show_source``) is not
  changed by a call into it: ``np.linalg.norm(W)`` leaves ``np`` clean. The exceptions keep
  something: a function named like a setting (``register``, ``set_...``, ``seed``, ``update``,
  ``use``...: ``bl.symbolic.register("silu", form)``), an attribute assigned (``bl.x = answer``)
  or the module handed to a call (``setattr(bl, "x", answer)``). They taint every name imported
  from the same package, then and later.

After a cell that involves a solution shows its last value, a cell reading IPython's ``_``,
``Out[n]`` or ``_n`` involves one too; a cell that is not plain Python (a magic) after a solution
always does.

Not followed: hidden state that no name in the notebook refers to, such as numpy's global random
generator consumed inside a solution (the notebooks draw from ``np.random.default_rng`` generators,
which are names, handed to calls and so followed) or pyplot's current figure (the inline backend
shows and closes it at the end of the cell that drew it).
"""

from __future__ import annotations

import ast
import builtins
import re
import symtable
from collections.abc import Set as AbstractSet

from ._parse import parse

__all__ = ["depends_on_solutions", "notebook_names", "runs_without_solutions"]

# A call into an imported module that may keep what it is handed (a registry, a setting).
_KEEPS = re.compile(r"^_?(register|set|seed|use|update|reset|rc|install|enable|disable|config)")
# Builtins that read their arguments, change none of them and call none (IPython adds display).
_READ_ONLY = frozenset(
    "print display len repr str format isinstance issubclass type id hash callable float int "
    "bool complex abs round zip enumerate range reversed list tuple dict set frozenset".split()
)
_BUILTINS = frozenset(dir(builtins)) | {"display"}
# Methods that read their object (an array, a tensor, a module, a dict) and change nothing.
_PURE_METHODS = frozenset(
    "sum mean max min argmax argmin std var prod cumsum reshape ravel flatten copy astype "
    "transpose dot item tolist numpy detach round clip any all nonzero squeeze exp log sqrt abs "
    "relu sigmoid tanh parameters named_parameters get keys values items count index format "
    "startswith endswith split join strip replace lower upper".split()
)
# The numpy functions that change an array they are handed (the others return a new one).
_NUMPY_CHANGES = frozenset("at copyto put putmask place fill_diagonal shuffle seed".split())
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPOUND = (ast.If, ast.While, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.Try)
_IMPORT = (ast.Import, ast.ImportFrom)
# IPython's names for earlier outputs: the last three, Out[n], _n
_HISTORY = re.compile(r"_{1,3}|_\d+|Out|_oh")


def _root(node: ast.AST) -> str | None:
    """The name at the root of ``a.b[c].d``."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _mentioned(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _read(node: ast.AST) -> set[str]:
    """The names ``node`` reads (``x += 1`` reads x; ``x = 1`` does not)."""
    augmented = {
        n.target.id
        for n in ast.walk(node)
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)
    }
    return {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    } | augmented


def _outside_bodies(node: ast.AST) -> list[ast.AST]:
    """The nodes of ``node`` that run when it runs: not those in the bodies of the functions and
    lambdas it defines (their decorators and defaults do run)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        parts = [*getattr(node, "decorator_list", []), *node.args.defaults]
        parts += [default for default in node.args.kw_defaults if default is not None]
        return [node] + [found for part in parts for found in _outside_bodies(part)]
    return [node] + [found for c in ast.iter_child_nodes(node) for found in _outside_bodies(c)]


def _reads_only(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Name) and call.func.id in _READ_ONLY


def _arguments(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(keyword.value for keyword in call.keywords)]


def _imports(stmt: ast.stmt) -> dict[str, str]:
    """The names a module-level ``import`` binds, each with the top-level package it comes from."""
    if isinstance(stmt, ast.Import):
        return {(a.asname or a.name).split(".")[0]: a.name.split(".")[0] for a in stmt.names}
    if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
        return {a.asname or a.name: stmt.module.split(".")[0] for a in stmt.names if a.name != "*"}
    return {}


def _bound(nodes: list[ast.AST]) -> tuple[set[str], set[str]]:
    """(names bound, names whose object is changed: ``a.b = ...``, ``a[i] += ...``, ``a += ...``)
    by ``nodes``."""
    bound, changed = set(), set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(
            node.ctx, ast.Load
        ):
            changed.add(_root(node) or "")
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            changed.add(node.target.id)  # ``W -= lr * g`` changes an array in place
    return bound, changed - {""}


def _outer_names(definition: ast.stmt) -> set[str]:
    """The module-level names a ``def`` or ``class`` refers to anywhere inside it (not its own
    parameters and local variables), from Python's own symbol tables."""
    found: set[str] = set()
    stack = list(symtable.symtable(ast.unparse(definition), "<cell>", "exec").get_children())
    while stack:
        table = stack.pop()
        found |= {s.get_name() for s in table.get_symbols() if s.is_global()}
        stack += table.get_children()
    return found - _BUILTINS


def notebook_names(source: str) -> tuple[set[str], set[str]]:
    """The notebook-level names ``source`` binds (assignments, loops, imports, defs, ``global``
    names a function assigns) and those it reads (at the top, or inside a function, lambda or
    comprehension where the name is not a local: a lambda's parameters are not reads). Empty
    for code that is not plain Python (a magic)."""
    try:
        tree = _ComprehensionScopes().visit(parse(source))
        top = symtable.symtable(ast.unparse(tree), "<cell>", "exec")
    except SyntaxError:  # the parser's, or the symbol table's (``global x`` after ``x = 1``)
        return set(), set()
    binds, reads, tables = set(), set(), [top]
    while tables:
        table = tables.pop()
        tables += table.get_children()
        for symbol in table.get_symbols():
            if table is top or symbol.is_global():
                name = symbol.get_name()
                if symbol.is_assigned() or symbol.is_imported():
                    binds.add(name)
                if symbol.is_referenced():
                    reads.add(name)
    return binds, reads


class _ComprehensionScopes(ast.NodeTransformer):
    """List, set and dict comprehensions made generator expressions, which have a scope of their
    own on every Python: from 3.12 the others' variables are reported in the enclosing scope's
    table (PEP 709), so ``[i for i in x]`` would bind and read a notebook-level ``i``."""

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp) -> ast.GeneratorExp:
        self.generic_visit(node)
        return ast.GeneratorExp(node.elt, node.generators)

    visit_SetComp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> ast.GeneratorExp:
        self.generic_visit(node)
        return ast.GeneratorExp(ast.Tuple([node.key, node.value], ast.Load()), node.generators)


class _Flow:
    """The tainted names after each statement of a notebook read so far."""

    def __init__(self, solution_modules: set[str]):
        self.tainted: set[str] = set()
        self.imported: dict[str, str] = {}  # name -> the top-level package it was imported from
        self.changed_packages = set(solution_modules)
        self.reads: dict[str, set[str]] = {}  # a function (or what holds one) -> outer names read
        self.writes: dict[str, set[str]] = {}  # ... -> outer names it may change when it runs
        self.shares: dict[str, set[str]] = {}  # name -> names that may refer to the same object
        # a function of the notebook -> (positional parameters, *args, the parameters it changes)
        self.signatures: dict[str, tuple[list[str], str | None, set[str]]] = {}
        self.shown = False  # whether a cell that involves a solution showed its last value

    def _involves(self, names: set[str]) -> bool:
        history = self.shown and any(_HISTORY.fullmatch(name) for name in names)
        return history or bool(self.reaches(names) & self.tainted)

    def reaches(self, names: set[str]) -> set[str]:
        """``names`` and, through the functions among them, the outer names those read."""
        found, stack = set(names), list(names)
        while stack:
            for read in self.reads.get(stack.pop(), set()) - found:
                found.add(read)
                stack.append(read)
        return found

    def change(self, names: set[str]) -> None:
        """The objects of ``names`` may have been changed by a solution: taint them, every name
        that may share one of them, and an imported name's whole package."""
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in self.imported:
                self._taint_package(self.imported[name])
            elif name not in self.tainted and name not in _BUILTINS:
                self.tainted.add(name)
                stack += self.shares.get(name, set())

    def _taint_package(self, package: str) -> None:
        self.changed_packages.add(package)
        self.tainted |= {name for name, source in self.imported.items() if source == package}

    def _exposed(self, node: ast.AST) -> set[str]:
        """The names whose objects ``node``'s value may be, or hold: ``a.b[i]`` gives ``a``, a call
        its callee's object and its arguments (it may return them), not an imported callee
        (``np.abs(x)`` gives ``x``), a comparison or f-string nothing (a fresh value)."""
        if isinstance(node, ast.Name):
            return {node.id} - _BUILTINS
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
            return self._exposed(node.value)
        if isinstance(node, ast.Call):
            root = _root(node.func)
            plain = root in self.imported or root in self.signatures
            callee = set() if plain and root is not None else self._exposed(node.func)
            arguments = [*node.args, *(k.value for k in node.keywords)]
            return callee.union(*(self._exposed(a) for a in arguments))
        if isinstance(node, (ast.Compare, ast.JoinedStr, ast.Constant)):
            return set()
        if isinstance(node, ast.Lambda):  # what it refers to, not its parameters
            parameters = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            return self._exposed(node.body) - parameters
        return {n for n in _mentioned(node) if n not in self.imported} - _BUILTINS

    def _changed_by(self, call: ast.Call) -> set[str]:
        """The names whose objects ``call`` may change (an imported name: its package)."""
        func, root = call.func, _root(call.func)
        name = func.attr if isinstance(func, ast.Attribute) else root
        arguments = set().union(*(self._exposed(a) for a in _arguments(call)))
        if _reads_only(call):
            return set()
        if root in self.imported:
            kept = {root} if _KEEPS.match(name or "") else set()
            pure = self.imported[root] == "numpy" and name not in _NUMPY_CHANGES
            out = any(k.arg == "out" for k in call.keywords)
            return kept if pure and not out and not kept else kept | arguments
        if root in self.signatures and isinstance(func, ast.Name):
            return self.writes[root] | self._arguments_changed(root, call)
        if isinstance(func, ast.Attribute) and name in _PURE_METHODS:
            return set()
        return self._exposed(func) | arguments

    def _arguments_changed(self, function: str, call: ast.Call) -> set[str]:
        """The arguments of a call of a notebook's function that it may change."""
        positional, star, changes = self.signatures[function]
        found: set[str] = set()
        for index, argument in enumerate(call.args):
            if isinstance(argument, ast.Starred):
                parameter = star if changes else None
            else:
                parameter = positional[index] if index < len(positional) else star
            if parameter in changes or (isinstance(argument, ast.Starred) and changes):
                found |= self._exposed(argument)
        for keyword in call.keywords:
            if keyword.arg is None and changes or keyword.arg in changes or star in changes:
                found |= self._exposed(keyword.value)
        return found

    def _define(self, stmt: ast.stmt, names: set[str]) -> None:
        """Record what the functions and classes ``stmt`` binds read and change when they run:
        outer names, and which of a function's parameters (a solution that sorts its argument
        in place changes the caller's array)."""
        outer = _outer_names(stmt)
        changed = _bound(list(ast.walk(stmt)))[1]
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                changed |= self._changed_by(node)
            elif node is not stmt and isinstance(node, (*_FUNCTIONS, ast.Lambda)):
                changed |= _mentioned(node)  # a parameter a nested function refers to
        declared = {
            n for node in ast.walk(stmt) if isinstance(node, ast.Global) for n in node.names
        }
        for name in names:
            self.reads[name], self.writes[name] = (
                outer - names,
                (changed & outer | declared) - names,
            )
        if isinstance(stmt, _FUNCTIONS):
            arguments = stmt.args
            positional = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
            every = positional + [a.arg for a in arguments.kwonlyargs]
            star = [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
            self.signatures[stmt.name] = (
                positional,
                star[0] if star else None,
                changed & {*every, *star},
            )

    def statement(self, stmt: ast.stmt, solution: bool = False) -> bool:
        """Read one statement (module level, or in a block); whether it involves a solution."""
        if isinstance(stmt, _COMPOUND) and not solution:
            return self._compound(stmt)
        involved = solution or self._involves(_read(stmt))
        nodes = _outside_bodies(stmt)
        imports = _imports(stmt)
        bound, changed = _bound(nodes)
        bound -= set(imports)
        definitions = isinstance(stmt, (*_FUNCTIONS, ast.ClassDef))
        rebinds = definitions or isinstance(stmt, (ast.Assign, ast.AnnAssign, *_IMPORT))
        for name in bound | set(imports):  # a new object: it shares nothing yet, holds nothing
            if rebinds:
                for other in self.shares.pop(name, set()):
                    self.shares.get(other, set()).discard(name)
                self.reads.pop(name, None)
                self.writes.pop(name, None)
                self.tainted.discard(name)
            self.imported.pop(name, None)
            self.signatures.pop(name, None)
        for name, package in imports.items():
            self.imported[name] = package
            if package in self.changed_packages:
                self.tainted.add(name)
                involved = True
        self._share(stmt, bound)
        if definitions:
            self._define(stmt, bound)
        if not involved:
            return False
        self._calls(nodes, everything=solution)
        self.change(changed)  # before ``bound``: ``W -= g`` changes what W shares with
        self.tainted |= bound
        if solution:
            self.change(set().union(*(self.writes.get(name, set()) for name in bound)))
        return True

    def _calls(self, nodes: list[ast.AST], everything: bool = False) -> None:
        """What the calls among ``nodes`` that mention a tainted name (or all) may change. A call
        that mentions none changes nothing with a solution's value, even under an ``if`` that
        tests one: what it does can be had without any solution."""
        for node in nodes:
            if isinstance(node, ast.Call) and (everything or self._involves(_read(node))):
                self.change(self._changed_by(node))

    def _compound(self, stmt: ast.stmt) -> bool:
        """An ``if``, loop, ``with`` or ``try``: its header, then its blocks statement by statement
        (a loop's twice: what one pass taints, the next reads). Each name bound under a header
        that reads a tainted name, or in a ``try`` whose block involves a solution (what it
        raises decides what runs next), is tainted: whether it is bound at all may depend on one."""
        header = [
            node
            for field, value in ast.iter_fields(stmt)
            if field not in ("body", "orelse", "finalbody", "handlers")
            for node in (value if isinstance(value, list) else [value])
            if isinstance(node, ast.AST)
        ]
        nodes = [found for node in header for found in _outside_bodies(node)]
        controls = self._involves(set().union(*map(_read, header)))
        self._calls(nodes)
        bound, changed = _bound(nodes)
        self._share(stmt, bound)
        # A name the statement binds is rebound for what follows in its block (a loop's target
        # before each pass); after the statement it may still hold its old value, unless its
        # blocks surely ran (`with`, `for mode in ("eval", "train")`).
        iterable = getattr(stmt, "iter", None)
        runs = isinstance(stmt, (ast.With, ast.AsyncWith)) or (
            isinstance(iterable, (ast.Tuple, ast.List)) and bool(iterable.elts)
        )
        old = set() if runs else self.tainted & _bound(_outside_bodies(stmt))[0]
        self.tainted -= bound
        if controls:
            self.tainted |= bound
            self.change(changed)
        handlers = [h.body for h in getattr(stmt, "handlers", [])]
        blocks = [*getattr(stmt, "body", []), *getattr(stmt, "orelse", []), *sum(handlers, [])]
        blocks += getattr(stmt, "finalbody", [])
        passes = 2 if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)) else 1
        inner = [self.statement(child) for _ in range(passes) for child in blocks]
        self.tainted |= old
        if controls or (isinstance(stmt, ast.Try) and any(inner)):
            self.tainted |= _bound(_outside_bodies(stmt))[0] - set(_imports(stmt))
        return controls or any(inner)

    def _share(self, stmt: ast.stmt, bound: set[str]) -> None:
        """Names bound from a value that may be (part of) another name's object share it; so do
        names bound by one statement (``fig, ax = plt.subplots()``)."""
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            value = stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else stmt.value
            sources = self._exposed(value) if value is not None else set()
            held = set().union(*(self.reads.get(s, set()) for s in sources))
            for name in bound:
                self.reads[name] = self.reads.get(name, set()) | held
                self.writes[name] = set().union(
                    self.writes.get(name, set()), *(self.writes.get(s, set()) for s in sources)
                )
            for name in bound:
                for other in (sources | bound) - {name}:
                    self.shares.setdefault(name, set()).add(other)
                    self.shares.setdefault(other, set()).add(name)


def depends_on_solutions(
    cells: list[tuple[str, bool]], solution_modules: AbstractSet[str] = frozenset({"mygrad"})
) -> list[bool]:
    """For each code cell, given as (source, is a solution): may its outputs show something a
    solution computed? A solution cell always may; a cell that is not plain Python (a magic) may
    once a solution came before it. ``solution_modules``: modules that hold solutions."""
    flow = _Flow(set(solution_modules))
    seen_solution, flags = False, []
    for source, is_solution in cells:
        try:
            tree: ast.Module | None = parse(source)
        except SyntaxError:
            tree = None
        if tree is None:
            flags.append(seen_solution or is_solution)
            seen_solution |= is_solution
            continue
        involved = [flow.statement(s, solution=is_solution) for s in tree.body]
        flags.append(is_solution or any(involved))
        if involved and involved[-1] and isinstance(tree.body[-1], ast.Expr):
            flow.shown = True  # its value is `_` and Out[n] now
        seen_solution |= is_solution or bool(flow.tainted)
    return flags


def runs_without_solutions(
    cells: list[tuple[ast.Module, bool]], solution_modules: AbstractSet[str]
) -> list[list[tuple[bool, frozenset[str]]]]:
    """For each code cell, given as (its code, is a solution), and each of its top-level
    statements: (can it run without any solution, its result the same whatever the learner
    wrote; the names whose objects may hold a solution's value once it has run). A statement
    of a solution cell never can. The grader runs the statements that can, of the teacher's
    other cells, for the values its checks use (_check.py)."""
    flow = _Flow(set(solution_modules))
    found: list[list[tuple[bool, frozenset[str]]]] = []
    for tree, solution in cells:
        found.append([])
        for statement in tree.body:
            runs = not flow.statement(statement, solution=solution)
            found[-1].append((runs, frozenset(flow.tainted)))
    return found
