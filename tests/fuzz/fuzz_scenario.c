/* fuzz_scenario.c - libFuzzer harness: any bytes as a scenario INI, read and resolved. */
#include "fuzz_common.h"
#include "fuzz_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    char path[512];
    snprintf(path, sizeof path, "%s/s/fuzz.ini", fuzz_dir);
    fuzz_write(path, data, size);
    fuzz_load(path, NULL, 0);
    return 0;
}
