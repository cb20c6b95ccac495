"""What one statement of a notebook reads, binds and may change, read from its syntax.

The pieces ``_dependence.py`` puts together to follow a solution's value through a notebook: the
names a statement mentions and binds, the calls it makes and what each may change (an object a
method is called on, what a call is handed, a module's object), and the lists of functions and
methods known to read only, to change their object, or to draw, and whether a name is a function
of a module already loaded (looked up, not run). Nothing here keeps state.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import symtable
import sys
import types

from ._parse import parse

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
# Methods that change their object (a list, dict, set or array): called on an object a module
# holds (``bl.plotting.style.COLORS.append(x)``), they change the module, not only ``x``.
_CHANGES_OBJECT = re.compile(
    r"append|extend|insert|remove|pop|popitem|clear|sort|reverse|add|discard|setdefault|"
    r"fill|put|itemset|resize|setflags|partition|__\w+__"
)
# Methods that change their own object only (not what it holds), and those of them that put
# what they are handed into it.
_CHANGES_ITSELF = frozenset(
    "append extend insert remove pop popitem clear sort reverse add discard setdefault update "
    "fill __setitem__ __delitem__".split()
)
_STORES = frozenset("append extend insert add setdefault update __setitem__".split())
# Drawing methods of an object a module made (``fig, ax = plt.subplots()``): they change that
# object (it draws and keeps what it is handed), never what they are handed (``color=c``).
_DRAWS = frozenset(
    "plot semilogx semilogy loglog scatter bar barh hist step stairs stem errorbar fill "
    "fill_between fill_betweenx axhline axvline axhspan axvspan hlines vlines imshow matshow "
    "pcolormesh contour contourf quiver text annotate arrow legend set set_title set_xlabel "
    "set_ylabel set_xlim set_ylim set_xscale set_yscale set_xticks set_yticks set_xticklabels "
    "set_yticklabels set_aspect grid tick_params axis suptitle supxlabel supylabel".split()
)
# Names that reach every name of the notebook, or every module: Python's own namespaces.
_EVERYTHING = frozenset("globals locals vars eval exec __import__ __builtins__ get_ipython".split())
# What reads the notebook's namespace, and so any tainted name: names, and attributes (``_read``
# gives them as names): ``f.__globals__``, ``sys._getframe().f_globals``, ``sys.modules``
_REACHING = {"__main__", "sys.modules", "__globals__", "f_globals", "f_locals", "user_ns"}
_REACHING |= {"_getframe", "currentframe"}
_NAMESPACE = _EVERYTHING | {"dir", "_ih", "In", "_i"} | _REACHING
# Marks in a set of changed names (never a Python name): the outer names read by the functions
# among them are changed too; every name may have been.
_REACHED, _ANY = "<reached>", "<any>"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DISPLAYS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)
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


def _augmented(node: ast.AST) -> set[str]:
    return {
        n.target.id
        for n in ast.walk(node)
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name)
    }


def _read(node: ast.AST) -> set[str]:
    """The names ``node`` reads (``x += 1`` reads x; ``x = 1`` does not), and those of
    ``_NAMESPACE`` it reaches otherwise (``f.__globals__``, ``import __main__``)."""
    return (
        {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        | _augmented(node)
        | _namespace(node)
    )


def _namespace(node: ast.AST) -> set[str]:
    found = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute):
            found.add(f"{_root(n.value)}.{n.attr}" if isinstance(n.value, ast.Name) else n.attr)
            found.add(n.attr)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            found |= {alias.name for alias in n.names} | {getattr(n, "module", None) or ""}
    return found & _REACHING


def _outside_bodies(node: ast.AST) -> list[ast.AST]:
    """The nodes of ``node`` that run when it runs: not those in the bodies of the functions and
    lambdas it defines (their decorators and defaults do run)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        parts = [*getattr(node, "decorator_list", []), *node.args.defaults]
        parts += [default for default in node.args.kw_defaults if default is not None]
        return [node] + [found for part in parts for found in _outside_bodies(part)]
    return [node] + [found for c in ast.iter_child_nodes(node) for found in _outside_bodies(c)]


