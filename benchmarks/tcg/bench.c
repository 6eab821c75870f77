// bench.c - page-fault / swap micro-benchmark for TCG guest calibration.
// Build: gcc -O2 -static -o bench bench.c
// Usage:
//   bench full [reps]      steps A-F, reps repetitions (default 3)
//   bench full_evict [reps] as full, plus D2 (wait for writeback) and D3 (memcg memory.reclaim of swap cache) before E
//   bench native [reps]    steps A,B,C,F only (no swap steps; for host-native user cost)
//   bench usemem S_MiB     usemem-like: write all pages, read+verify all pages, munmap
// Output: one JSON object per line, prefixed with "BENCH: ".
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PAGE 4096
#define RND_BYTES 1024

static const char *vm_names[] = {
    "pgfault", "pgmajfault", "pswpin", "pswpout",
    "pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd", "pgscan_direct",
    "allocstall_movable", "workingset_refault_anon", "swap_ra", "swap_ra_hit",
};
#define NVM (sizeof(vm_names) / sizeof(vm_names[0]))

struct snap {
    struct timespec ts;
    struct rusage ru;
    long long vm[NVM];
};

static void read_vmstat(long long *v) {
    for (size_t i = 0; i < NVM; i++) v[i] = -1;
    FILE *f = fopen("/proc/vmstat", "r");
    if (!f) return;
    char name[128];
    long long val;
    while (fscanf(f, "%127s %lld", name, &val) == 2) {
        for (size_t i = 0; i < NVM; i++)
            if (!strcmp(name, vm_names[i])) v[i] = val;
    }
    fclose(f);
}

static void take(struct snap *s) {
    read_vmstat(s->vm);
    getrusage(RUSAGE_SELF, &s->ru);
    clock_gettime(CLOCK_MONOTONIC, &s->ts);
}
static void take_end(struct snap *s) {  // time first, then counters
    clock_gettime(CLOCK_MONOTONIC, &s->ts);
    getrusage(RUSAGE_SELF, &s->ru);
    read_vmstat(s->vm);
}

static double tv_us(struct timeval a, struct timeval b) {
    return (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_usec - a.tv_usec);
}

static const char *g_mode = "";
static const char *g_swap = "";

static void report(const char *step, int rep, long npages, struct snap *a, struct snap *b, long errors) {
    double wall = (b->ts.tv_sec - a->ts.tv_sec) * 1e6 + (b->ts.tv_nsec - a->ts.tv_nsec) / 1e3;
    double usr = tv_us(a->ru.ru_utime, b->ru.ru_utime);
    double sys = tv_us(a->ru.ru_stime, b->ru.ru_stime);
    printf("BENCH: {\"mode\":\"%s\",\"swap\":\"%s\",\"step\":\"%s\",\"rep\":%d,\"pages\":%ld,"
           "\"wall_us\":%.1f,\"user_us\":%.1f,\"sys_us\":%.1f,"
           "\"wall_us_pp\":%.4f,\"user_us_pp\":%.4f,\"sys_us_pp\":%.4f,\"errors\":%ld",
           g_mode, g_swap, step, rep, npages, wall, usr, sys,
           wall / npages, usr / npages, sys / npages, errors);
    for (size_t i = 0; i < NVM; i++)
        printf(",\"%s\":%lld", vm_names[i],
               (a->vm[i] < 0 || b->vm[i] < 0) ? -1LL : b->vm[i] - a->vm[i]);
    printf("}\n");
    fflush(stdout);
}

static inline uint64_t seed_for(long pg) {
    uint64_t s = (uint64_t)(pg + 1) * 0x9E3779B97F4A7C15ULL;
    s ^= s >> 29;
    return s ? s : 0x1234567ULL;
}

static inline void fill_page(uint64_t *p, long pg) {
    uint64_t x = seed_for(pg);
    for (int i = 0; i < RND_BYTES / 8; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        p[i] = x;
    }
    memset((char *)p + RND_BYTES, 0, PAGE - RND_BYTES);
}

static inline long check_page(const uint64_t *p, long pg) {
    uint64_t x = seed_for(pg);
    uint64_t bad = 0;
    for (int i = 0; i < RND_BYTES / 8; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        bad |= p[i] ^ x;
    }
    for (int i = RND_BYTES / 8; i < PAGE / 8; i++) bad |= p[i];
    return bad != 0;
}

static long write_all(char *r, long n) {
    for (long pg = 0; pg < n; pg++) fill_page((uint64_t *)(r + pg * PAGE), pg);
    return 0;
}
static long read_all(char *r, long n) {
    long e = 0;
    for (long pg = 0; pg < n; pg++) e += check_page((const uint64_t *)(r + pg * PAGE), pg);
    return e;
}

