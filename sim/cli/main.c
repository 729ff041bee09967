/* main.c - the resim command: main(), the help text and dispatch to a subcommand. */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_analyze(int argc, char **argv); /* analyze.c */

static const char usage_text[] =
    "usage: resim COMMAND [ARGS]\n"
    "\n"
    "Scenario simulation of heavy-rare-earth supply to Japanese importers under\n"
    "China's export licensing.\n"
    "\n"
    "commands:\n"
    "  run SCENARIO [options]    simulate and write the monthly CSV\n"
    "      --set SECTION.KEY=VALUE   override any scenario key (repeatable),\n"
    "                                e.g. policy.approval.watch=0.3 or\n"
    "                                2026-02.list.add.control=40\n"
    "      -o, --output FILE         write the CSV to FILE (via a temporary file)\n"
    "                                and run metadata to FILE.json; default stdout\n"
    "      --by status|importer      add rows per list status or per importer\n"
    "      --warmup N                simulate N months before the start, unwritten\n"
    "      --summary                 print per-element shortfall and availability\n"
    "    ensembles (lots, uncertain levers, random list moves):\n"
    "      --replicates N            run N replicates; the CSV becomes a summary\n"
    "                                (mean and quantiles of every column per row)\n"
    "      --seed S                  random seed (default 1)\n"
    "      --threads T               worker threads (default 1; same bytes for any T)\n"
    "      --quantiles Q,Q,...       quantiles (default 0.05,0.25,0.5,0.75,0.95)\n"
    "      --threshold X             report P(availability < X) (default 0.9)\n"
    "      --raw FILE                also write every replicate's rows to FILE\n"
    "      --first-replicate F       replicates F .. F+N-1 (default 0)\n"
    "      --memory MB               memory for exact quantiles (default 512)\n"
    "  check SCENARIO [--set ...] [--warmup N]\n"
    "                            validate; print the resolved levers and timeline\n"
    "  sweep SCENARIO --vary SECTION.KEY=LO:HI[:N]... -o FILE\n"
    "                            one row of outcome measures per design point\n"
    "                            (grid, lhs, sobol or a design CSV; shards, threads,\n"
    "                            MPI, resume): see 'resim sweep --help'\n"
    "  merge SHARD... -o FILE    join sweep shard files into point order\n"
    "  analyze SWEEP.csv --method sobol|morris|prim -o FILE\n"
    "                            Sobol indices, Morris effects or a PRIM box from a\n"
    "                            sweep: see 'resim analyze --help'\n"
    "  help                      this text\n"
    "  --version                 the version\n"
    "\n"
    "exit codes: 0 success, 1 bad input or failed output (one line on stderr\n"
    "names the file, line and key), 2 bad command line.\n";

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    if (argc < 2)
        return cli_usage("no command given");
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
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
    if (strcmp(cmd, "analyze") == 0)
        return cli_analyze(argc - 1, argv + 1);
    return cli_usage("unknown command '%s'", cmd);
}
