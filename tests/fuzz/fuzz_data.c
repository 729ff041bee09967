/*
 * fuzz_data.c - libFuzzer harness: any bytes as one data CSV (the first
 * byte picks which), loaded with the others and resolved by flat.ini.
 */
#include "fuzz_common.h"
#include "fuzz_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    if (size == 0)
        return 0;
    size_t k = data[0] % 5;
    char path[512];
    snprintf(path, sizeof path, "%s/data/%s", fuzz_dir, fuzz_data_files[k]);
    fuzz_write(path, data + 1, size - 1);
    snprintf(path, sizeof path, "%s/s/flat.ini", fuzz_dir);
    fuzz_load(path, NULL, 0);
    fuzz_restore_data(k);
    return 0;
}
