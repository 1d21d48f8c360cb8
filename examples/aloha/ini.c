/* ini.c - see ini.h. Mirrors api/sweep in Go; tests compare the two. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ini.h"

#define MAX_RUNS 1000000
/* Longest extends chain followed (sections from the config up to General). */
#define MAX_CHAIN 512

typedef struct {
    char *name;
    int ref;      /* ${name}: a reference, not a definition */
    int nvals;
    char **vals;
} var_t;

typedef struct {
    char *key, *value;
    int line;
    int nvars;
    var_t *vars;
} entry_t;

typedef struct {
    char *name;
    char *extends;
    int line, extends_line;
    entry_t *entries;
    int n, cap;
} section_t;

struct ini {
    char *path;
    section_t *secs;
    int n, cap;
    char buf[8192];
};

static void fail(char *err, int len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, (size_t)len, fmt, ap);
    va_end(ap);
}

static char *xstrndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) { fputs("<!> Error: out of memory\n", stderr); exit(1); }
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

/* strip_comment cuts s at a '#' outside double quotes. */
static void strip_comment(char *s) {
    int q = 0;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && q && p[1]) p++;
        else if (*p == '"') q = !q;
        else if (*p == '#' && !q) { *p = 0; return; }
    }
}

static int valid_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-') return 0;
    return 1;
}

static int valid_var(const char *s) {
    if (!isalpha((unsigned char)*s) && *s != '_') return 0;
    for (s++; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_') return 0;
    return 1;
}

static section_t *find_section(ini_t *ini, const char *name) {
    for (int i = 0; i < ini->n; i++)
        if (!strcmp(ini->secs[i].name, name)) return &ini->secs[i];
    return NULL;
}

static int parse_number(const char *s, double *out) {
    char tmp[128];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, s, n + 1);
    char *t = trim(tmp), *end;
    if (!*t) return -1;
    errno = 0;
    *out = strtod(t, &end);
    if (*end || errno || isinf(*out) || isnan(*out)) return -1;
    return 0;
}

static void push_val(var_t *v, const char *s) {
    v->vals = realloc(v->vals, sizeof(char *) * (size_t)(v->nvals + 1));
    v->vals[v->nvals++] = xstrndup(s, strlen(s));
}

/* parse_range fills v from "A..B" or "A..B step S". */
static int parse_range(const char *def, var_t *v, char *err, int len) {
    const char *dots = strstr(def, "..");
    char *a = xstrndup(def, (size_t)(dots - def));
    const char *rest = dots + 2;
    const char *st = strstr(rest, "step");
    char *b = st ? xstrndup(rest, (size_t)(st - rest)) : xstrndup(rest, strlen(rest));
    double from, to, step = 1;
    int rc = 0;
    if (parse_number(a, &from)) { fail(err, len, "range start \"%s\" is not a number", a); rc = -1; }
    else if (parse_number(b, &to)) { fail(err, len, "range end \"%s\" is not a number", b); rc = -1; }
    else if (st && parse_number(st + 4, &step)) { fail(err, len, "range step is not a number"); rc = -1; }
    else if (step <= 0) { fail(err, len, "step %g must be positive", step); rc = -1; }
    else if (from > to) { fail(err, len, "range %g..%g is empty (start is greater than end)", from, to); rc = -1; }
    else {
        double steps = floor((to - from) / step + 1e-9);
        if (steps + 1 > MAX_RUNS) { fail(err, len, "range has too many values"); rc = -1; }
        else {
            char num[64];
            for (int i = 0; i <= (int)steps; i++) {
                snprintf(num, sizeof num, "%g", from + (double)i * step);
                push_val(v, num);
            }
        }
    }
    free(a);
    free(b);
    return rc;
}

