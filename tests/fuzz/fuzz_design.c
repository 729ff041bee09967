/*
 * fuzz_design.c - libFuzzer harness: any bytes as a sweep design file, run
 * through `resim sweep flat.ini --design FILE` for three months a point.
 */
#include "fuzz_common.h"

int resim_cli_main(int argc, char **argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    char design[512], ini[512], out[512];
    snprintf(design, sizeof design, "%s/s/design.csv", fuzz_dir);
    snprintf(ini, sizeof ini, "%s/s/flat.ini", fuzz_dir);
    snprintf(out, sizeof out, "%s/o/out.csv", fuzz_dir);
    fuzz_write(design, data, size);
    char *argv[] = {"resim", "sweep", ini, "--set", "scenario.months=3", "--design", design,
                    "-o", out, NULL};
    resim_cli_main(9, argv);
    fuzz_clean_outputs();
    return 0;
}
