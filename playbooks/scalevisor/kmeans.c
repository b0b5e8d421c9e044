/*
 * kmeans: Lloyd's algorithm over a synthetic, deterministic data set, as the Scalevisor experiment's workload.
 * Its working set is the points array (points * dims * 4 bytes) streamed once per iteration, so when only part of
 * it fits in local memory every iteration swaps — runtime vs local-memory ratio is the experiment's curve.
 *
 *   kmeans <points> <dims> <k> <iterations> [seed]
 *
 * Prints one JSON line: sizes, wall-clock seconds of the iterations, final inertia and a checksum of the centers
 * (identical for identical arguments, so runs at different memory ratios can be checked for the same answer).
 * Built static by the playbook: cc -O2 -static -o kmeans kmeans.c -lm
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state;

static uint64_t next_u64(void) {
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static float next_unit(void) { return (float)((next_u64() >> 11) * (1.0 / 9007199254740992.0)); }

static long parse_arg(const char *s, const char *name, long min, long max) {
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end != 0 || v < min || v > max) {
		fprintf(stderr, "kmeans: %s: expected an integer between %ld and %ld, got \"%s\"\n", name, min, max, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv) {
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: kmeans <points> <dims> <k> <iterations> [seed]\n");
		return 2;
	}
	long n = parse_arg(argv[1], "points", 1, 1L << 34);
	long d = parse_arg(argv[2], "dims", 1, 4096);
	long k = parse_arg(argv[3], "k", 1, 4096);
	long iters = parse_arg(argv[4], "iterations", 1, 1000000);
	rng_state = argc == 6 ? (uint64_t)parse_arg(argv[5], "seed", 1, 1L << 62) : 88172645463325252ULL;
	if (k > n) {
		fprintf(stderr, "kmeans: k: expected at most points (%ld), got %ld\n", n, k);
		return 2;
	}

	float *points = malloc((size_t)n * d * sizeof(float));
	float *truth = malloc((size_t)k * d * sizeof(float));
	float *centers = malloc((size_t)k * d * sizeof(float));
	double *sums = malloc((size_t)k * d * sizeof(double));
	long *counts = malloc((size_t)k * sizeof(long));
	if (!points || !truth || !centers || !sums || !counts) {
		fprintf(stderr, "kmeans: out of memory for %ld points of %ld dims\n", n, d);
		return 1;
	}
	for (long c = 0; c < k * d; c++) truth[c] = next_unit() * 100.0f;
	for (long i = 0; i < n; i++) {
		long c = (long)(next_u64() % (uint64_t)k);
		for (long j = 0; j < d; j++) points[i * d + j] = truth[c * d + j] + (next_unit() - 0.5f) * 10.0f;
	}
	memcpy(centers, points, (size_t)k * d * sizeof(float)); /* first k points as initial centers */

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double inertia = 0;
	for (long it = 0; it < iters; it++) {
		memset(sums, 0, (size_t)k * d * sizeof(double));
		memset(counts, 0, (size_t)k * sizeof(long));
		inertia = 0;
		for (long i = 0; i < n; i++) {
			const float *p = points + i * d;
			long best = 0;
			float bestd = INFINITY;
			for (long c = 0; c < k; c++) {
				float dist = 0;
				for (long j = 0; j < d; j++) {
					float t = p[j] - centers[c * d + j];
					dist += t * t;
				}
				if (dist < bestd) {
					bestd = dist;
					best = c;
				}
			}
			inertia += bestd;
			counts[best]++;
			for (long j = 0; j < d; j++) sums[best * d + j] += p[j];
		}
		for (long c = 0; c < k; c++)
			if (counts[c])
				for (long j = 0; j < d; j++) centers[c * d + j] = (float)(sums[c * d + j] / counts[c]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	uint64_t checksum = 1469598103934665603ULL;
	for (long c = 0; c < k * d; c++) {
		uint32_t bits;
		float v = roundf(centers[c] * 1000.0f) / 1000.0f;
		memcpy(&bits, &v, sizeof bits);
		checksum = (checksum ^ bits) * 1099511628211ULL;
	}
	printf("{\"points\":%ld,\"dims\":%ld,\"k\":%ld,\"iterations\":%ld,\"working_set_bytes\":%ld,"
	       "\"seconds\":%.6f,\"inertia\":%.3f,\"checksum\":\"%016llx\"}\n",
	       n, d, k, iters, n * d * (long)sizeof(float), secs, inertia, (unsigned long long)checksum);
	free(points);
	free(truth);
	free(centers);
	free(sums);
	free(counts);
	return 0;
}
