/* rng.h - xoshiro256** seeded through splitmix64: fast, high-quality and
 * identical on every platform, so a run's results depend only on its seed. */
#ifndef ALOHA_RNG_H
#define ALOHA_RNG_H
#include <stdint.h>

typedef struct { uint64_t s[4]; } rng_t;

void rng_seed(rng_t *r, uint64_t seed);
uint64_t rng_next(rng_t *r);
/* Uniform in (0, 1): never 0, so log() is safe. */
double rng_uniform(rng_t *r);
/* Exponentially distributed with the given mean. */
double rng_exponential(rng_t *r, double mean);
#endif
