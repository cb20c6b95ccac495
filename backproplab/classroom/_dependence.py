"""Which stored outputs of a notebook may show what a solution computed (for the student release).

Nothing runs: the code is read, cell by cell and top-level statement by statement, keeping the
set of *tainted* names, those whose object may hold a solution's value or have been changed by one.

* A solution cell taints what it binds (its function, its class) and the outer names its code may
  change (``cache[k] = x``, ``log.append(x)``, ``global seen``), not its local variables; so does
  an import of a module that holds solutions (the learner's ``mygrad``).
* A statement that mentions a tainted name, directly or through a function that reads one when it
  runs (a ``def`` above whose global became tainted later; a ``def``, ``class`` or ``lambda``
  mentions what its decorators, defaults and bases read and the outer names its body refers to,
  not its own variables), taints what it binds and what its calls may change: the objects handed
  to a call (a decorator is handed its function; a call in a comprehension, what it iterates),
  the object a method is called on (``ax.plot(y)``, ``registry.add(silu)``), the outer names a
  function of the notebook changes when it runs, and each name that may share an object with a
  changed one (``fig, ax = plt.subplots()``), however it came to share it (``d[k] = x``,
  ``log.append(x)``, ``setattr(o, "a", x)``, a container display ``[x]``, a function's result,
  which may be what the function refers to). A change of a new container itself (``d[k] = v``,
  ``del d[k]``, ``d.append(v)``) leaves what it holds; a call that is handed it, or a change
  through it (``d[k].append(v)``), may change those too.
  A statement that mentions none and rebinds a name (``model = MLP(...)``) makes it clean again.
* An imported name (a module, ``np``, ``bl``, ``plt``, or a function, ``show_source``) is not
  changed by a call into it: ``np.linalg.norm(W)`` leaves ``np`` clean. The exceptions keep
  something: a function named like a setting (``register``, ``set_...``, ``seed``, ``update``,
  ``use``...: ``bl.symbolic.register("silu", form)``), a method that changes a module's object
  (``bl.plotting.style.COLORS.append(answer)``), an attribute assigned (``bl.x = answer``), the
  module or an object it holds handed to a call (``setattr(bl, "x", answer)``) or changed
  under another name (``c = bl.plotting.style.COLORS``, then ``c.append(answer)``). They taint
  every imported name, of every package, then and later: one module reaches another
  (``bl.tensor.np``, ``sys.modules``). So does ``globals()``, ``vars()``, ``exec``... in a
  statement that involves a solution, for every later statement.
* A package's function that the release has loaded (``bl.mse_loss``, looked up, nothing
  imported or run) is code, not the package's data: a dict of them (``{"MSE": bl.mse_loss}``)
  holds no object of the package, unless a statement put something into a module's object or
  into such a function (``f = bl.mse_loss; f.cache = x``); its ``__globals__`` are the package's.
* A figure or axes that pyplot made (``fig, ax = plt.subplots(1, 3)``) is changed by what it
  draws (``ax.plot(x, color=c)``, ``ax.set(...)``) and keeps it; what it is handed (``x``,
  ``c``, an item of ``bl.plotting.style.COLORS``) is not changed.

Involved too: after a cell that involves a solution shows its last value, a read of IPython's
``_``, ``Out[n]`` or ``_n``; after a solution, a cell that is not plain Python (a magic); once a
name is tainted, a read of Python's namespace (``globals()``, ``eval``, ``dir()``); once a module
may hold one, a read of a builtin or of a name the notebook never bound (``builtins.X = answer``);
a statement in the ``except`` of a block that involves a solution.

Not followed: hidden state no name refers to (numpy's global generator consumed inside a solution;
pyplot's current figure, which the inline backend closes with its cell), files (``np.save``), and
an attribute set on a notebook's function through another name (``f = make(); f.cache = x``).
"""

from __future__ import annotations

import ast
from collections.abc import Set as AbstractSet

