/*
 * fuzz_set.c - libFuzzer harness: each line of the input is a --set
 * assignment (SECTION.KEY=VALUE) applied to flat.ini, then resolved.
 */
#include "fuzz_common.h"
#include "fuzz_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    char *text = malloc(size + 1);
    char *sets[64];
    size_t n = 0;
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (char *line = text; line != NULL && n < 64;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        sets[n++] = line;
        line = nl != NULL ? nl + 1 : NULL;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/s/flat.ini", fuzz_dir);
    fuzz_load(path, sets, n);
    free(text);
    return 0;
}
