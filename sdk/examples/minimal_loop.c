/* A minimal training loop with the C ABI (SDK.md §3).
 *
 *   runicorn_example_c [storage-root]
 */

#include <runicorn/c/runicorn.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char** argv) {
    if ((rn_abi_version() >> 16) != RN_ABI_VERSION_MAJOR) {
        fprintf(stderr, "runicorn ABI mismatch\n");
        return 1;
    }
    rn_init_options o;
    rn_init_options_default(&o);
    o.path = "examples/minimal_c";
    if (argc > 1) {
        o.storage = argv[1];
    }
    rn_run* run = NULL;
    if (rn_init(&o, &run) != RN_OK) {
        fprintf(stderr, "rn_init: %s\n", rn_last_error());
        return 1;
    }
    rn_set_primary_metric(run, "loss", RN_MODE_MIN);

    const char* keys[] = {"loss", "acc"};
    for (int64_t step = 1; step <= 1000; ++step) {
        const double loss = 1.0 / sqrt((double)step);
        const double values[] = {loss, 1.0 - loss};
        /* RN_E_RESOURCE_EXHAUSTED only means the record was dropped: keep training. */
        rn_log_f64(run, keys, values, 2, step, "train");
    }
    const char text[] = "training done";
    rn_log_text(run, text, sizeof text - 1);
    rn_summary_json(run, "{\"final_loss\": 0.0316}");

    rn_run_info info;
    info.struct_size = sizeof info;
    if (rn_run_get_info(run, &info) == RN_OK) {
        printf("%s\n", info.run_dir);
    }
    const int rc = rn_finish(run, NULL);
    if (rc != RN_OK) {
        fprintf(stderr, "rn_finish: %s: %s\n", rn_status_name(rc), rn_last_error());
    }
    rn_run_release(run);
    return rc == RN_OK ? 0 : 1;
}
