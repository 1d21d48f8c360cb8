/* ini.h - the OMNeT++ ini dialect simswarm shares with its Go package
 * api/sweep: [General] and [Config NAME] sections, single-parent "extends",
 * iteration variables ${name=a,b,c} and ${name=A..B step S}, references
 * ${name}, "repeat = N". Run n of a config: variables ordered by first
 * appearance walking the config's own section, then its parents, then
 * General; the first is the outermost loop, the repetition the innermost. */
#ifndef ALOHA_INI_H
#define ALOHA_INI_H

#define INI_MAX_VARS 256

typedef struct ini ini_t;

typedef struct {
    int nvars;
    const char *names[INI_MAX_VARS];
    const char *values[INI_MAX_VARS]; /* the run's value of each variable */
    int repetition;
    int number;
} ini_run_t;

/* ini_load parses path; on error returns NULL and writes a message. */
ini_t *ini_load(const char *path, char *err, int errlen);
void ini_free(ini_t *ini);

/* ini_count returns the number of runs of config, or -1 with a message. */
int ini_count(ini_t *ini, const char *config, char *err, int errlen);
/* ini_run fills out for run n of config (0 <= n < ini_count). */
int ini_run(ini_t *ini, const char *config, int n, ini_run_t *out, char *err, int errlen);
/* ini_lookup returns the value of the parameter whose key is name or ends
 * in "." name, as the config sees it, with ${...} replaced by the run's
 * values; NULL when unset. The result is valid until the next call. */
const char *ini_lookup(ini_t *ini, const char *config, const ini_run_t *run, const char *name);
/* ini_result_base writes "<Config>-<n1>=<v1>,<n2>=<v2>-#<run>". */
void ini_result_base(const char *config, const ini_run_t *run, char *buf, int len);
#endif
