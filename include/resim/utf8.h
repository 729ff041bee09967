/* utf8.h - UTF-8 checks shared by the readers, --set and the writers. */
#ifndef RESIM_UTF8_H
#define RESIM_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0), or 0
 * if it is not one (overlong forms and surrogates are not). */
size_t resim_utf8_seq(const unsigned char *s, size_t n);

/* 1 if the n bytes at s are valid UTF-8 (no overlong forms or surrogates). */
int resim_utf8_valid(const char *s, size_t n);

#endif
