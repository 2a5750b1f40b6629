#include "exec/executable.h"

#include "graph/validate.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace salus {

namespace {

// FNV-1a: whether two constants hold the same bytes, after their host
// copies are gone.
uint64_t content_hash(const std::vector<uint8_t> &bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
    return h;
}

} // namespace

Executable::Executable(Device *device, Graph graph) : device_(device), graph_(std::move(graph)) {}

Executable::~Executable() {
    if (owns_memory_) {
        device_->release(arena_, plan_.ephemeral_bytes);
        device_->release(persistent_, plan_.persistent_bytes);
    }
    device_->release_staging(staging_, staging_bytes_);
}

Status Executable::prepare(Device *device, const KernelRegistry &kernels, Graph graph,
                           std::unique_ptr<Executable> *out) {
    std::unique_ptr<Executable> exe(new Executable(device, std::move(graph)));
    Graph &g = exe->graph_;
    SALUS_RETURN_IF_ERROR(validate_graph(&g, &exe->order_));

    SALUS_RETURN_IF_ERROR(
        prepare_kernels(g, exe->order_, device->type(), device, kernels, &exe->step_kernels_));
    const std::vector<uint64_t> workspaces = workspace_bytes(exe->step_kernels_);
    exe->plan_ = plan_memory(g, exe->order_, workspaces);
    for (size_t i = 0; i < g.tensors.size(); ++i) {
        if (g.tensors[i].kind == TensorKind::Input)
            exe->inputs_.push_back(static_cast<uint32_t>(i));
    }
    exe->constant_hash_.assign(g.tensors.size(), 0);
    for (size_t i = 0; i < g.tensors.size(); ++i) {
        const TensorDesc &t = g.tensors[i];
        if (!t.persistent() || t.name.empty()) continue;
        auto [it, fresh] = exe->persistent_by_name_.emplace(t.name, static_cast<uint32_t>(i));
        if (!fresh) it->second = kAmbiguous;
        if (t.kind == TensorKind::Constant) exe->constant_hash_[i] = content_hash(t.init);
    }
    for (size_t i = 0; i < g.tensors.size(); ++i) {
        const TensorDesc &t = g.tensors[i];
        if (t.kind == TensorKind::Variable && t.init.empty() && t.nbytes() > 0)
            exe->zero_variables_.push_back(static_cast<uint32_t>(i));
    }
    exe->tensor_data_.resize(g.tensors.size(), nullptr);
    exe->step_contexts_.resize(exe->order_.size());
    if (!device->host_visible()) SALUS_RETURN_IF_ERROR(exe->plan_staging());
    *out = std::move(exe);
    return {};
}

Status Executable::prepare_shared(Device *device, const KernelRegistry &kernels, Graph graph,
                                  const Executable &base, std::unique_ptr<Executable> *out) {
    std::unique_ptr<Executable> exe;
    SALUS_RETURN_IF_ERROR(prepare(device, kernels, std::move(graph), &exe));
    SALUS_RETURN_IF_ERROR(exe->share_persistent(base));
    *out = std::move(exe);
    return {};
}

Status Executable::share_persistent(const Executable &base) {
    for (size_t i = 0; i < graph_.tensors.size(); ++i) {
        TensorDesc &t = graph_.tensors[i];
        if (!t.persistent()) continue;
        const std::string what = std::string(tensor_kind_name(t.kind)) + " \"" + t.name + "\"";
        uint32_t j = 0;
        if (t.name.empty()) {
            return Status(SALUS_EGRAPH, "an unnamed " + std::string(tensor_kind_name(t.kind)) +
                                            " (tensor " + std::to_string(i) +
                                            "): a graph added to a session finds the session's "
                                            "variables and constants by name");
        }
        Status found = base.find_persistent(t.name, &j);
        if (!found.ok()) {
            return Status(SALUS_EGRAPH, what + ": " + found.message() +
                                            " (a graph added to a session uses the session's "
                                            "variables and constants; it cannot bring new ones)");
        }
        const TensorDesc &b = base.graph_.tensors[j];
        if (b.kind != t.kind || b.dtype != t.dtype || b.shape != t.shape) {
            return Status(SALUS_EGRAPH, what + " " + dtype_name(t.dtype) + shape_str(t.shape) +
                                            " does not match the session's " +
                                            tensor_kind_name(b.kind) + " " + dtype_name(b.dtype) +
                                            shape_str(b.shape));
        }
        if (t.kind == TensorKind::Constant && constant_hash_[i] != base.constant_hash_[j]) {
            return Status(SALUS_EGRAPH, what + " has another value than the session's");
        }
        plan_.persistent_offset[i] = base.plan_.persistent_offset[j];
        // The session's block holds the value: nothing to write on bind().
        std::vector<uint8_t>().swap(t.init);
    }
    plan_.persistent_bytes = 0;
    zero_variables_.clear();
    return {};
}

