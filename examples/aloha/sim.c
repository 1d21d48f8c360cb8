/* sim.c - see sim.h. Events are frame generations, kept per host in a
 * binary heap keyed by time; frames are judged in order of their start. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "rng.h"
#include "sim.h"

typedef struct { double t; int host; } event_t;

static void heap_push(event_t *h, int *n, event_t e) {
    int i = (*n)++;
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (h[parent].t <= e.t) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

static event_t heap_pop(event_t *h, int *n) {
    event_t top = h[0], last = h[--(*n)];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1].t < h[c].t) c++;
        if (last.t <= h[c].t) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = last;
    return top;
}

/* channel judges frames in start order. With equal frame durations a frame
 * overlaps an earlier one only if it overlaps the one just before it (in
 * slotted mode: shares its slot), so one pending frame is all the state. */
typedef struct {
    int have_prev, prev_collided;
    double prev_start, prev_end;
    long prev_slot;
} channel_t;

static void finish(sim_result_t *r, const sim_params_t *p, double start, int collided) {
    if (collided) {
        r->collisions++;
        return;
    }
    r->frames_received++;
    int w = (int)(start / p->sim_time * SIM_SAMPLES);
    if (w >= 0 && w < SIM_SAMPLES) r->window_throughput[w] += p->tx_duration;
}

void sim_run(const sim_params_t *p, sim_result_t *r) {
    memset(r, 0, sizeof *r);
    rng_t rng;
    rng_seed(&rng, p->seed);
    event_t *heap = malloc(sizeof(event_t) * (size_t)p->num_hosts);
    int n = 0;
    for (int h = 0; h < p->num_hosts; h++) heap_push(heap, &n, (event_t){rng_exponential(&rng, p->ia_mean), h});

    channel_t ch = {0};
    const double T = p->tx_duration;
    while (n > 0) {
        event_t e = heap_pop(heap, &n);
        if (e.t >= p->sim_time) continue; /* this host is done */
        r->events++;
        double start = e.t;
        long slot = 0;
        if (p->slotted) {
            slot = (long)ceil(e.t / T);
            start = (double)slot * T;
        }
        if (start < p->sim_time) {
            r->frames_sent++;
            int collided = 0;
            if (ch.have_prev) {
                int overlap = p->slotted ? (slot == ch.prev_slot) : (start < ch.prev_end);
                if (overlap) ch.prev_collided = collided = 1;
                /* Later frames start no earlier than this one, so the
                 * previous frame's fate is final now. */
                finish(r, p, ch.prev_start, ch.prev_collided);
            }
            ch.have_prev = 1;
            ch.prev_collided = collided;
            ch.prev_start = start;
            ch.prev_end = start + T;
            ch.prev_slot = slot;
        }
        heap_push(heap, &n, (event_t){e.t + rng_exponential(&rng, p->ia_mean), e.host});
    }
    if (ch.have_prev) finish(r, p, ch.prev_start, ch.prev_collided);
    free(heap);

    r->throughput = (double)r->frames_received * T / p->sim_time;
    r->offered_load = (double)r->frames_sent * T / p->sim_time;
    double G = p->num_hosts * T / p->ia_mean;
    r->theory = p->slotted ? G * exp(-G) : G * exp(-2 * G);
    double window = p->sim_time / SIM_SAMPLES;
    for (int w = 0; w < SIM_SAMPLES; w++) {
        r->window_time[w] = (w + 1) * window;
        r->window_throughput[w] /= window;
    }
}
