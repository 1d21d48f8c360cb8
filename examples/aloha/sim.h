/* sim.h - a discrete-event simulation of an ALOHA channel. N hosts generate
 * frames with exponentially distributed inter-arrival times; every frame is
 * transmitted (pure ALOHA: at once; slotted ALOHA: at the next slot
 * boundary, slot = frame duration) and any overlap destroys all frames
 * involved. With the offered load G = N * txDuration / iaMean the classic
 * results are S = G e^-2G (pure) and S = G e^-G (slotted). */
#ifndef ALOHA_SIM_H
#define ALOHA_SIM_H
#include <stdint.h>

typedef struct {
    int num_hosts;
    double ia_mean;     /* mean inter-arrival time of one host, s */
    double tx_duration; /* frame duration, s */
    int slotted;
    double sim_time;    /* simulated time, s */
    uint64_t seed;
} sim_params_t;

#define SIM_SAMPLES 100

typedef struct {
    long frames_sent, frames_received, collisions;
    double throughput;     /* S: successful transmission time / sim time */
    double offered_load;   /* G as observed: transmitted frame time / sim time */
    double theory;         /* the classic S for the configured G */
    /* throughput in SIM_SAMPLES equal windows of simulated time */
    double window_time[SIM_SAMPLES], window_throughput[SIM_SAMPLES];
    long events;
} sim_result_t;

void sim_run(const sim_params_t *p, sim_result_t *r);
#endif