Status Executable::write_zeros(uint32_t id) {
    // From one zeroed chunk: devices copy, they need not know how to fill.
    static const std::vector<uint8_t> zeros(size_t{1} << 20, 0);
    auto *dst = static_cast<uint8_t *>(tensor_data_[id]);
    for (size_t done = 0, bytes = graph_.tensors[id].nbytes(); done < bytes;) {
        const size_t n = std::min(zeros.size(), bytes - done);
        SALUS_RETURN_IF_ERROR(device_->copy_to_device(dst + done, zeros.data(), n));
        done += n;
    }
    return {};
}

Status Executable::find_persistent(const std::string &name, uint32_t *id) const {
    auto it = persistent_by_name_.find(name);
    if (it == persistent_by_name_.end())
        return Status(SALUS_EINVAL, "no variable or constant of that name");
    if (it->second == kAmbiguous) {
        return Status(SALUS_EINVAL, "several variables or constants have that name");
    }
    *id = it->second;
    return {};
}

Status Executable::read_persistent(Stream *stream, uint32_t id, void *dst) const {
    const size_t bytes = graph_.tensors[id].nbytes();
    if (bytes == 0) return {};
    if (!staged_) {
        std::memcpy(dst, tensor_data_[id], bytes);
        return {};
    }
    SALUS_RETURN_IF_ERROR(stream->copy_to_host(dst, tensor_data_[id], bytes));
    return stream->synchronize();
}

Status Executable::write_persistent(Stream *stream, uint32_t id, const void *src) {
    const size_t bytes = graph_.tensors[id].nbytes();
    if (bytes == 0) return {};
    if (!staged_) {
        std::memcpy(tensor_data_[id], src, bytes);
        return {};
    }
    SALUS_RETURN_IF_ERROR(stream->copy_to_device(tensor_data_[id], src, bytes));
    return stream->synchronize();
}