/* parse_list fills v from "a, b, c" (commas inside quotes do not split). */
static int parse_list(const char *def, var_t *v, char *err, int len) {
    int q = 0, item = 1;
    const char *start = def;
    for (const char *p = def;; p++) {
        if (*p == '\\' && q && p[1]) { p++; continue; }
        if (*p == '"') q = !q;
        if ((*p == ',' && !q) || !*p) {
            char *it = xstrndup(start, (size_t)(p - start));
            char *t = trim(it);
            if (!*t) { fail(err, len, "empty value in the list (item %d)", item); free(it); return -1; }
            if (!strchr(t, '"') && strstr(t, "..")) {
                fail(err, len, "ranges inside lists are not supported (\"%s\")", t);
                free(it);
                return -1;
            }
            push_val(v, t);
            free(it);
            item++;
            if (!*p) return 0;
            start = p + 1;
        }
    }
}

/* parse_vars finds the ${...} of value. */
static int parse_vars(const char *value, entry_t *e, char *err, int len) {
    const char *p = value;
    while ((p = strstr(p, "${")) != NULL) {
        p += 2;
        const char *end = NULL;
        int q = 0;
        for (const char *c = p; *c; c++) {
            if (*c == '\\' && q && c[1]) { c++; continue; }
            if (*c == '"') { q = !q; continue; }
            if (q) continue;
            if (*c == '$' && c[1] == '{') { fail(err, len, "nested ${...} is not supported"); return -1; }
            if (*c == '}') { end = c; break; }
        }
        if (!end) { fail(err, len, "${%.40s lacks its closing '}'", p); return -1; }
        char *body = xstrndup(p, (size_t)(end - p));
        var_t v = {0};
        char *eq = strchr(body, '=');
        int rc = 0;
        if (!eq) {
            char *name = trim(body);
            if (!valid_var(name)) { fail(err, len, "${%s}: iteration variable needs a name, as in ${x=%s}", body, name); rc = -1; }
            else { v.name = xstrndup(name, strlen(name)); v.ref = 1; }
        } else {
            *eq = 0;
            char *name = trim(body), *def = eq + 1;
            if (!*name) { fail(err, len, "iteration variable needs a name"); rc = -1; }
            else if (!valid_var(name)) { fail(err, len, "\"%s\" is not a variable name", name); rc = -1; }
            else if (!strcmp(name, "repetition")) { fail(err, len, "$repetition is set by repeat = N, not defined"); rc = -1; }
            else {
                v.name = xstrndup(name, strlen(name));
                if (strchr(def, ',')) rc = parse_list(def, &v, err, len);
                else if (strstr(def, "..")) rc = parse_range(def, &v, err, len);
                else {
                    char *t = trim(def);
                    if (!*t) { fail(err, len, "no values"); rc = -1; }
                    else push_val(&v, t);
                }
            }
        }
        free(body);
        if (rc) return rc;
        e->vars = realloc(e->vars, sizeof(var_t) * (size_t)(e->nvars + 1));
        e->vars[e->nvars++] = v;
        p = end + 1;
    }
    return 0;
}

