/* trivial: the smallest program that honours the OMNeT++ command-line
 * contract simswarm relies on, for measuring per-run overhead. It has
 * $BENCH_RUNS runs (default RUNS, given at compile time: -DRUNS=N, else 1000); -q runnumbers [-s] lists them, and -q runs,
 * runconfig and rundetails answer as opp_run does for a config whose one
 * iteration variable is $repetition. -r N writes one tiny result file
 * <Config>-#N.sca into --result-dir (default results), whose header says
 * which config and run wrote it, as OMNeT++'s do, after announcing the run
 * as Cmdenv does ("<Config> run N: ..."). Other options are ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef RUNS
#define RUNS 1000
#endif


int main(int argc, char **argv) {
    const char *config = "General", *filter = NULL, *query = NULL, *dir = "results";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc) config = argv[++i];
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "-q") && i + 1 < argc) query = argv[++i];
        else if (!strcmp(argv[i], "-u") || !strcmp(argv[i], "-f")) i++;
        else if (!strncmp(argv[i], "--result-dir=", 13)) dir = argv[i] + 13;
    }
    if (query) {
        const char *n = getenv("BENCH_RUNS");
        int runs = n ? atoi(n) : RUNS, from = 0, to = runs;
        /* Only -q runconfig -r N is asked with a filter (one run). */
        if (filter && !strcmp(query, "runconfig")) { from = atoi(filter); to = from + 1; }
        if (!strcmp(query, "runnumbers")) {
            for (int r = 0; r < runs; r++) printf(r ? " %d" : "%d", r);
            printf("\n");
            return 0;
        }
        if (strcmp(query, "runs") && strcmp(query, "runconfig") && strcmp(query, "rundetails")) {
            fprintf(stderr, "<!> Error: unknown query %s\n", query);
            return 1;
        }
        for (int r = from; r < to; r++) {
            printf("Run %d: $repetition=%d\n", r, r);
            if (!strcmp(query, "runconfig")) printf("\tnetwork = Net\n\trepeat = %d\n", runs);
        }
        return 0;
    }
    if (!filter) { fprintf(stderr, "<!> Error: no run given\n"); return 1; }
    mkdir(dir, 0755);
    /* -r may list several runs (batches): "3" or "3,4,5". */
    char *list = strdup(filter);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        printf("%s run %s: $repetition=%s\n", config, tok, tok);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s-#%s.sca", dir, config, tok);
        FILE *f = fopen(path, "w");
        if (!f) { perror(path); return 1; }
        fprintf(f, "version 3\nrun %s-%s\nattr configname %s\nattr runnumber %s\nscalar Net x %s\n", config, tok, config, tok, tok);
        fclose(f);
    }
    free(list);
    return 0;
}
