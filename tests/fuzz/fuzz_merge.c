/*
 * fuzz_merge.c - libFuzzer harness: the input split at lines "==" into up
 * to four shard files (a part starting with '{' is the first shard's
 * sidecar instead), joined by `resim merge`.
 */
#include "fuzz_common.h"

int resim_cli_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    static char names[4][512], sidecar[600];
    char out[512];
    char *argv[8] = {"resim", "merge"};
    int argc = 2;
    snprintf(out, sizeof out, "%s/o/out.csv", fuzz_dir);
    snprintf(sidecar, sizeof sidecar, "%s/o/shard0.csv.json", fuzz_dir);
    unlink(sidecar);
    size_t start = 0, shards = 0;
    for (size_t i = 0; i <= size && shards < 4; i++) {
        int cut = i == size || (i + 3 <= size && memcmp(data + i, "==\n", 3) == 0 &&
                                (i == 0 || data[i - 1] == '\n'));
        if (!cut)
            continue;
        const uint8_t *part = data + start;
        size_t len = i - start;
        if (len > 0 && part[0] == '{') {
            fuzz_write(sidecar, part, len);
        } else {
            snprintf(names[shards], sizeof names[shards], "%s/o/shard%zu.csv", fuzz_dir, shards);
            fuzz_write(names[shards], part, len);
            argv[argc++] = names[shards];
            shards++;
        }
        start = i + 3;
        i += 2;
    }
    argv[argc++] = "-o";
    argv[argc++] = out;
    resim_cli_main(argc, argv);
    fuzz_clean_outputs();
    for (size_t k = 0; k < shards; k++)
        unlink(names[k]);
    return 0;
}