static int parse_repeat(const char *s) {
    char *end;
    long n = strtol(s, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (end == s || *end || n < 1 || n > MAX_RUNS) return -1;
    return (int)n;
}

ini_t *ini_load(const char *path, char *err, int len) {
    FILE *f = fopen(path, "r");
    if (!f) { fail(err, len, "cannot open ini file %s: %s", path, strerror(errno)); return NULL; }
    ini_t *ini = calloc(1, sizeof *ini);
    ini->path = xstrndup(path, strlen(path));
    section_t *cur = NULL;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    char msg[512];
#define BAD(...) do { snprintf(msg, sizeof msg, __VA_ARGS__); fail(err, len, "%s:%d: %s", path, lineno, msg); goto fail; } while (0)
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        strip_comment(line);
        char *t = trim(line);
        if (!*t) continue;
        if (*t == '[') {
            size_t n = strlen(t);
            if (t[n - 1] != ']') BAD("section header \"%s\" lacks its closing ']'", t);
            t[n - 1] = 0;
            char *inner = trim(t + 1), *name;
            if (!strcmp(inner, "General")) name = "General";
            else if (!strncmp(inner, "Config", 6) && isspace((unsigned char)inner[6])) {
                name = trim(inner + 6);
                if (!strcmp(name, "General") || !valid_name(name)) BAD("section header: want [General] or [Config NAME]");
            } else BAD("section header: want [General] or [Config NAME]");
            if (find_section(ini, name)) BAD("section [%s] appears twice", name);
            if (ini->n == ini->cap) {
                ini->cap = ini->cap ? 2 * ini->cap : 8;
                ini->secs = realloc(ini->secs, sizeof(section_t) * (size_t)ini->cap);
            }
            cur = &ini->secs[ini->n++];
            memset(cur, 0, sizeof *cur);
            cur->name = xstrndup(name, strlen(name));
            cur->line = lineno;
            continue;
        }
        if (!strncmp(t, "include", 7) && (t[7] == ' ' || t[7] == '\t')) BAD("include is not supported");
        char *eq = strchr(t, '=');
        if (!eq) BAD("expected \"key = value\", \"[General]\" or \"[Config NAME]\"");
        *eq = 0;
        char *key = trim(t), *value = trim(eq + 1);
        if (!*key) BAD("missing key before '='");
        if (strpbrk(key, " \t\"$")) BAD("\"%s\" is not a valid key", key);
        if (!cur) BAD("\"%s\" is outside a section: start the file with [General]", key);
        for (int i = 0; i < cur->n; i++)
            if (!strcmp(cur->entries[i].key, key)) BAD("%s is set twice", key);
        entry_t e = {0};
        e.key = xstrndup(key, strlen(key));
        e.value = xstrndup(value, strlen(value));
        e.line = lineno;
        if (!strcmp(key, "extends")) {
            if (!strcmp(cur->name, "General")) BAD("[General] cannot extend another config");
            if (strchr(value, ',')) BAD("extends = %s: only a single parent config is supported", value);
            if (!valid_name(value)) BAD("extends = \"%s\": not a config name", value);
            if (!strcmp(value, cur->name)) BAD("config %s extends itself", cur->name);
            cur->extends = e.value;
            cur->extends_line = lineno;
        } else if (!strcmp(key, "repeat")) {
            if (parse_repeat(value) < 0) BAD("repeat = %s: want a whole number >= 1", value);
        } else if (parse_vars(value, &e, msg, sizeof msg)) {
            char m2[600];
            snprintf(m2, sizeof m2, "%s: %s", key, msg);
            fail(err, len, "%s:%d: %s", path, lineno, m2);
            goto fail;
        }
        if (cur->n == cur->cap) {
            cur->cap = cur->cap ? 2 * cur->cap : 8;
            cur->entries = realloc(cur->entries, sizeof(entry_t) * (size_t)cur->cap);
        }
        cur->entries[cur->n++] = e;
    }
#undef BAD
    free(line);
    fclose(f);
    for (int i = 0; i < ini->n; i++) {
        section_t *s = &ini->secs[i];
        if (s->extends && strcmp(s->extends, "General") && !find_section(ini, s->extends)) {
            fail(err, len, "%s:%d: config %s extends %s, which is not defined", path, s->extends_line, s->name, s->extends);
            ini_free(ini);
            return NULL;
        }
        int hops = 0;
        for (section_t *c = s; c && c->extends && strcmp(c->extends, "General"); c = find_section(ini, c->extends))
            if (++hops > ini->n) {
                fail(err, len, "%s:%d: config %s: extends chain is a cycle", path, s->extends_line, s->name);
                ini_free(ini);
                return NULL;
            }
    }
    return ini;
fail:
    free(line);
    fclose(f);
    ini_free(ini);
    return NULL;
}