def _runs_reading(stmt: ast.stmt) -> set[str]:
    """The names ``stmt`` reads; of a ``def`` or ``class``, those its decorators, defaults and
    bases read and the outer names its body refers to, not its parameters and local variables
    (a local ``std`` is not the notebook's ``std``)."""
    if not isinstance(stmt, (*_FUNCTIONS, ast.ClassDef)):  # not a lambda's, a comprehension's
        try:
            _ComprehensionScopes().visit(parse(ast.unparse(stmt)))
            symtable.symtable(ast.unparse(stmt), "<cell>", "exec")
        except SyntaxError:  # (top-level ``await``...): every name it mentions
            return _read(stmt)
        names = notebook_names(ast.unparse(stmt))[1] | _augmented(stmt) | _namespace(stmt)
        return _read(stmt) & names
    running = _outside_bodies(stmt)[1:]
    if isinstance(stmt, ast.ClassDef):
        running = [*stmt.bases, *(k.value for k in stmt.keywords), *stmt.decorator_list]
    return set().union(*map(_read, running)) | _outer_names(stmt)


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


def _import_paths(stmt: ast.stmt) -> dict[str, tuple[str, str | None]]:
    """The names a module-level ``import`` binds: (the module, the name taken from it)."""
    if isinstance(stmt, ast.Import):
        return {
            a.asname or a.name.split(".")[0]: (a.name if a.asname else a.name.split(".")[0], None)
            for a in stmt.names
        }
    if isinstance(stmt, ast.ImportFrom) and stmt.module and not stmt.level:
        return {a.asname or a.name: (stmt.module, a.name) for a in stmt.names if a.name != "*"}
    return {}


def _bound(nodes: list[ast.AST]) -> tuple[set[str], set[str]]:
    """(names bound, names whose object is changed: ``a.b = ...``, ``a[i] += ...``, ``a += ...``)
    by ``nodes``. An item of what a call returned (``get_cache()[k] = ...``) changes an object
    that any name the call mentions may hold: those names are changed, and ``_REACHED`` says
    that the outer names the functions among them read are too."""
    bound, changed = set(), set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:  # ``case [y]``
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:  # ``case {**rest}``
            bound.add(node.rest)
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(
            node.ctx, ast.Load
        ):
            root = _root(node)
            if root is None:
                base: ast.expr = node
                while isinstance(base, (ast.Attribute, ast.Subscript, ast.Starred)):
                    base = base.value
                mentioned = _mentioned(base)
                changed |= mentioned | {_ANY if mentioned & _EVERYTHING else _REACHED}
            changed.add(root or "")
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            changed.add(node.target.id)  # ``W -= lr * g`` changes an array in place
    return bound, changed - {""}


def _itself(call: ast.Call) -> set[str]:
    """``{"d"}`` for ``d.append(x)``, ``d.pop()``...: a method that changes its object only."""
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.attr in _CHANGES_ITSELF
    ):
        return {func.value.id}
    return set()