from ._statements import (
    _ANY,
    _BUILTINS,
    _CHANGES_OBJECT,
    _COMPOUND,
    _DISPLAYS,
    _DRAWS,
    _EVERYTHING,
    _FUNCTIONS,
    _HISTORY,
    _IMPORT,
    _KEEPS,
    _NAMESPACE,
    _NUMPY_CHANGES,
    _PURE_METHODS,
    _REACHED,
    Signature,
    _arguments,
    _bound,
    _closure,
    _decorating,
    _deep_stores,
    _defaults,
    _handed_changed,
    _header,
    _import_paths,
    _imports,
    _iterated,
    _itself,
    _itself_changed,
    _mentioned,
    _module_function,
    _outer_names,
    _outside_bodies,
    _pairs,
    _parsed,
    _pyplot_made,
    _read,
    _reads_only,
    _root,
    _runs_reading,
    _signature,
    _stored,
    _surely_runs,
    notebook_names,
)

__all__ = ["depends_on_solutions", "notebook_names", "runs_without_solutions"]


class _Flow:
    """The tainted names after each statement of a notebook read so far."""

    def __init__(self, solution_modules: set[str]):
        self.tainted: set[str] = set()
        self.imported: dict[str, str] = {}  # name -> the top-level package it was imported from
        self.changed_packages = set(solution_modules)
        self.reads: dict[str, set[str]] = {}  # a function (or what holds one) -> outer names read
        self.writes: dict[str, set[str]] = {}  # ... -> outer names it may change when it runs
        self.shares: dict[str, set[str]] = {}  # name -> names that may refer to the same object
        self.signatures: dict[str, Signature] = {}  # a function of the notebook -> _signature
        self.defined: set[str] = set()  # the names a ``def`` or ``class`` bound last
        # a new list, dict, set or tuple's name -> the names whose objects it holds (not is)
        self.holds: dict[str, set[str]] = {}  # its own change (``d[k] = x``) leaves them
        self.library: set[str] = set()  # names bound to a figure or axes pyplot made
        self.paths: dict[str, tuple[str, str | None]] = {}  # an imported name -> where from
        self.module_stores = False  # whether the notebook put anything into a module's object
        self.shown = False  # whether a cell that involves a solution showed its last value
        self.modules_changed = False  # whether a module's object may hold a solution's value
        self.everything = False  # whether a solution's value may have reached any name
        self.code: set[str] = set()  # names bound to (a container of) a package's function
        self.raising = 0  # in an ``except`` of a block that involves a solution (a depth)
        self.known: set[str] = set()  # every name the notebook has bound or imported so far

    def _involves(self, names: set[str]) -> bool:
        history = self.raising > 0 or self.shown and any(_HISTORY.fullmatch(n) for n in names)
        history |= bool(self.tainted and names & _NAMESPACE)  # ``globals()["x"]``, ``eval("x")``
        history |= self.modules_changed and bool(names - self.known)  # ``builtins`` may too
        return self.everything or history or bool(_closure(self.reads, names) & self.tainted)

    def change(self, names: set[str], itself: AbstractSet[str] = frozenset()) -> None:
        """The objects of ``names`` may have been changed by a solution: taint them, every name
        that may share one of them, and (an imported name) every module. Of ``itself``, only
        the object (``d[k] = x``, ``d.append(x)``): not the objects a new container holds."""
        if _ANY in names:  # ``globals()[...] = x``, ``exec(...)``: any name, any module
            self.everything = True
            self._taint_modules()
        if _REACHED in names:
            names = _closure(self.reads, names)
        names = set(names) - {_ANY, _REACHED}
        # (name, whether what it holds may have changed too)
        stack = [(name, name not in itself) for name in names | set(itself)]
        seen: set[tuple[str, bool]] = set()
        while stack:
            name, deep = stack.pop()
            if (name, deep) in seen or (name in _BUILTINS and name not in self.imported):
                continue
            seen.add((name, deep))  # a name tainted already may share with one that is not yet
            if name in self.imported:
                self._taint_modules()
            self.tainted.add(name)
            others = self.shares.get(name, set())
            # a container changed: those that may be or hold it, with whatever they hold
            stack += [(other, deep) for other in others - self.holds.get(name, set())]
            if deep:
                stack += [(other, True) for other in others & self.holds.get(name, set())]

    def _taint_modules(self) -> None:
        """A module's object changed, so maybe every module (``bl.tensor.np``): every imported
        name, then and later, is tainted, and every name bound to a package function (f.memo)."""
        self.modules_changed = True
        self.tainted |= set(self.imported) | self.code

    def _function_of_a_module(self, node: ast.expr) -> bool:
        """Whether ``node`` is a function a loaded module holds (``_module_function``), while no
        statement so far put anything into a module's object."""
        return not self.module_stores and _module_function(node, self.paths)

    def _exposed(self, node: ast.AST) -> set[str]:
        """The names whose objects ``node``'s value may be, or hold: ``a.b[i]`` gives ``a``, a call
        its callee's object and its arguments (it may return them), not an imported callee
        (``np.abs(x)`` gives ``x``), a comparison or f-string nothing (a fresh value)."""
        if isinstance(node, (ast.Name, ast.Attribute)) and self._function_of_a_module(node):
            return set()
        if isinstance(node, ast.Name):
            return {node.id} - _BUILTINS
        if isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
            if self._function_of_a_module(node.value):  # ``bl.mse_loss.__globals__``
                return {_root(node) or ""} - {""}
            return self._exposed(node.value)
        if isinstance(node, ast.Call):
            root = _root(node.func)
            if root in self.imported:
                callee = set()
            elif root in self.signatures and isinstance(node.func, ast.Name):  # may return them
                callee = _closure(self.reads, {root}) - self.defined - set(self.imported)
            else:
                callee = self._exposed(node.func)
            arguments = [*node.args, *(k.value for k in node.keywords)]
            return callee.union(*(self._exposed(a) for a in arguments))
        if isinstance(node, (ast.Compare, ast.JoinedStr, ast.Constant)):
            return set()
        if isinstance(node, ast.Lambda):  # what it refers to, not its parameters
            parameters = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
            return self._exposed(node.body) - parameters
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):  # a new value: what it was made of
            return {n for n in _mentioned(node) if n not in self.imported} - _BUILTINS
        # a container, ``a or b``, ``a if c else b``, a comprehension: what each part exposes
        found: set[str] = set()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                found |= self._exposed(child)
            elif isinstance(child, ast.comprehension):
                found |= self._exposed(child.iter)
        return found

    def _changed_by(self, call: ast.Call) -> set[str]:
        """The names whose objects ``call`` may change (an imported name: its package)."""
        func, root = call.func, _root(call.func)
        name = func.attr if isinstance(func, ast.Attribute) else root
        arguments = set().union(*(self._exposed(a) for a in _arguments(call)))
        if _mentioned(call) & _EVERYTHING - set(self.imported) - set(self.signatures):
            return {_ANY}
        if _reads_only(call):
            return set()
        if self._draws(call):
            return {root or ""}
        if root in self.imported:
            method = isinstance(func, ast.Attribute) and (
                self.imported[root] != "numpy" or isinstance(func.value, ast.Attribute)
            )  # ``COLORS.append``, ``bl.x.COLORS.sort``, not ``np.sort`` (a numpy function)
            keeps = _KEEPS.match(name or "") or method and _CHANGES_OBJECT.fullmatch(name or "")
            kept = {root} if keeps else set()
            pure = self.imported[root] == "numpy" and name not in _NUMPY_CHANGES
            out = any(k.arg == "out" for k in call.keywords)
            return kept if pure and not out and not kept else kept | arguments
        if root in self.signatures and isinstance(func, ast.Name):
            handed = _handed_changed(self.signatures[root], call)
            return self.writes[root].union(*map(self._exposed, handed))
        if isinstance(func, ast.Attribute) and name in _PURE_METHODS:
            return set()
        held = self.writes.get(root, set()) if root else set()  # ``d["f"](x)``, d = {"f": add}
        return self._exposed(func) | arguments | held

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
        decorators = {_root(d) or "" for d in getattr(stmt, "decorator_list", [])}
        for name in names:  # ``@memo def f``: f is what ``memo(f)`` returned
            self.reads[name], self.writes[name] = (
                outer - names | set().union(*(self.reads.get(d, set()) for d in decorators)),
                (changed & outer | declared) - names
                | set().union(*(self.writes.get(d, set()) for d in decorators)),
            )
        if isinstance(stmt, _FUNCTIONS):
            for name in names:  # ``def f(x, log=log): log.append(x)`` changes the outer log
                self.writes[name] |= set().union(*map(self._exposed, _defaults(stmt.args, changed)))
            self.signatures[stmt.name] = _signature(stmt.args, changed)

    def statement(self, stmt: ast.stmt, solution: bool = False) -> bool:
        """Read one statement (module level, or in a block); whether it involves a solution."""
        if isinstance(stmt, _COMPOUND) and not solution:
            return self._compound(stmt)
        involved = solution or self._involves(_runs_reading(stmt))
        nodes = _outside_bodies(stmt)
        imports = _imports(stmt)
        bound, changed = _bound(nodes)
        bound -= set(imports)
        self.known |= bound | set(imports)
        definitions = isinstance(stmt, (*_FUNCTIONS, ast.ClassDef))
        rebinds = definitions or isinstance(stmt, (ast.Assign, ast.AnnAssign, *_IMPORT))
        same = self._exposed(getattr(stmt, "value", None) or ast.Constant(0))  # ``a, b = b, a``
        for name in bound | set(imports):  # a new object: it shares nothing yet, holds nothing
            if rebinds and name not in same:
                for other in self.shares.pop(name, set()):
                    self.shares.get(other, set()).discard(name)
                self.reads.pop(name, None)
                self.writes.pop(name, None)
                self.holds.pop(name, None)
                self.tainted.discard(name)
            self.imported.pop(name, None)
            self.signatures.pop(name, None)
            self.defined.discard(name)
            self.library.discard(name)
        self.paths.update(_import_paths(stmt))
        for name, package in imports.items():
            self.imported[name] = package
            if package in self.changed_packages or self.modules_changed:
                self.tainted.add(name)
                involved = True
        self._share(stmt, bound)
        # ``f = bl.mse_loss`` (code, sharing nothing), then ``f.cache = x``: the package's function
        into_code = bool(_closure(self.shares, _deep_stores(nodes)) & self.code)
        self.module_stores |= into_code
        self._record(stmt, nodes, bound, changed)
        if definitions:
            self._define(stmt, bound)
            self.defined |= bound
        if not involved:
            return False
        if into_code:
            self._taint_modules()
        self._calls(nodes, everything=solution)
        for call in _decorating(stmt, bound):  # ``@register``: register(f)
            self.change(self._changed_by(call))
        itself = _itself_changed(stmt) & changed
        # before ``bound``: ``W -= g`` changes what W shares with
        self.change(changed - itself, itself)
        self.tainted |= bound
        if solution:
            self.change(set().union(*(self.writes.get(name, set()) for name in bound)))
        return True

    def _record(
        self, stmt: ast.stmt, nodes: list[ast.AST], bound: set[str], changed: set[str]
    ) -> None:
        """What ``stmt`` puts into objects (``d[k] = x``: d holds x; ``ax.plot(x)``: ax keeps
        x), which names it binds to matplotlib's figures and axes, and whether it puts anything
        into a module's object; with or without a solution's value."""
        stored = _stored(nodes)
        for name, put in stored:
            self._join({name}, self._exposed(put))
        if _pyplot_made(stmt, self.imported):
            self.library |= bound  # ``fig, ax = plt.subplots(1, 2)``: matplotlib's own
        stores = changed | {name for name, _ in stored} | _itself_changed(stmt)
        stores |= set().union(*(_itself(n) for n in nodes if isinstance(n, ast.Call)))
        self.library -= stores  # ``ax.plot = f``, ``vars(ax)["plot"] = f``: anything now
        self.module_stores |= bool(stores & set(self.imported))
        for node in nodes:
            if isinstance(node, ast.Call) and self._draws(node):
                root = _root(node.func) or ""
                handed = set().union(*(self._exposed(a) for a in _arguments(node)))
                held = handed - self.shares.get(root, set()) - {root}  # not those holding it
                self._join({root}, handed, holding=True)
                self.holds[root] = self.holds.get(root, set()) | held

    def _draws(self, call: ast.Call) -> bool:
        """Whether ``call`` is a drawing method of a module's object (``ax.plot(x)``)."""
        func = call.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr in _DRAWS
            and _root(func) in self.library
            and not _mentioned(func.value) & set(self.signatures)
        )

    def _calls(self, nodes: list[ast.AST], everything: bool = False) -> None:
        """What the calls among ``nodes`` that mention a tainted name (or all) may change. A call
        that mentions none changes nothing with a solution's value, even under an ``if`` that
        tests one: what it does can be had without any solution."""
        iterated = _iterated(nodes)  # ``[L.append(v) for v in r]`` reads r too
        for node in nodes:
            read = _read(node) | iterated.get(node, set())
            if isinstance(node, ast.Call) and (everything or self._involves(read)):
                changed = self._changed_by(node)
                itself = _itself(node) | ({_root(node.func) or ""} if self._draws(node) else set())
                self.change(changed - itself, itself & changed)

    def _compound(self, stmt: ast.stmt) -> bool:
        """An ``if``, loop, ``with`` or ``try``: its header, then its blocks statement by statement
        (a loop's twice: what one pass taints, the next reads). Each name bound under a header
        that reads a tainted name, or in a ``try`` whose block involves a solution (what it
        raises decides what runs next), is tainted: whether it is bound at all may depend on one."""
        header = _header(stmt)
        nodes = [found for node in header for found in _outside_bodies(node)]
        controls = self._involves(set().union(*map(_read, header)))
        self._calls(nodes)
        bound, changed = _bound(nodes)
        self.known |= bound
        before = {n: (self.reads.pop(n, set()), self.writes.pop(n, set())) for n in bound}
        self._share(stmt, bound)
        runs = _surely_runs(stmt)  # or a name it binds may still hold its old value after it
        old = set() if runs else self.tainted & _bound(_outside_bodies(stmt))[0]
        self.tainted -= bound
        if controls:
            self.tainted |= bound
            self.change(changed)
        blocks = [*getattr(stmt, "body", []), *getattr(stmt, "orelse", [])]
        passes = 2 if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)) else 1
        inner = [self.statement(child) for _ in range(passes) for child in blocks]
        for item in getattr(stmt, "items", []) if any(inner) else []:  # its ``__exit__(error)``
            managers = self._exposed(item.context_expr)
            self.change(managers.union(*(self.writes.get(m, set()) for m in managers)))
        # what a block that involves a solution raised (``except E as e``, ``sys.exc_info()``)
        raised = any(inner) and bool(getattr(stmt, "handlers", []))
        self.raising += raised
        inner += [self.statement(c) for h in getattr(stmt, "handlers", []) for c in h.body]
        self.raising -= raised
        inner += [self.statement(child) for child in getattr(stmt, "finalbody", [])]
        self.tainted |= old
        for name, (reads, writes) in before.items() if not runs else []:  # its old value's
            self.reads[name] = reads | self.reads.get(name, set())
            self.writes[name] = writes | self.writes.get(name, set())
        if controls or (isinstance(stmt, ast.Try) and any(inner)):
            self.tainted |= _bound(_outside_bodies(stmt))[0] - set(_imports(stmt))
        return controls or any(inner)

    def _share(self, stmt: ast.stmt, bound: set[str]) -> None:
        """Names bound from a value that may be (part of) another name's object share it; so do
        names bound by one statement (``fig, ax = plt.subplots()``), except names bound one by
        one (``color, line = COLORS[k], "--"``: ``line`` holds nothing of the package's)."""
        pairs = _pairs(stmt)
        if isinstance(stmt, (ast.With, ast.AsyncWith)):  # ``with CM(L) as l``: l may be L
            pairs = [(i.optional_vars, i.context_expr) for i in stmt.items if i.optional_vars]
        if pairs is not None:
            for target, one in pairs:
                part = ast.Assign(targets=[target], value=one)
                self._share(part, _bound(list(ast.walk(target)))[0])
            return
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            value = getattr(stmt, "iter", None) or getattr(stmt, "value", None) or ast.Constant(0)
            sources = self._exposed(value)
            held = set().union(*(self.reads.get(s, set()) for s in sources))
            lambdas = set()  # what the lambdas of ``value`` read and change when they run
            for node in ast.walk(value):
                if isinstance(node, ast.Lambda):
                    parameters = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
                    calls = [c for c in ast.walk(node.body) if isinstance(c, ast.Call)]
                    held |= _mentioned(node.body) - parameters - _BUILTINS  # read as it runs
                    changes = set().union(*map(self._changed_by, calls))
                    lambdas |= changes - parameters | set().union(
                        *map(self._exposed, _defaults(node.args, changes))
                    )
            functions = [n for n in ast.walk(value) if isinstance(n, (ast.Name, ast.Attribute))]
            code = any(map(self._function_of_a_module, functions))
            for name in bound:
                self.reads[name] = self.reads.get(name, set()) | held
                self.code = self.code | {name} if code else self.code - {name}
                self.writes[name] = set().union(
                    self.writes.get(name, set()),
                    lambdas,
                    *(self.writes.get(s, set()) for s in sources),
                )
            fresh = isinstance(value, _DISPLAYS) and isinstance(stmt, (ast.Assign, ast.AnnAssign))
            for name in bound:
                if fresh and len(bound) == 1 and not isinstance(stmt, ast.AugAssign):
                    self.holds[name] = set(sources)  # ``d = {"c": COLORS}``: a new dict
                elif isinstance(stmt, ast.AugAssign) and name in self.holds:
                    self.holds[name] |= sources  # ``d += [x]``: it holds x too
                else:
                    self.holds.pop(name, None)
            for name in bound:
                self._join({name}, (sources | bound) - {name}, holding=name in self.holds)

    def _join(self, names: set[str], others: set[str], holding: bool = False) -> None:
        """``names`` may share objects with ``others`` from now on (``holding``: ``names`` hold
        them, recorded in ``holds`` already); an ``other`` that a container was said to hold
        may now hold it: it is no longer only held."""
        for name in names:
            for other in others - {name}:
                self.shares.setdefault(name, set()).add(other)
                self.shares.setdefault(other, set()).add(name)
                if not holding:
                    self.holds.get(other, set()).discard(name)


def depends_on_solutions(
    cells: list[tuple[str, bool]], solution_modules: AbstractSet[str] = frozenset({"mygrad"})
) -> list[bool]:
    """For each code cell, given as (source, is a solution): may its outputs show something a
    solution computed? A solution cell always may; a cell that is not plain Python (a magic) may
    once a solution came before it. ``solution_modules``: modules that hold solutions."""
    flow = _Flow(set(solution_modules))
    seen_solution, flags = False, []
    for source, is_solution in cells:
        tree = _parsed(source)
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
