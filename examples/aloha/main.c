/* aloha - a pure/slotted ALOHA channel simulation that honours OMNeT++'s
 * command-line contract (opp_run -u Cmdenv -f INI -c CONFIG -r RUNS
 * -q runnumbers|runs|runconfig|rundetails -s --result-dir=DIR --cmdenv-redirect-output=BOOL),
 * written for simswarm's examples and tests. See README.md. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ini.h"
#include "results.h"
#include "sim.h"

static int error(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "<!> Error: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    return 1;
}

static void usage(void) {
    puts("usage: aloha [-u Cmdenv] [-f omnetpp.ini] [-c CONFIG] [-r RUNS] [-q runnumbers|runs|runconfig|rundetails] [-s]\n"
         "             [--result-dir=DIR] [--cmdenv-redirect-output=true]\n"
         "RUNS: comma-separated run numbers and ranges, e.g. 0..9,20");
}

/* parse_filter marks the runs of "1,5,8" / "0..9,20" in sel[0..count). */
static int parse_filter(const char *filter, int count, char *sel, char *err, int len) {
    char *copy = strdup(filter), *save = NULL;
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        long a, b;
        char *end, *dots = strstr(item, "..");
        if (dots) *dots = 0;
        a = strtol(item, &end, 10);
        while (isspace((unsigned char)*end)) end++;
        if (end == item || *end || a < 0) { rc = -1; break; }
        b = a;
        if (dots) {
            b = strtol(dots + 2, &end, 10);
            while (isspace((unsigned char)*end)) end++;
            if (end == dots + 2 || *end || b < a) { rc = -1; break; }
        }
        if (b >= count) {
            snprintf(err, (size_t)len, "run number %ld is out of range: the config has %d runs (0..%d)", b, count, count - 1);
            free(copy);
            return -1;
        }
        for (long r = a; r <= b; r++) sel[r] = 1;
    }
    if (rc) snprintf(err, (size_t)len, "invalid run filter \"%s\": use numbers and ranges like 0..9,20", filter);
    free(copy);
    return rc;
}

/* quantity reads "0.1", "0.1s", "100ms" as seconds. */
static int quantity(const char *s, double *out) {
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    if (end == s || errno) return -1;
    while (isspace((unsigned char)*end)) end++;
    if (!*end || !strcmp(end, "s")) return 0;
    if (!strcmp(end, "ms")) { *out /= 1e3; return 0; }
    if (!strcmp(end, "us")) { *out /= 1e6; return 0; }
    return -1;
}

typedef struct { const char *config, *inifile, *result_dir; ini_t *ini; int silent, redirect; } ctx_t;

static int simulate_run(const ctx_t *c, ini_run_t *run_);

/* simulate runs one run as Cmdenv does: announced on stdout ("<Config> run
 * <N>: <vars>, $repetition=<R>" with -s), its output redirected to
 * <result-dir>/<base>.out under --cmdenv-redirect-output=true. */
static int simulate(const ctx_t *c, int number) {
    char err[1024];
    ini_run_t run;
    if (ini_run(c->ini, c->config, number, &run, err, sizeof err)) return error("%s%s", err, "");
    if (c->silent) {
        printf("%s run %d: ", c->config, number);
        for (int i = 0; i < run.nvars; i++) printf("%s$%s=%s", i ? ", " : "", run.names[i], run.values[i]);
        printf(", $repetition=%d\n", run.repetition);
    } else {
        printf("Preparing for running configuration %s, run #%d...\n", c->config, number);
    }
    fflush(stdout);
    int saved = -1;
    if (c->redirect) {
        char base[2048], path[4096];
        ini_result_base(c->config, &run, base, sizeof base);
        if (result_mkdirs(c->result_dir)) return error("cannot create result directory %s%s", c->result_dir, "");
        snprintf(path, sizeof path, "%s/%s.out", c->result_dir, base);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) return error("cannot write %s: %s", path, strerror(errno));
        saved = dup(1);
        dup2(fd, 1);
        close(fd);
    }
    int rc = simulate_run(c, &run);
    if (saved >= 0) {
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
    }
    return rc;
}

/* config_names are the settings a run reads: its configuration, as -q
 * runconfig lists it. */
#define NCONFIG 6
static const char *const config_names[NCONFIG] = {"numHosts", "iaMean", "txDuration", "slotted", "sim-time-limit", "seed-set"};