void ini_free(ini_t *ini) {
    if (!ini) return;
    for (int i = 0; i < ini->n; i++) {
        section_t *s = &ini->secs[i];
        for (int j = 0; j < s->n; j++) {
            entry_t *e = &s->entries[j];
            for (int k = 0; k < e->nvars; k++) {
                for (int m = 0; m < e->vars[k].nvals; m++) free(e->vars[k].vals[m]);
                free(e->vars[k].vals);
                free(e->vars[k].name);
            }
            free(e->vars);
            free(e->key);
            free(e->value);
        }
        free(s->entries);
        free(s->name);
    }
    free(ini->secs);
    free(ini->path);
    free(ini);
}

/* chain lists config's sections, child first, General last. */
static int chain(ini_t *ini, const char *config, section_t **out, char *err, int len) {
    section_t *s = find_section(ini, config);
    if (!s) {
        if (!strcmp(config, "General")) return 0;
        fail(err, len, "%s: no config \"%s\"", ini->path, config);
        return -1;
    }
    int n = 0;
    while (s && n < MAX_CHAIN) {
        out[n++] = s;
        if (!strcmp(s->name, "General")) break;
        s = (s->extends && strcmp(s->extends, "General")) ? find_section(ini, s->extends) : find_section(ini, "General");
    }
    return n;
}

/* owned reports whether e is the entry of its key the config sees: the
 * first section of the chain that sets the key. */
static int owned(section_t **ch, int nch, int si, const entry_t *e) {
    for (int i = 0; i < si; i++)
        for (int j = 0; j < ch[i]->n; j++)
            if (!strcmp(ch[i]->entries[j].key, e->key)) return 0;
    (void)nch;
    return 1;
}

typedef struct {
    int nvars;
    var_t *vars[INI_MAX_VARS];
    int repeat;
    long count;
} plan_t;

static int make_plan(ini_t *ini, const char *config, plan_t *p, char *err, int len) {
    section_t *ch[MAX_CHAIN];
    int nch = chain(ini, config, ch, err, len);
    if (nch < 0) return -1;
    memset(p, 0, sizeof *p);
    p->repeat = 1;
    for (int si = 0; si < nch; si++)
        for (int j = 0; j < ch[si]->n; j++) {
            entry_t *e = &ch[si]->entries[j];
            /* Every ${...} of the chain is a variable, even of an overridden
             * key (OMNeT++'s collectIterationVariables); the values a run
             * uses are the owned entries'. */
            if (!strcmp(e->key, "repeat") && owned(ch, nch, si, e)) p->repeat = parse_repeat(e->value);
            for (int k = 0; k < e->nvars; k++) {
                var_t *v = &e->vars[k];
                if (v->ref) continue;
                for (int m = 0; m < p->nvars; m++)
                    if (!strcmp(p->vars[m]->name, v->name)) {
                        fail(err, len, "%s:%d: config %s: iteration variable $%s is defined twice", ini->path, e->line, config, v->name);
                        return -1;
                    }
                if (p->nvars == INI_MAX_VARS) {
                    fail(err, len, "%s:%d: too many iteration variables", ini->path, e->line);
                    return -1;
                }
                p->vars[p->nvars++] = v;
            }
        }
    for (int si = 0; si < nch; si++)
        for (int j = 0; j < ch[si]->n; j++) {
            entry_t *e = &ch[si]->entries[j];
            for (int k = 0; k < e->nvars; k++) {
                if (!e->vars[k].ref || !strcmp(e->vars[k].name, "repetition")) continue;
                int found = 0;
                for (int m = 0; m < p->nvars; m++) found |= !strcmp(p->vars[m]->name, e->vars[k].name);
                if (!found) {
                    fail(err, len, "%s:%d: config %s: ${%s} refers to an iteration variable that this config does not define", ini->path, e->line, config, e->vars[k].name);
                    return -1;
                }
            }
        }
    double total = p->repeat;
    for (int m = 0; m < p->nvars; m++) total *= p->vars[m]->nvals;
    if (total > MAX_RUNS) {
        fail(err, len, "%s: config %s: the sweep has %.0f runs, more than the limit of %d", ini->path, config, total, MAX_RUNS);
        return -1;
    }
    p->count = (long)total;
    return 0;
}

