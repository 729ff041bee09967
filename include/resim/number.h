/*
 * number.h - numbers read from text the same way everywhere: scenario
 * values, data tables and command-line options.
 */
#ifndef RESIM_NUMBER_H
#define RESIM_NUMBER_H

/*
 * Parses a whole string as a finite double (spaces around it allowed);
 * returns 0 on success and -1 otherwise, leaving *out untouched.
 */
int resim_parse_double(const char *s, double *out);

#endif
