// Node attributes. Setting a name twice replaces the value, so a serialised
// node never carries duplicate names (which the daemon rejects).
#include "graph_builder.h"

#include "error.h"

#include <utility>

using namespace salus::client;
using salus::ir::AttrType;

namespace {

// Validates the common arguments and returns the attribute to overwrite
// (existing or appended), or nullptr after recording the error in *rc.
salus_graph::Attr *attr_slot(salus_graph *graph, uint32_t node, const char *name, const char *fn,
                             int *rc) {
    std::string what = fn;
    if (!graph) {
        *rc = fail(SALUS_EINVAL, what + ": graph is NULL");
        return nullptr;
    }
    if (node >= graph->nodes.size()) {
        *rc = fail(SALUS_EINVAL, what + ": unknown node id " + std::to_string(node));
        return nullptr;
    }
    if (!name || !*name) {
        *rc = fail(SALUS_EINVAL, what + ": attribute name is NULL or empty");
        return nullptr;
    }
    auto &attrs = graph->nodes[node].attrs;
    for (auto &a : attrs) {
        if (a.name == name) return &a;
    }
    salus_graph::Attr a;
    a.name = name;
    attrs.push_back(std::move(a));
    return &attrs.back();
}

// Writes every field so that a replaced attribute keeps nothing of its old
// value or type.
void assign(salus_graph::Attr *a, AttrType type, int64_t i, double f, std::vector<int64_t> ints,
            std::vector<double> floats, std::string s) {
    a->type = type;
    a->i = i;
    a->f = f;
    a->ints = std::move(ints);
    a->floats = std::move(floats);
    a->s = std::move(s);
}

} // namespace

extern "C" {

int salus_graph_set_attr_int(salus_graph *graph, uint32_t node, const char *name, int64_t value) {
    return guard([&]() -> int {
        int rc = SALUS_OK;
        auto *a = attr_slot(graph, node, name, "salus_graph_set_attr_int", &rc);
        if (a) assign(a, AttrType::Int, value, 0.0, {}, {}, {});
        return rc;
    });
}

int salus_graph_set_attr_float(salus_graph *graph, uint32_t node, const char *name, double value) {
    return guard([&]() -> int {
        int rc = SALUS_OK;
        auto *a = attr_slot(graph, node, name, "salus_graph_set_attr_float", &rc);
        if (a) assign(a, AttrType::Float, 0, value, {}, {}, {});
        return rc;
    });
}

int salus_graph_set_attr_ints(salus_graph *graph, uint32_t node, const char *name,
                              const int64_t *values, size_t n) {
    return guard([&]() -> int {
        if (n > 0 && !values)
            return fail(SALUS_EINVAL, "salus_graph_set_attr_ints: values is NULL");
        std::vector<int64_t> v(values, values + n);
        int rc = SALUS_OK;
        auto *a = attr_slot(graph, node, name, "salus_graph_set_attr_ints", &rc);
        if (a) assign(a, AttrType::Ints, 0, 0.0, std::move(v), {}, {});
        return rc;
    });
}

int salus_graph_set_attr_floats(salus_graph *graph, uint32_t node, const char *name,
                                const double *values, size_t n) {
    return guard([&]() -> int {
        if (n > 0 && !values) {
            return fail(SALUS_EINVAL, "salus_graph_set_attr_floats: values is NULL");
        }
        std::vector<double> v(values, values + n);
        int rc = SALUS_OK;
        auto *a = attr_slot(graph, node, name, "salus_graph_set_attr_floats", &rc);
        if (a) assign(a, AttrType::Floats, 0, 0.0, {}, std::move(v), {});
        return rc;
    });
}

int salus_graph_set_attr_string(salus_graph *graph, uint32_t node, const char *name,
                                const char *value) {
    return guard([&]() -> int {
        if (!value) return fail(SALUS_EINVAL, "salus_graph_set_attr_string: value is NULL");
        std::string s = value;
        int rc = SALUS_OK;
        auto *a = attr_slot(graph, node, name, "salus_graph_set_attr_string", &rc);
        if (a) assign(a, AttrType::String, 0, 0.0, {}, {}, std::move(s));
        return rc;
    });
}

} // extern "C"