int ini_count(ini_t *ini, const char *config, char *err, int len) {
    plan_t p;
    if (make_plan(ini, config, &p, err, len)) return -1;
    return (int)p.count;
}

int ini_run(ini_t *ini, const char *config, int n, ini_run_t *out, char *err, int len) {
    plan_t p;
    if (make_plan(ini, config, &p, err, len)) return -1;
    if (n < 0 || n >= p.count) {
        fail(err, len, "run number %d is out of range: config %s has %ld runs (0..%ld)", n, config, p.count, p.count - 1);
        return -1;
    }
    long rest = n;
    out->number = n;
    out->repetition = (int)(rest % p.repeat);
    rest /= p.repeat;
    out->nvars = p.nvars;
    for (int i = p.nvars - 1; i >= 0; i--) {
        int k = p.vars[i]->nvals;
        out->names[i] = p.vars[i]->name;
        out->values[i] = p.vars[i]->vals[rest % k];
        rest /= k;
    }
    return 0;
}

static int key_matches(const char *key, const char *name) {
    size_t kl = strlen(key), nl = strlen(name);
    if (!strcmp(key, name)) return 1;
    return kl > nl && key[kl - nl - 1] == '.' && !strcmp(key + kl - nl, name);
}

const char *ini_lookup(ini_t *ini, const char *config, const ini_run_t *run, const char *name) {
    section_t *ch[MAX_CHAIN];
    char err[256];
    int nch = chain(ini, config, ch, err, sizeof err);
    for (int si = 0; si < nch; si++)
        for (int j = 0; j < ch[si]->n; j++) {
            entry_t *e = &ch[si]->entries[j];
            if (!key_matches(e->key, name) || !owned(ch, nch, si, e)) continue;
            /* Substitute every ${...} with the run's value. */
            char *o = ini->buf, *end = ini->buf + sizeof ini->buf - 1;
            for (const char *p = e->value; *p && o < end;) {
                if (p[0] == '$' && p[1] == '{') {
                    const char *close = strchr(p, '}');
                    if (!close) break;
                    char vname[128] = "";
                    size_t n = strcspn(p + 2, "=}");
                    if (n >= sizeof vname) n = sizeof vname - 1;
                    memcpy(vname, p + 2, n);
                    vname[n] = 0;
                    char *vn = trim(vname), rep[32];
                    const char *val = "";
                    if (!strcmp(vn, "repetition")) { snprintf(rep, sizeof rep, "%d", run->repetition); val = rep; }
                    for (int k = 0; k < run->nvars; k++)
                        if (!strcmp(run->names[k], vn)) val = run->values[k];
                    while (*val && o < end) *o++ = *val++;
                    p = close + 1;
                } else {
                    *o++ = *p++;
                }
            }
            *o = 0;
            return ini->buf;
        }
    return NULL;
}

static void sanitize(const char *s, char *out, size_t len) {
    size_t i = 0;
    for (; *s && i + 1 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x80 && c < 0xC0) continue; /* UTF-8 continuation: one '_' per character, as in Go */
        out[i++] = (c < 0x80 && (isalnum(c) || strchr("_.=,+-", c))) ? (char)c : '_';
    }
    out[i] = 0;
}

void ini_result_base(const char *config, const ini_run_t *run, char *buf, int len) {
    int o = snprintf(buf, (size_t)len, "%s-", config);
    for (int i = 0; i < run->nvars && o < len; i++) {
        char v[256];
        sanitize(run->values[i], v, sizeof v);
        o += snprintf(buf + o, (size_t)(len - o), "%s%s=%s", i ? "," : "", run->names[i], v);
    }
    if (run->nvars && o < len) o += snprintf(buf + o, (size_t)(len - o), "-");
    if (o < len) snprintf(buf + o, (size_t)(len - o), "#%d", run->number);
}
