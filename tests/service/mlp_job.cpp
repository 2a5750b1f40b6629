#include "mlp_job.h"

extern "C" {
#include "../capi/mlp_graph.h"
}

#include <salus/salus.h>

namespace salus::test {

namespace {

// One iteration of batch `index`: its loss in *loss.
int step(salus_session *s, const mlp_graph &m, uint64_t index, float *loss) {
    salus_tensor *x = nullptr, *y = nullptr, *out = nullptr;
    int rc = mlp_batch_tensors(&m.cfg, index, &x, &y);
    const uint32_t ids[2] = {m.x, m.labels};
    const salus_tensor *inputs[2] = {x, y};
    if (rc == 0) rc = salus_session_run(s, ids, inputs, 2, &out, 1);
    if (rc == 0) *loss = *static_cast<const float *>(salus_tensor_const_data(out));
    salus_tensor_free(out);
    salus_tensor_free(x);
    salus_tensor_free(y);
    return rc;
}

} // namespace

void run_mlp_job(MlpJob *job) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = job->socket_path.c_str();
    salus_client *client = nullptr;
    if (salus_connect(&opts, &client) != 0) {
        job->error = std::string("connect: ") + salus_last_error();
        return;
    }
    mlp_config cfg = mlp_default_config();
    mlp_graph m;
    salus_session *s = nullptr;
    int rc = mlp_graph_build(&cfg, &m);
    if (rc == 0) rc = salus_session_create(client, m.graph, nullptr, &s);
    for (uint64_t i = 0; rc == 0 && !(job->stop && i >= job->min_iterations); ++i) {
        float loss = 0;
        rc = step(s, m, i, &loss);
        if (rc == 0) {
            job->losses.push_back(loss);
            ++job->done;
        }
    }
    if (rc != 0) job->error = salus_client_last_error(client);
    if (s && salus_session_close(s) != 0 && job->error.empty()) {
        job->error = std::string("close: ") + salus_client_last_error(client);
    }
    mlp_graph_release(&m); // safe after a failed build too
    salus_disconnect(client);
}

} // namespace salus::test