def _pairs(stmt: ast.stmt) -> list[tuple[ast.expr, ast.expr]] | None:
    """(target, value) one by one for ``a, b = x, y`` (one target, a tuple or list of as many
    values, no starred one); None for another statement."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
        return None
    target, value = stmt.targets[0], stmt.value
    if not (isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List))):
        return None
    every = [*target.elts, *value.elts]
    if len(target.elts) != len(value.elts) or any(isinstance(e, ast.Starred) for e in every):
        return None
    return list(zip(target.elts, value.elts))


def _itself_changed(stmt: ast.stmt) -> set[str]:
    """The names whose own object ``stmt`` changes, not what it holds: ``d[k] = x``,
    ``del d[k]``, ``o.a = x``, ``d += [x]`` (not ``d[k] += x``, which changes ``d[k]`` too)."""
    if isinstance(stmt, ast.AugAssign):
        return {stmt.target.id} if isinstance(stmt.target, ast.Name) else set()
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Delete)):
        return set()
    targets = stmt.target if isinstance(stmt, ast.AnnAssign) else stmt.targets
    found = set()
    for target in targets if isinstance(targets, list) else [targets]:
        for part in [target, *getattr(target, "elts", [])]:
            if isinstance(part, (ast.Attribute, ast.Subscript)):
                if isinstance(part.value, ast.Name):
                    found.add(part.value.id)
    return found


def _stored(nodes: list[ast.AST]) -> list[tuple[str, ast.expr]]:
    """(a name, a value put into its object) for ``d[k] = x``, ``o.a = x``, ``d.append(x)``,
    ``setattr(o, "a", x)``..."""
    found: list[tuple[str, ast.expr]] = []
    for node in nodes:
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, (ast.Attribute, ast.Subscript)) and _root(part):
                        found.append((_root(part) or "", node.value))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _STORES and _root(func):
                found += [(_root(func) or "", value) for value in _arguments(node)]
            elif isinstance(func, ast.Name) and func.id == "setattr" and node.args:
                found += [(_root(node.args[0]) or "", v) for v in _arguments(node)[1:]]
    return [(name, value) for name, value in found if name]


def _closure(graph: dict[str, set[str]], names: set[str]) -> set[str]:
    """``names`` and those ``graph`` leads to from them, step by step."""
    found, stack = set(names), list(names)
    while stack:
        for other in graph.get(stack.pop(), set()) - found:
            found.add(other)
            stack.append(other)
    return found


def _defaults(arguments: ast.arguments, parameters: set[str]) -> list[ast.expr]:
    """The defaults of those of ``parameters`` that have one."""
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = [*zip(positional[::-1], arguments.defaults[::-1])]
    pairs += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d]
    return [default for argument, default in pairs if argument.arg in parameters]


def _iterated(nodes: list[ast.AST]) -> dict[ast.AST, set[str]]:
    """Each node inside a comprehension among ``nodes`` -> the names its ``for`` and ``if``
    parts read: ``L.append(v)`` in ``[L.append(v) for v in r]`` runs on r's items."""
    found: dict[ast.AST, set[str]] = {}
    for node in nodes:
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            read = set().union(*(_read(g) for g in node.generators))
            for inner in ast.walk(node):
                found[inner] = found.get(inner, set()) | read
    return found


def _header(stmt: ast.stmt) -> list[ast.AST]:
    """The parts of an ``if``, loop, ``with`` or ``try`` outside its blocks."""
    return [
        node
        for field, value in ast.iter_fields(stmt)
        if field not in ("body", "orelse", "finalbody", "handlers")
        for node in (value if isinstance(value, list) else [value])
        if isinstance(node, ast.AST)
    ]


def _parsed(source: str) -> ast.Module | None:
    """A cell's code, or None for a cell that is not plain Python (a magic, a syntax error)."""
    try:
        return parse(source)
    except SyntaxError:
        return None


Signature = tuple[list[str], str | None, set[str]]