static char *map_region(size_t len) {
    char *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r == MAP_FAILED) { perror("mmap"); exit(1); }
    return r;
}

static long meminfo_kb(const char *key) {
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') { v = atol(line + kl + 1); break; }
    fclose(f);
    return v;
}

// evict=1: after D, wait for swap writeback to finish, then force the (clean, unmapped)
// swap-cache pages out with cgroup-v2 memory.reclaim (path in $RECLAIM_PATH), so that
// E measures real major faults even on an asynchronous swap device.
static void run_steps_evict(char *r, long npages, int rep) {
    struct snap a, b;
    take(&a);
    int loops = 0;
    while (meminfo_kb("Writeback") > 0 && loops < 100000) { usleep(1000); loops++; }
    take_end(&b);
    report("D2_wait_writeback", rep, npages, &a, &b, meminfo_kb("SwapCached"));
    const char *rp = getenv("RECLAIM_PATH");
    long fails = 0;
    take(&a);
    if (rp) {
        // several requests; each may stop early
        for (int i = 0; i < 4; i++) {
            FILE *f = fopen(rp, "w");
            if (!f) { fails++; break; }
            fprintf(f, "%ld", (long)npages * PAGE);
            if (fclose(f) != 0) fails++;
            if (meminfo_kb("SwapCached") < 4096) break;
        }
    } else fails = -1;
    take_end(&b);
    report("D3_memcg_reclaim", rep, npages, &a, &b, fails);
    printf("BENCHINFO: rep=%d SwapCached_kB_after_reclaim=%ld\n", rep, meminfo_kb("SwapCached"));
}

static int g_evict = 0;

static void run_steps(int reps, int do_swap) {
    const long npages = 65536;  // 256 MiB
    const size_t len = (size_t)npages * PAGE;
    struct snap a, b;
    for (int rep = 1; rep <= reps; rep++) {
        char *r;
        long e;
        take(&a);
        r = map_region(len);
        e = write_all(r, npages);
        take_end(&b);
        report("A_fault_new", rep, npages, &a, &b, e);

        take(&a); e = write_all(r, npages); take_end(&b);
        report("B_write_resident", rep, npages, &a, &b, e);

        take(&a); e = read_all(r, npages); take_end(&b);
        report("C_read_resident", rep, npages, &a, &b, e);

        if (do_swap) {
            const size_t chunk = 2UL << 20;
            long merr = 0;
            take(&a);
            for (size_t off = 0; off < len; off += chunk)
                if (madvise(r + off, chunk, MADV_PAGEOUT) != 0) merr++;
            take_end(&b);
            report("D_pageout", rep, npages, &a, &b, merr);
            printf("BENCHINFO: rep=%d after_pageout SwapCached_kB=%ld Writeback_kB=%ld\n", rep,
                   meminfo_kb("SwapCached"), meminfo_kb("Writeback"));
            if (g_evict) run_steps_evict(r, npages, rep);

            take(&a); e = read_all(r, npages); take_end(&b);
            report("E_swapin", rep, npages, &a, &b, e);
        }

        take(&a);
        if (munmap(r, len) != 0) perror("munmap");
        take_end(&b);
        report("F_munmap", rep, npages, &a, &b, 0);
    }
}

static void run_usemem(long mib) {
    const long npages = mib * 256;
    const size_t len = (size_t)npages * PAGE;
    struct snap s0, s1, s2, s3;
    take(&s0);
    char *r = map_region(len);
    long e = write_all(r, npages);
    take_end(&s1);
    long e2 = read_all(r, npages);
    take_end(&s2);
    munmap(r, len);
    take_end(&s3);
    report("U_write", 0, npages, &s0, &s1, e);
    report("U_read", 0, npages, &s1, &s2, e2);
    report("U_munmap", 0, npages, &s2, &s3, 0);
    report("U_total", 0, npages, &s0, &s3, e + e2);
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: bench full|native [reps] | usemem MiB\n"); return 2; }
    g_mode = argv[1];
    const char *sw = getenv("SWAPKIND");
    g_swap = sw ? sw : "none";
    if (!strcmp(argv[1], "full_evict")) { g_evict = 1; run_steps(argc > 2 ? atoi(argv[2]) : 3, 1); }
    else if (!strcmp(argv[1], "full")) run_steps(argc > 2 ? atoi(argv[2]) : 3, 1);
    else if (!strcmp(argv[1], "native")) run_steps(argc > 2 ? atoi(argv[2]) : 3, 0);
    else if (!strcmp(argv[1], "usemem") && argc > 2) run_usemem(atol(argv[2]));
    else { fprintf(stderr, "bad args\n"); return 2; }
    return 0;
}
