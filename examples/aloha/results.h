/* results.h - OMNeT++'s text result format (.sca scalars, .vec vectors),
 * written to a temporary name and renamed, so that a result file under its
 * final name is always complete. Nothing machine- or time-dependent goes in:
 * the same run writes the same bytes anywhere. */
#ifndef ALOHA_RESULTS_H
#define ALOHA_RESULTS_H
#include "ini.h"
#include "sim.h"

typedef struct {
    const char *config, *inifile;
    const ini_run_t *run;
    const sim_params_t *params;
    const sim_result_t *result;
    /* the parameters as the ini gave them (after ${...} substitution) */
    int nconfig;
    const char *config_keys[16], *config_values[16];
} result_set_t;

/* write_results writes <dir>/<base>.sca and .vec; returns 0 or -1 with a
 * message in err. */
int result_mkdirs(const char *dir);
int write_results(const char *dir, const result_set_t *rs, char *err, int errlen);
#endif
