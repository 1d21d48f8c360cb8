#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "results.h"

/* mkdirs creates dir and its parents (mkdir -p). */
int result_mkdirs(const char *dir) {
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) return -1;
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0755) && errno != EEXIST) return -1;
        *p = '/';
    }
    return (mkdir(path, 0755) && errno != EEXIST) ? -1 : 0;
}

/* quoted writes s, in double quotes if it holds spaces, like OMNeT++. */
static void quoted(FILE *f, const char *s) {
    if (!strpbrk(s, " \t\"")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void header(FILE *f, const result_set_t *rs) {
    const ini_run_t *run = rs->run;
    /* The variables as "$a=1, $b=2" and as "a=1,b=2-", in memory streams
     * because values can be as long as an ini line. */
    char *vars = NULL, *varsf = NULL;
    size_t nvars = 0, nvarsf = 0;
    FILE *v = open_memstream(&vars, &nvars), *vf = open_memstream(&varsf, &nvarsf);
    if (!v || !vf) { fputs("<!> Error: out of memory\n", stderr); exit(1); }
    for (int i = 0; i < run->nvars; i++) {
        fprintf(v, "%s$%s=%s", i ? ", " : "", run->names[i], run->values[i]);
        fprintf(vf, "%s%s=%s", i ? "," : "", run->names[i], run->values[i]);
    }
    if (run->nvars) fputc('-', vf);
    if (fclose(v) | fclose(vf)) { fputs("<!> Error: out of memory\n", stderr); exit(1); }
    fprintf(f, "version 3\n");
    fprintf(f, "run %s-%d-rep%d\n", rs->config, run->number, run->repetition);
    fprintf(f, "attr configname %s\n", rs->config);
    fprintf(f, "attr experiment %s\n", rs->config);
    fprintf(f, "attr inifile ");
    quoted(f, rs->inifile);
    fprintf(f, "\nattr iterationvars ");
    quoted(f, vars);
    fprintf(f, "\nattr iterationvarsf ");
    quoted(f, varsf);
    fprintf(f, "\nattr measurement ");
    quoted(f, vars);
    fprintf(f, "\nattr network Aloha\n");
    fprintf(f, "attr repetition %d\n", run->repetition);
    fprintf(f, "attr replication #%d\n", run->repetition);
    fprintf(f, "attr runnumber %d\n", run->number);
    fprintf(f, "attr seedset %llu\n", (unsigned long long)rs->params->seed);
    for (int i = 0; i < run->nvars; i++) {
        fprintf(f, "itervar %s ", run->names[i]);
        quoted(f, run->values[i]);
        fputc('\n', f);
    }
    for (int i = 0; i < rs->nconfig; i++) {
        fprintf(f, "config %s ", rs->config_keys[i]);
        quoted(f, rs->config_values[i]);
        fputc('\n', f);
    }
    fputc('\n', f);
    free(vars);
    free(varsf);
}

static int finish_file(FILE *f, const char *tmp, const char *path, char *err, int len) {
    if (ferror(f) | fclose(f)) {
        snprintf(err, (size_t)len, "write %s: %s", tmp, strerror(errno));
        remove(tmp);
        return -1;
    }
    if (rename(tmp, path)) {
        snprintf(err, (size_t)len, "rename %s: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

int write_results(const char *dir, const result_set_t *rs, char *err, int len) {
    if (result_mkdirs(dir)) {
        snprintf(err, (size_t)len, "cannot create result directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char base[2048], path[4096], tmp[4200];
    ini_result_base(rs->config, rs->run, base, sizeof base);
    const sim_params_t *p = rs->params;
    const sim_result_t *r = rs->result;

    snprintf(path, sizeof path, "%s/%s.sca", dir, base);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) { snprintf(err, (size_t)len, "cannot write %s: %s", tmp, strerror(errno)); return -1; }
    header(f, rs);
    fprintf(f, "par Aloha typename \"\\\"Aloha\\\"\"\n");
    fprintf(f, "par Aloha numHosts %d\n", p->num_hosts);
    fprintf(f, "par Aloha slotted %s\n", p->slotted ? "true" : "false");
    fprintf(f, "par Aloha.host[*] iaMean %.17g\n", p->ia_mean);
    fprintf(f, "par Aloha.host[*] txDuration %.17g\n", p->tx_duration);
    fprintf(f, "scalar Aloha.channel throughput %.17g\n", r->throughput);
    fprintf(f, "scalar Aloha.channel offeredLoad %.17g\n", r->offered_load);
    fprintf(f, "scalar Aloha.channel theoreticalThroughput %.17g\n", r->theory);
    fprintf(f, "scalar Aloha.channel framesSent %ld\n", r->frames_sent);
    fprintf(f, "scalar Aloha.channel framesReceived %ld\n", r->frames_received);
    fprintf(f, "scalar Aloha.channel collisions %ld\n", r->collisions);
    fprintf(f, "scalar Aloha.channel simulatedTime %.17g\n", p->sim_time);
    if (finish_file(f, tmp, path, err, len)) return -1;

    snprintf(path, sizeof path, "%s/%s.vec", dir, base);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) { snprintf(err, (size_t)len, "cannot write %s: %s", tmp, strerror(errno)); return -1; }
    header(f, rs);
    fprintf(f, "vector 0 Aloha.channel throughput ETV\n");
    fprintf(f, "attr interpolationmode sample-hold\n");
    for (int w = 0; w < SIM_SAMPLES; w++)
        fprintf(f, "0\t%d\t%.17g\t%.17g\n", w, r->window_time[w], r->window_throughput[w]);
    return finish_file(f, tmp, path, err, len);
}