// Every input and output gets its own 64-byte aligned range of one buffer,
// so that an iteration's copies never wait on each other.
Status Executable::plan_staging() {
    auto align = [](uint64_t n) {
        return (n + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
    };
    uint64_t bytes = 0;
    input_staging_.assign(graph_.tensors.size(), kNoOffset);
    for (uint32_t id : inputs_) {
        input_staging_[id] = bytes;
        bytes += align(graph_.tensors[id].nbytes());
    }
    output_staging_.clear();
    for (uint32_t id : graph_.outputs) {
        output_staging_.push_back(bytes);
        bytes += align(graph_.tensors[id].nbytes());
    }
    Status st;
    staging_ = static_cast<uint8_t *>(device_->allocate_staging(bytes, &st));
    SALUS_RETURN_IF_ERROR(st);
    staging_bytes_ = bytes;
    staged_ = true;
    return {};
}

Status Executable::create(Device *device, const KernelRegistry &kernels, Graph graph,
                          std::unique_ptr<Executable> *out) {
    std::unique_ptr<Executable> exe;
    SALUS_RETURN_IF_ERROR(prepare(device, kernels, std::move(graph), &exe));
    Status st;
    auto *persistent = static_cast<uint8_t *>(device->allocate(exe->plan_.persistent_bytes, &st));
    SALUS_RETURN_IF_ERROR(st);
    auto *arena = static_cast<uint8_t *>(device->allocate(exe->plan_.ephemeral_bytes, &st));
    if (!st.ok()) {
        device->release(persistent, exe->plan_.persistent_bytes);
        return st;
    }
    exe->owns_memory_ = true;
    SALUS_RETURN_IF_ERROR(exe->bind(persistent, arena));
    *out = std::move(exe);
    return {};
}

Status Executable::bind(uint8_t *persistent, uint8_t *arena) {
    persistent_ = persistent;
    arena_ = arena;
    point_tensors();
    if (bound_) return {};
    for (size_t i = 0; i < graph_.tensors.size(); ++i) {
        TensorDesc &t = graph_.tensors[i];
        if (!t.persistent() || t.init.empty()) continue;
        Status st = device_->copy_to_device(tensor_data_[i], t.init.data(), t.init.size());
        if (!st.ok()) {
            return Status(st.code(),
                          "writing the initial value of \"" + t.name + "\": " + st.message());
        }
        // The device holds the value now; keep only the description.
        std::vector<uint8_t>().swap(t.init);
    }
    for (uint32_t id : zero_variables_) {
        Status st = write_zeros(id);
        if (!st.ok()) {
            return Status(st.code(),
                          "zeroing \"" + graph_.tensors[id].name + "\": " + st.message());
        }
    }
    zero_variables_.clear();
    bound_ = true;
    return {};
}

void Executable::point_tensors() {
    const MemoryPlan &plan = plan_;
    for (size_t i = 0; i < graph_.tensors.size(); ++i) {
        if (graph_.tensors[i].persistent()) {
            tensor_data_[i] = persistent_ + plan.persistent_offset[i];
        } else if (plan.ephemeral_offset[i] != kNoOffset) {
            tensor_data_[i] = arena_ + plan.ephemeral_offset[i];
        }
    }
    for (size_t s = 0; s < order_.size(); ++s) {
        const NodeDesc &node = graph_.nodes[order_[s]];
        KernelContext &ctx = step_contexts_[s];
        ctx.node = &node;
        ctx.stream = contexts_stream_;
        ctx.inputs.clear();
        ctx.outputs.clear();
        auto view = [&](uint32_t id) {
            const TensorDesc &t = graph_.tensors[id];
            return TensorView{tensor_data_[id], t.dtype, t.shape};
        };
        for (uint32_t id : node.inputs) ctx.inputs.push_back(view(id));
        for (uint32_t id : node.outputs) ctx.outputs.push_back(view(id));
        if (plan.workspace_bytes[s] > 0) {
            ctx.workspace = arena_ + plan.workspace_offset[s];
            ctx.workspace_bytes = plan.workspace_bytes[s];
        }
    }
}

Status Executable::check_feeds(const Feed *feeds, size_t n) const {
    if (n != inputs_.size()) {
        return Status(SALUS_EINVAL, "the graph has " + std::to_string(inputs_.size()) +
                                        " inputs but " + std::to_string(n) + " were fed");
    }
    std::vector<bool> seen(graph_.tensors.size(), false);
    for (size_t i = 0; i < n; ++i) {
        const Feed &f = feeds[i];
        if (f.tensor >= graph_.tensors.size() ||
            graph_.tensors[f.tensor].kind != TensorKind::Input) {
            return Status(SALUS_EINVAL,
                          "tensor " + std::to_string(f.tensor) + " is not an input of the graph");
        }
        if (seen[f.tensor]) {
            return Status(SALUS_EINVAL, "input " + std::to_string(f.tensor) + " \"" +
                                            graph_.tensors[f.tensor].name + "\" is fed twice");
        }
        seen[f.tensor] = true;
        SALUS_RETURN_IF_ERROR(check_value(f, "input"));
    }
    return {};
}

Status Executable::check_value(const Feed &f, const char *kind) const {
    const TensorDesc &t = graph_.tensors[f.tensor];
    const std::string what =
        std::string(kind) + " " + std::to_string(f.tensor) + " \"" + t.name + "\"";
    if (f.dtype != t.dtype) {
        return Status(SALUS_ESHAPE,
                      what + " is " + dtype_name(t.dtype) + " but was fed " + dtype_name(f.dtype));
    }
    Shape fed(f.shape, f.shape + f.rank);
    if (fed != t.shape) {
        return Status(SALUS_ESHAPE,
                      what + " has shape " + shape_str(t.shape) + " but was fed " + shape_str(fed));
    }
    if (f.nbytes != t.nbytes()) {
        return Status(SALUS_ESHAPE, what + " needs " + std::to_string(t.nbytes()) +
                                        " bytes but was fed " + std::to_string(f.nbytes));
    }
    return {};
}

Status Executable::run(Stream *stream, const Feed *feeds, size_t n) {
    Status st = enqueue(stream, feeds, n);
    // Wait even after a failure: the next iteration reuses the arena and the
    // staging buffer, which work queued before the failure may still use.
    Status waited = stream->synchronize();
    if (!st.ok()) return st;
    if (!waited.ok()) return Status(waited.code(), "running the iteration: " + waited.message());
    return {};
}

Status Executable::enqueue(Stream *stream, const Feed *feeds, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        const Feed &f = feeds[i];
        if (f.nbytes == 0) continue;
        if (!staged_) {
            std::memcpy(tensor_data_[f.tensor], f.data, f.nbytes);
            continue;
        }
        uint8_t *host = staging_ + input_staging_[f.tensor];
        std::memcpy(host, f.data, f.nbytes);
        SALUS_RETURN_IF_ERROR(stream->copy_to_device(tensor_data_[f.tensor], host, f.nbytes));
    }
    if (stream != contexts_stream_) {
        contexts_stream_ = stream;
        for (KernelContext &ctx : step_contexts_) ctx.stream = stream;
    }
    const uint64_t iteration = iterations_++;
    for (size_t s = 0; s < step_contexts_.size(); ++s) {
        step_contexts_[s].iteration = iteration;
        Status st = step_kernels_[s].run(step_contexts_[s]);
        if (!st.ok()) {
            return Status(st.code(), node_label(graph_.nodes, order_[s]) + ": " + st.message());
        }
    }
    if (staged_) {
        for (size_t i = 0; i < graph_.outputs.size(); ++i) {
            const uint32_t id = graph_.outputs[i];
            const size_t bytes = graph_.tensors[id].nbytes();
            if (bytes == 0) continue;
            SALUS_RETURN_IF_ERROR(
                stream->copy_to_host(staging_ + output_staging_[i], tensor_data_[id], bytes));
        }
    }
    return {};
}

size_t Executable::output_bytes(size_t i) const {
    return graph_.tensors[graph_.outputs[i]].nbytes();
}

const void *Executable::output_host(size_t i) const {
    if (staged_) return staging_ + output_staging_[i];
    return tensor_data_[graph_.outputs[i]];
}

void Executable::set_session_seed(uint64_t seed) {
    session_seed_ = seed;
    for (KernelContext &ctx : step_contexts_) ctx.session_seed = seed;
}

void Executable::read_output(size_t i, void *dst) const {
    const size_t bytes = output_bytes(i);
    if (bytes > 0) std::memcpy(dst, output_host(i), bytes);
}

} // namespace salus