def _signature(arguments: ast.arguments, changed: set[str]) -> Signature:
    """A function's positional parameters, its ``*args`` (or ``**kwargs``), and those of its
    parameters among ``changed`` (a solution that sorts its argument in place)."""
    positional = [a.arg for a in [*arguments.posonlyargs, *arguments.args]]
    every = positional + [a.arg for a in arguments.kwonlyargs]
    star = [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
    return positional, star[0] if star else None, changed & {*every, *star}


def _handed_changed(signature: Signature, call: ast.Call) -> list[ast.expr]:
    """The arguments of ``call`` that the function of ``signature`` may change."""
    positional, star, changes = signature
    found: list[ast.expr] = []
    for index, argument in enumerate(call.args):
        if isinstance(argument, ast.Starred):
            parameter = star if changes else None
        else:
            parameter = positional[index] if index < len(positional) else star
        if parameter in changes or (isinstance(argument, ast.Starred) and changes):
            found.append(argument)
    for keyword in call.keywords:
        if keyword.arg is None and changes or keyword.arg in changes or star in changes:
            found.append(keyword.value)
    return found


def _pyplot_made(stmt: ast.stmt, imported: dict[str, str]) -> bool:
    """Whether ``stmt`` binds what matplotlib made from nothing of the notebook's
    (``fig, ax = plt.subplots(1, 2)``)."""
    if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)):
        return False
    value = stmt.value
    made = imported.get(_root(value.func) or "") == "matplotlib"
    given = _mentioned(value) - set(imported) - _BUILTINS
    return made and not given and not any(isinstance(n, ast.Lambda) for n in ast.walk(value))


def _surely_runs(stmt: ast.stmt) -> bool:
    """Whether the blocks of a compound statement surely run (``with``, ``for mode in ("eval",
    "train")``): a name it binds is rebound for what follows in its block (a loop's target before
    each pass); after it, the name may otherwise still hold its old value."""
    iterable = getattr(stmt, "iter", None)
    return isinstance(stmt, (ast.With, ast.AsyncWith)) or (
        isinstance(iterable, (ast.Tuple, ast.List)) and bool(iterable.elts)
    )


def _decorating(stmt: ast.stmt, bound: set[str]) -> list[ast.Call]:
    """The calls ``stmt``'s decorators are: ``@register`` is ``register(f)``."""
    handed: list[ast.expr] = [ast.Name(id=name, ctx=ast.Load()) for name in sorted(bound)]
    decorators = getattr(stmt, "decorator_list", [])
    return [ast.Call(func=decorator, args=handed, keywords=[]) for decorator in decorators]


def _deep_stores(nodes: list[ast.AST]) -> set[str]:
    """The names whose object ``nodes`` change other than as a container: ``f.a = x``,
    ``d["f"].a = x``, ``f.__dict__["a"] = x``, ``setattr(f, "a", x)``, ``f.__dict__.update(x)``;
    not ``d[k] = x`` or ``del d[k]``."""
    found = set()
    for node in nodes:
        if isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            if isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
                found.add(_root(node))
        elif (
            isinstance(node, ast.Call) and node.args and _root(node.func) in ("setattr", "delattr")
        ):
            found.add(_root(node.args[0]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if not isinstance(node.func.value, ast.Name) and _CHANGES_OBJECT.fullmatch(
                node.func.attr
            ):
                found.add(_root(node.func))
    return {name for name in found if name}


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


def _module_function(node: ast.expr, paths: dict[str, tuple[str, str | None]]) -> bool:
    """Whether ``node`` (``bl.mse_loss``, ``np.linalg.norm``) is a function that a module the
    release has loaded holds, found by looking it up in ``sys.modules`` through ``paths`` (a name
    -> the module it was imported from, and the name taken from it); nothing is imported or run.
    Calling it is a call into the module; a container that holds it holds no object of the
    module's."""
    chain: list[str] = []
    while isinstance(node, ast.Attribute):
        chain.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in paths:
        return False
    module, taken = paths[node.id]
    found: object = sys.modules.get(module)
    try:
        for attribute in [taken, *chain] if taken else chain:
            if not isinstance(found, types.ModuleType):
                return False
            found = inspect.getattr_static(found, attribute)
    except AttributeError:
        return False
    owner = getattr(found, "__self__", None)
    function = (
        inspect.isfunction(found)
        or inspect.isbuiltin(found)
        or (type(found).__name__ in ("ufunc", "_ArrayFunctionDispatcher"))
    )
    return function and (owner is None or isinstance(owner, types.ModuleType))
