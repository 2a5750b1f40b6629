// The op schema's machinery: OpDef, the registry of every family's ops
// (ops/op_families.h), and the checks every node goes through.
#include "graph/ops.h"

#include "graph/test_ops.h"
#include "ops/op_families.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace salus {
namespace {

Status fail(std::string message) {
    return Status(SALUS_EGRAPH, std::move(message));
}

std::vector<OpSchema> make_ops() {
    OpList ops;
    for (auto add : kOpFamilies) add(&ops);
    return ops;
}

} // namespace

DTypeSet OpSchema::input_dtypes(size_t i) const {
    if (inputs.empty()) return 0;
    return inputs[i < inputs.size() ? i : inputs.size() - 1].dtypes;
}

const AttrSpec *OpSchema::find_attr(std::string_view attr) const {
    for (const AttrSpec &a : attrs) {
        if (a.name == attr) return &a;
    }
    return nullptr;
}

OpDef::OpDef(std::string name, std::string category) {
    op_.name = std::move(name);
    op_.category = std::move(category);
}

OpDef &OpDef::doc(std::string text) {
    op_.doc = std::move(text);
    return *this;
}

OpDef &OpDef::arg(std::vector<ArgSpec> *list, ArgSpec spec) {
    list->push_back(std::move(spec));
    return *this;
}

OpDef &OpDef::input(std::string name, DTypeSet dtypes, std::string doc) {
    return arg(&op_.inputs, {std::move(name), dtypes, false, false, std::move(doc)});
}

OpDef &OpDef::optional_input(std::string name, DTypeSet dtypes, std::string doc) {
    return arg(&op_.inputs, {std::move(name), dtypes, true, false, std::move(doc)});
}

OpDef &OpDef::variadic_input(std::string name, DTypeSet dtypes, std::string doc) {
    return arg(&op_.inputs, {std::move(name), dtypes, false, true, std::move(doc)});
}

OpDef &OpDef::output(std::string name, std::string doc) {
    return arg(&op_.outputs, {std::move(name), kAllDTypes, false, false, std::move(doc)});
}

OpDef &OpDef::optional_output(std::string name, std::string doc) {
    return arg(&op_.outputs, {std::move(name), kAllDTypes, true, false, std::move(doc)});
}

OpDef &OpDef::variadic_output(std::string name, std::string doc) {
    return arg(&op_.outputs, {std::move(name), kAllDTypes, false, true, std::move(doc)});
}

OpDef &OpDef::attr(AttrSpec spec) {
    op_.attrs.push_back(std::move(spec));
    return *this;
}

OpDef &OpDef::attrs_of(const OpSchema &op, std::initializer_list<std::string_view> names) {
    for (std::string_view name : names) {
        const AttrSpec *spec = op.find_attr(name);
        if (!spec) {
            std::fprintf(stderr, "op schema: %s takes attribute %.*s of %s, which has none\n",
                         op_.name.c_str(), static_cast<int>(name.size()), name.data(),
                         op.name.c_str());
            std::abort();
        }
        attr(*spec);
    }
    return *this;
}

OpDef &OpDef::attr_int(std::string name, int64_t def, std::string doc) {
    AttrValue v;
    v.type = AttrValue::Type::Int;
    v.i = def;
    return attr({std::move(name), v.type, AttrSpec::Presence::Defaulted, v, std::move(doc)});
}

OpDef &OpDef::attr_float(std::string name, double def, std::string doc) {
    AttrValue v;
    v.type = AttrValue::Type::Float;
    v.f = def;
    return attr({std::move(name), v.type, AttrSpec::Presence::Defaulted, v, std::move(doc)});
}

OpDef &OpDef::attr_ints(std::string name, std::vector<int64_t> def, std::string doc) {
    AttrValue v;
    v.type = AttrValue::Type::Ints;
    v.ints = std::move(def);
    return attr({std::move(name), v.type, AttrSpec::Presence::Defaulted, v, std::move(doc)});
}

OpDef &OpDef::attr_floats(std::string name, std::vector<double> def, std::string doc) {
    AttrValue v;
    v.type = AttrValue::Type::Floats;
    v.floats = std::move(def);
    return attr({std::move(name), v.type, AttrSpec::Presence::Defaulted, v, std::move(doc)});
}

OpDef &OpDef::attr_string(std::string name, std::string def, std::string doc) {
    AttrValue v;
    v.type = AttrValue::Type::String;
    v.s = std::move(def);
    return attr({std::move(name), v.type, AttrSpec::Presence::Defaulted, v, std::move(doc)});
}

