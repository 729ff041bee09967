/* serve_assets.h - the explorer's page, embedded in the binary at build time (private). */
#ifndef RESIM_SERVE_ASSETS_H
#define RESIM_SERVE_ASSETS_H

#include <stddef.h>

typedef struct serve_asset {
    const char *url;  /* path it is served at */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
} serve_asset;

/* Ends with a record whose url is NULL. */
extern const serve_asset serve_assets[];

#endif
