/* The container side of bench/logs: writes LINES numbered lines of
 * LINE_BYTES bytes (newline included) to stdout, or to OUT_FILE, one
 * write(2) per line as a logger that flushes every record does, as fast as
 * it can (RATE 0) or paced at RATE lines/s. Then it writes what it measured
 * of itself to RESULT_FILE (a bind-mounted host directory, so the figure
 * never depends on the log path being measured):
 *   {"lines":N,"start_ns":..,"end_ns":..,"wall_ns":..,"cpu_us":..,"late_ns":..}
 * start/end are CLOCK_REALTIME (the host's clock too), wall is CLOCK_MONOTONIC,
 * cpu is its own user+system time, late is how far behind its pace the last
 * line went (0 when it kept up or was not paced).
 * Line i reads "L%09d " then 'x' up to LINE_BYTES-1, then '\n'.
 * Built static by run.sh (gcc -static), so it runs in the busybox image.
 * usage: logwriter LINES LINE_BYTES RATE RESULT_FILE [OUT_FILE] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static long long ns_of(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: logwriter LINES LINE_BYTES RATE RESULT_FILE [OUT_FILE]\n");
    return 2;
  }
  long long lines = atoll(argv[1]);
  int size = atoi(argv[2]);
  long long rate = atoll(argv[3]);
  const char* result = argv[4];
  if (lines <= 0 || size < 16 || size > 4096 || rate < 0) {
    fprintf(stderr, "logwriter: bad arguments\n");
    return 2;
  }
  int fd = 1;
  if (argc > 5 && (fd = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
    perror(argv[5]);
    return 1;
  }
  char line[4096];
  memset(line, 'x', (size_t)size);
  line[size - 1] = '\n';

  long long start_real = ns_of(CLOCK_REALTIME);
  long long start = ns_of(CLOCK_MONOTONIC);
  long long late = 0;
  for (long long i = 0; i < lines; ++i) {
    if (rate > 0 && i % 100 == 0) {
      /* Paced in steps of 100 lines: line i is due at start + i/rate. */
      long long due = start + i * 1000000000LL / rate;
      long long now = ns_of(CLOCK_MONOTONIC);
      if (now < due) {
        struct timespec ts = {(time_t)((due - now) / 1000000000LL), (long)((due - now) % 1000000000LL)};
        nanosleep(&ts, NULL);
      }
    }
    char head[16];
    snprintf(head, sizeof head, "L%09lld ", i);
    memcpy(line, head, 11);
    if (write_all(fd, line, (size_t)size) != 0) {
      perror("logwriter: write");
      return 1;
    }
  }
  long long end = ns_of(CLOCK_MONOTONIC);
  long long end_real = ns_of(CLOCK_REALTIME);
  if (rate > 0) {
    long long due = start + (lines - 1) * 1000000000LL / rate;
    late = end > due ? end - due : 0;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  long long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;

  /* Written under another name and renamed: the reader never sees half. */
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", result);
  FILE* f = fopen(tmp, "w");
  if (!f) {
    perror(tmp);
    return 1;
  }
  fprintf(f, "{\"lines\":%lld,\"line_bytes\":%d,\"rate\":%lld,\"start_ns\":%lld,\"end_ns\":%lld,\"wall_ns\":%lld,"
          "\"cpu_us\":%lld,\"late_ns\":%lld}\n",
          lines, size, rate, start_real, end_real, end - start, cpu_us, late);
  if (fclose(f) != 0 || rename(tmp, result) != 0) {
    perror(result);
    return 1;
  }
  return 0;
}
