// Writes the fuzz targets' seed inputs (corpus/graph, corpus/frame) from
// graphs built with libsalus: what a real client sends. make_corpus.sh runs
// it; the output is committed.
//   fuzz-make-corpus CORPUS_DIR
#include "frame.h"

#include "mlp/mlp.h"

#include <salus/salus.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace salus;
using Bytes = std::vector<uint8_t>;

void write_file(const std::string &path, const uint8_t *data, size_t size) {
    FILE *f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
        std::fprintf(stderr, "fuzz-make-corpus: cannot write %s\n", path.c_str());
        std::exit(1);
    }
}

void check(int rc, const char *what) {
    if (rc != 0) {
        std::fprintf(stderr, "fuzz-make-corpus: %s failed: %d\n", what, rc);
        std::exit(1);
    }
}

Bytes export_graph(const salus_graph *graph) {
    void *data = nullptr;
    size_t size = 0;
    check(salus_graph_export(graph, &data, &size), "salus_graph_export");
    Bytes bytes(static_cast<uint8_t *>(data), static_cast<uint8_t *>(data) + size);
    salus_buffer_free(data);
    return bytes;
}

// x [2, 3] -> Relu -> output: a graph for AddGraph.
Bytes small_graph() {
    salus_graph *g = nullptr;
    check(salus_graph_new(&g), "salus_graph_new");
    const int64_t shape[] = {2, 3};
    uint32_t x = 0, y = 0;
    check(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 2, &x), "add_input");
    check(salus_graph_add_node(g, "Relu", "relu", &x, 1, 1, &y, nullptr), "add_node");
    check(salus_graph_add_output(g, y), "add_output");
    Bytes bytes = export_graph(g);
    salus_graph_free(g);
    return bytes;
}

Bytes finish(flatbuffers::FlatBufferBuilder &fbb, wire::Body type, flatbuffers::Offset<void> body) {
    wire::FinishMessageBuffer(fbb, wire::CreateMessage(fbb, 1, type, body));
    return Bytes(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> nested(flatbuffers::FlatBufferBuilder &fbb,
                                                         const Bytes &graph) {
    fbb.ForceVectorAlignment(graph.size(), 1, 8);
    return fbb.CreateVector(graph);
}

flatbuffers::Offset<wire::TensorValue> value(flatbuffers::FlatBufferBuilder &fbb, uint32_t id,
                                             std::vector<int64_t> shape, const char *name) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    auto dims = fbb.CreateVector(shape);
    fbb.ForceVectorAlignment(n * 4, 1, 16);
    auto data = fbb.CreateVector(Bytes(n * 4, 0));
    auto label = name ? fbb.CreateString(name) : 0;
    return wire::CreateTensorValue(fbb, id, ir::DType::F32, dims, data, label);
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz-make-corpus CORPUS_DIR\n");
        return 2;
    }
    const std::string dir = argv[1];
    // 8 -> 16 -> 4, a batch of 4, trained: forward, loss, backward, SGD.
    mlp_spec spec = {2, {8, 16, 4}, 4, 0.1f, 1, 1};
    mlp_graph mlp;
    check(mlp_build(&spec, &mlp), "mlp_build");
    const Bytes mlp_bytes = export_graph(mlp.graph);
    const Bytes small_bytes = small_graph();
    write_file(dir + "/graph/mlp", mlp_bytes.data(), mlp_bytes.size());
    write_file(dir + "/graph/relu", small_bytes.data(), small_bytes.size());

    std::vector<std::pair<std::string, Bytes>> frames;
    {
        flatbuffers::FlatBufferBuilder fbb;
        auto body = wire::CreateHello(fbb, SALUS_PROTOCOL_VERSION, 0, fbb.CreateString("fuzz"));
        frames.emplace_back("hello", finish(fbb, wire::Body::Hello, body.Union()));
    }
    {
        flatbuffers::FlatBufferBuilder fbb;
        auto graph = nested(fbb, mlp_bytes);
        auto options = wire::CreateSessionOptions(fbb, fbb.CreateString("mlp"), 10, 0, 1.0);
        auto body = wire::CreateCreateSession(fbb, graph, options);
        frames.emplace_back("create_session", finish(fbb, wire::Body::CreateSession, body.Union()));
    }
    {
        flatbuffers::FlatBufferBuilder fbb;
        auto graph = nested(fbb, small_bytes);
        auto body = wire::CreateAddGraph(fbb, 1, fbb.CreateString("eval"), graph);
        frames.emplace_back("add_graph", finish(fbb, wire::Body::AddGraph, body.Union()));
    }
    {
        flatbuffers::FlatBufferBuilder fbb;
        std::vector<flatbuffers::Offset<wire::TensorValue>> inputs = {
            value(fbb, mlp.x, {spec.batch, spec.sizes[0]}, nullptr),
            value(fbb, mlp.labels, {spec.batch, spec.sizes[2]}, nullptr)};
        auto body = wire::CreateRunIteration(fbb, 1, fbb.CreateVector(inputs), 0);
        frames.emplace_back("run_iteration", finish(fbb, wire::Body::RunIteration, body.Union()));
    }
    {
        flatbuffers::FlatBufferBuilder fbb;
        std::vector<flatbuffers::Offset<wire::TensorValue>> values = {
            value(fbb, 0, {spec.sizes[0], spec.sizes[1]}, "W1")};
        auto body = wire::CreateWriteVariables(fbb, 1, fbb.CreateVector(values));
        frames.emplace_back("write_variables",
                            finish(fbb, wire::Body::WriteVariables, body.Union()));
    }
    {
        flatbuffers::FlatBufferBuilder fbb;
        std::vector<flatbuffers::Offset<flatbuffers::String>> names = {fbb.CreateString("W1"),
                                                                       fbb.CreateString("b2")};
        auto body = wire::CreateReadVariables(fbb, 1, fbb.CreateVector(names));
        frames.emplace_back("read_variables", finish(fbb, wire::Body::ReadVariables, body.Union()));
    }
    {
        flatbuffers::FlatBufferBuilder fbb;
        auto body = wire::CreateCloseSession(fbb, 1);
        frames.emplace_back("close_session", finish(fbb, wire::Body::CloseSession, body.Union()));
    }
    for (const auto &[name, bytes] : frames) {
        write_file(dir + "/frame/" + name, bytes.data(), bytes.size());
    }
    salus_graph_free(mlp.graph);
    return 0;
}