OpDef &OpDef::required_attr(std::string name, AttrValue::Type type, std::string doc) {
    AttrValue v;
    v.type = type;
    return attr({std::move(name), type, AttrSpec::Presence::Required, v, std::move(doc)});
}

OpDef &OpDef::optional_attr(std::string name, AttrValue::Type type, std::string doc) {
    AttrValue v;
    v.type = type;
    return attr({std::move(name), type, AttrSpec::Presence::Optional, v, std::move(doc)});
}

OpDef &OpDef::infer(InferFn fn) {
    op_.infer = fn;
    return *this;
}

OpDef &OpDef::updates(std::vector<int> inputs) {
    op_.updates_inputs = std::move(inputs);
    return *this;
}

OpSchema OpDef::build() {
    auto arity = [](const std::vector<ArgSpec> &args, int *min, int *max) {
        *min = 0;
        *max = 0;
        for (const ArgSpec &a : args) {
            if (!a.optional) *min += 1;
            *max = a.variadic ? kMaxVariadic : *max + 1;
        }
    };
    arity(op_.inputs, &op_.min_inputs, &op_.max_inputs);
    arity(op_.outputs, &op_.min_outputs, &op_.max_outputs);
    return std::move(op_);
}

std::string dtype_set_str(DTypeSet set) {
    std::string s;
    for (unsigned d = 0; d <= static_cast<unsigned>(kLastDType); ++d) {
        if ((set & dtype_bit(static_cast<DType>(d))) == 0) continue;
        if (!s.empty()) s += ", ";
        s += dtype_name(static_cast<DType>(d));
    }
    return s;
}

const std::vector<OpSchema> &all_ops() {
    static const std::vector<OpSchema> ops = make_ops();
    return ops;
}

const OpSchema *find_op(std::string_view name) {
    for (const OpSchema &op : all_ops()) {
        if (name == op.name) return &op;
    }
    if (test_ops_enabled() && name == test_fault_op().name) return &test_fault_op();
    return nullptr;
}

Status canonicalize_attrs(const OpSchema &op, NodeDesc *node) {
    for (const auto &[name, value] : node->attrs) {
        const AttrSpec *spec = op.find_attr(name);
        if (!spec) return fail("unknown attribute \"" + name + "\" for " + op.name);
        if (value.type != spec->type) {
            return fail("attribute \"" + name + "\" is " + attr_type_name(value.type) +
                        ", expected " + attr_type_name(spec->type));
        }
    }
    for (const AttrSpec &s : op.attrs) {
        if (node->attr(s.name)) continue;
        if (s.presence == AttrSpec::Presence::Required) {
            return fail("missing required attribute \"" + s.name + "\"");
        }
        if (s.presence == AttrSpec::Presence::Defaulted)
            node->attrs.emplace(s.name, s.default_value);
    }
    return {};
}

Status check_node_inputs(const OpSchema &op, const std::vector<InputInfo> &inputs) {
    const int n = static_cast<int>(inputs.size());
    if (n < op.min_inputs || n > op.max_inputs) {
        std::string want = std::to_string(op.min_inputs);
        if (op.max_inputs >= kMaxVariadic) {
            want = "at least " + want;
        } else if (op.max_inputs != op.min_inputs) {
            want += " to " + std::to_string(op.max_inputs);
        }
        return fail(op.name + " takes " + want + (op.max_inputs == 1 ? " input" : " inputs") +
                    ", got " + std::to_string(n));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
        const DTypeSet allowed = op.input_dtypes(i);
        if ((allowed & dtype_bit(inputs[i].dtype)) != 0) continue;
        const bool one = (allowed & (allowed - 1)) == 0;
        const ArgSpec &arg = op.inputs[i < op.inputs.size() ? i : op.inputs.size() - 1];
        return fail(std::string("dtype ") + dtype_name(inputs[i].dtype) + " is not supported by " +
                    op.name + " (input " + std::to_string(i) + " " + arg.name + "; only " +
                    dtype_set_str(allowed) + (one ? " is)" : " are)"));
    }
    return {};
}

Status infer_node(const OpSchema &op, NodeDesc *node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(canonicalize_attrs(op, node));
    SALUS_RETURN_IF_ERROR(check_node_inputs(op, inputs));
    outputs->clear();
    SALUS_RETURN_IF_ERROR(op.infer(*node, inputs, outputs));
    const int n = static_cast<int>(outputs->size());
    if (n < op.min_outputs || n > op.max_outputs) {
        return Status(SALUS_EINTERNAL,
                      op.name + " inference gave " + std::to_string(n) + " outputs");
    }
    return {};
}

} // namespace salus
