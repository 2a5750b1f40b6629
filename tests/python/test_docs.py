"""Every public name of salus is documented, and help(salus) reads well."""

import inspect
import pydoc

import salus


def public_members(obj):
    for name, member in inspect.getmembers(obj):
        if name.startswith("_"):
            continue
        if inspect.isfunction(member) or inspect.ismethod(member) or isinstance(member, property):
            yield name, member


def test_every_public_name_has_a_docstring():
    missing = []
    for name in salus.__all__:
        obj = getattr(salus, name)
        if isinstance(obj, (int, str, salus.DType)):
            continue  # constants, documented in the module's docstring
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for member_name, member in public_members(obj):
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{member_name}")
    assert not missing, f"undocumented: {missing}"


def test_all_lists_what_the_package_offers():
    for name in salus.__all__:
        assert hasattr(salus, name), name
    offered = {n for n in dir(salus) if not n.startswith("_")}
    assert offered - set(salus.__all__) <= {"annotations"}, offered - set(salus.__all__)


def test_help_reads_well():
    text = pydoc.render_doc(salus, renderer=pydoc.plaintext)
    for expected in ("salus.connect()", "client.session(g", "Session.run", "Graph.gradients",
                     "GraphError", "Ctrl-C", "bfloat16"):
        assert expected in text, expected
    graph_help = pydoc.render_doc(salus.Graph, renderer=pydoc.plaintext)
    for method in ("matmul", "softmax_cross_entropy", "gradients", "adam", "one_hot"):
        assert method in graph_help
    assert "_capi" not in salus.__all__