static int simulate_run(const ctx_t *c, ini_run_t *run_) {
    char err[1024];
    ini_run_t run = *run_;

    sim_params_t p = {.num_hosts = 10, .ia_mean = 1, .tx_duration = 0.1, .slotted = 0, .sim_time = 10000, .seed = (uint64_t)run.repetition};
    result_set_t rs = {.config = c->config, .inifile = c->inifile, .run = &run, .params = &p};
    static char values[16][256];
    const char *const *names = config_names;
    for (int i = 0; i < NCONFIG; i++) {
        const char *v = ini_lookup(c->ini, c->config, &run, names[i]);
        if (!v) continue;
        snprintf(values[i], sizeof values[i], "%s", v);
        v = values[i];
        rs.config_keys[rs.nconfig] = names[i];
        rs.config_values[rs.nconfig++] = v;
        double q;
        char *end;
        switch (i) {
        case 0:
            p.num_hosts = (int)strtol(v, &end, 10);
            if (end == v || *end || p.num_hosts < 1 || p.num_hosts > 1000000) return error("numHosts = %s: want a whole number in 1..1000000%s", v, "");
            break;
        case 1: case 2: case 4:
            if (quantity(v, &q) || q <= 0) return error("%s = %s: want a positive time such as 0.1s", names[i], v);
            if (i == 1) p.ia_mean = q; else if (i == 2) p.tx_duration = q; else p.sim_time = q;
            break;
        case 3:
            if (!strcmp(v, "true")) p.slotted = 1;
            else if (!strcmp(v, "false")) p.slotted = 0;
            else return error("slotted = %s: want true or false%s", v, "");
            break;
        case 5:
            p.seed = strtoull(v, &end, 10);
            if (end == v || *end) return error("seed-set = %s: want a whole number%s", v, "");
            break;
        }
    }
    if (p.sim_time / p.ia_mean * p.num_hosts > 1e9) return error("the run would generate more than 1e9 frames: lower sim-time-limit%s%s", "", "");

    sim_result_t res;
    printf("Running simulation...\n");
    sim_run(&p, &res);
    rs.result = &res;
    printf("<!> Simulation time limit reached -- at t=%gs, event #%ld\n", p.sim_time, res.events);
    if (write_results(c->result_dir, &rs, err, sizeof err)) return error("%s%s", err, "");
    printf("S=%.4f G=%.4f (theory S=%.4f)\nEnd.\n", res.throughput, res.offered_load, res.theory);
    return 0;
}

int main(int argc, char **argv) {
    const char *inifile = "omnetpp.ini", *config = "General", *filter = NULL, *query = NULL, *result_dir = "results";
    int silent = 0, redirect = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else if (!strcmp(a, "-s")) silent = 1;
        else if (!strncmp(a, "--result-dir=", 13)) result_dir = a + 13;
        else if (!strncmp(a, "--cmdenv-redirect-output=", 25)) redirect = !strcmp(a + 25, "true");
        else if (!strcmp(a, "-u") || !strcmp(a, "-f") || !strcmp(a, "-c") || !strcmp(a, "-r") || !strcmp(a, "-q") || !strcmp(a, "--result-dir")) {
            if (!next) return error("option %s needs a value%s", a, "");
            if (!strcmp(a, "-u")) { if (strcmp(next, "Cmdenv")) return error("user interface %s is not available (only Cmdenv)%s", next, ""); }
            else if (!strcmp(a, "-f")) inifile = next;
            else if (!strcmp(a, "-c")) config = next;
            else if (!strcmp(a, "-r")) filter = next;
            else if (!strcmp(a, "-q")) query = next;
            else result_dir = next;
            i++;
        } else return error("unknown option %s%s", a, "");
    }

    char err[1024];
    ini_t *ini = ini_load(inifile, err, sizeof err);
    if (!ini) return error("%s%s", err, "");
    int count = ini_count(ini, config, err, sizeof err);
    if (count < 0) return error("%s%s", err, "");
    char *sel = calloc((size_t)count + 1, 1);
    if (filter) {
        if (parse_filter(filter, count, sel, err, sizeof err)) return error("%s%s", err, "");
    } else {
        memset(sel, 1, (size_t)count);
    }
    int nsel = 0;
    for (int r = 0; r < count; r++) nsel += sel[r];

    if (query && !strcmp(query, "runnumbers")) {
        if (!silent)
            printf("aloha: an ALOHA channel simulation for simswarm (OMNeT++ command-line compatible)\n"
                   "\nSetting up Cmdenv...\n\nConfig: %s\nNumber of runs: %d\nRun numbers:", config, nsel);
        int first = 1;
        for (int r = 0; r < count; r++)
            if (sel[r]) { printf(first && silent ? "%d" : " %d", r); first = 0; }
        printf("\n");
    } else if (query && !strcmp(query, "runs")) {
        ini_run_t run;
        for (int r = 0; r < count; r++) {
            if (!sel[r]) continue;
            if (ini_run(ini, config, r, &run, err, sizeof err)) return error("%s%s", err, "");
            printf("Run %d: ", r);
            for (int i = 0; i < run.nvars; i++) printf("$%s=%s, ", run.names[i], run.values[i]);
            printf("$repetition=%d\n", run.repetition);
        }
    } else if (query && (!strcmp(query, "runconfig") || !strcmp(query, "rundetails"))) {
        /* As opp_run: each run's line, then the settings it sees with
         * ${...} substituted, a blank line between runs. rundetails lists
         * the same settings: a superset of opp_run's (only those holding an
         * iteration variable), which names each run just as well. */
        ini_run_t run;
        int first = 1;
        for (int r = 0; r < count; r++) {
            if (!sel[r]) continue;
            if (ini_run(ini, config, r, &run, err, sizeof err)) return error("%s%s", err, "");
            printf(first ? "Run %d: " : "\nRun %d: ", r);
            first = 0;
            for (int i = 0; i < run.nvars; i++) printf("$%s=%s, ", run.names[i], run.values[i]);
            printf("$repetition=%d\n", run.repetition);
            for (int i = 0; i < NCONFIG; i++) {
                const char *v = ini_lookup(ini, config, &run, config_names[i]);
                if (v) printf("\t%s = %s\n", config_names[i], v);
            }
        }
    } else if (query) {
        return error("unknown query \"%s\": use runnumbers, runs, runconfig or rundetails%s", query, "");
    } else {
        ctx_t c = {config, inifile, result_dir, ini, silent, redirect};
        for (int r = 0; r < count; r++)
            if (sel[r] && simulate(&c, r)) return 1;
    }
    free(sel);
    ini_free(ini);
    return 0;
}
