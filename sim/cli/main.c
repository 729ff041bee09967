/* main.c - the resim command: main() and the dispatch to a subcommand. */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int dispatch(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage("no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(cli_help_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("resim %s\n", RESIM_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cli_check(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return cli_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return cli_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "fit") == 0)
        return cli_fit(argc - 1, argv + 1);
    if (strcmp(cmd, "analyze") == 0)
        return cli_analyze(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "summary") == 0)
        return cli_summary(argc - 1, argv + 1);
    return cli_usage("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    int code = dispatch(argc, argv);
    /* Help, check and summaries go to stdout: a failed write is a failure. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("resim: cannot write to standard output\n", stderr);
        if (code == 0)
            code = EXIT_INPUT;
    }
    return code;
}
