// The benchmark's clock and workload, built by bench/run.sh (not part of
// the product). A shell adds a millisecond of its own to every launch it
// times; this program forks and execs the commands itself and measures
// only fork + exec + wait.
//
//   timer run RUNS WARMUP SPEC   time each command of SPEC RUNS times,
//                                interleaved (a different order each
//                                round), after WARMUP untimed rounds;
//                                prints one TSV line per command
//   timer inner RUNS WARMUP SPEC the same, but each run's time is the one
//                                the command reports as the last word
//                                before "ms" on its stdout (timer walk
//                                does): the workload without the launch
//   timer walk DIR               the file-heavy workload: walk DIR and
//                                read every regular file in it; prints
//                                the files, bytes and its own time
//   timer exec CMD ARGS...       only execs CMD: built static, the
//                                cheapest possible launcher (the floor)
//
// SPEC: one command per line, `label<TAB>argv0<TAB>argv1...`.
// Output: label, median ms, min ms, p90 ms, median max RSS KiB (the
// largest of the process tree: launcher, its children, the command),
// runs, failures.
#include <fcntl.h>
#include <ftw.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

struct Command {
  std::string label;
  std::vector<std::string> argv;
  std::vector<double> ms;
  std::vector<long> rss_kib;
  int failures = 0;
  int last_status = 0;
};

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// "... 12.345 ms" -> 12.345; negative if the text has no such time.
double reported_ms(const std::string& out) {
  const auto at = out.rfind(" ms");
  if (at == std::string::npos) return -1;
  const auto start = out.rfind(' ', at - 1);
  return std::atof(out.substr(start == std::string::npos ? 0 : start + 1).c_str());
}

// Runs one command with stdin and stderr on /dev/null, stdout on /dev/null
// or, for a self-timed command, on a pipe; returns false on a non-zero exit
// (or a self-timed command that reported no time).
bool run_once(Command& c, bool record, bool self_timed) {
  std::vector<char*> argv;
  for (auto& a : c.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2] = {-1, -1};
  if (self_timed && pipe2(out, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    std::exit(2);
  }
  const double t0 = now_ms();
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(2);
  }
  if (pid == 0) {
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(self_timed ? out[1] : null, 1);
    dup2(null, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string text;
  if (self_timed) {
    close(out[1]);
    char buf[4096];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) != 0;)
      if (n > 0) text.append(buf, static_cast<std::size_t>(n));
      else if (errno != EINTR) break;
    close(out[0]);
  }
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  const double t1 = now_ms();
  const double ms = self_timed ? reported_ms(text) : t1 - t0;
  const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && ms >= 0;
  c.last_status = status;
  if (record) {
    if (ok) {
      c.ms.push_back(ms);
      c.rss_kib.push_back(ru.ru_maxrss);
    } else {
      ++c.failures;
    }
  }
  return ok;
}

template <class T>
T quantile(std::vector<T> v, double q) {
  if (v.empty()) return T{};
  std::sort(v.begin(), v.end());
  if (q == 0.5 && v.size() % 2 == 0) return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  const auto i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int cmd_run(int runs, int warmup, const char* spec, bool self_timed) {
  std::ifstream in(spec);
  if (!in) {
    std::fprintf(stderr, "timer: cannot read %s\n", spec);
    return 2;
  }
  std::vector<Command> cmds;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    Command c;
    std::size_t start = 0;
    std::vector<std::string> fields;
    for (;;) {
      const auto tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string::npos ? tab : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    c.label = fields[0];
    c.argv.assign(fields.begin() + 1, fields.end());
    if (c.argv.empty()) {
      std::fprintf(stderr, "timer: %s: no command\n", c.label.c_str());
      return 2;
    }
    cmds.push_back(std::move(c));
  }
  std::vector<std::size_t> order(cmds.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937 rng(12345);
  for (int round = 0; round < warmup + runs; ++round) {
    // Alternating order: each round a new permutation, so no command is
    // always the one that runs right after another.
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t i : order) run_once(cmds[i], round >= warmup, self_timed);
  }
  for (const auto& c : cmds) {
    std::printf("%s\t%.3f\t%.3f\t%.3f\t%ld\t%zu\t%d\n", c.label.c_str(), quantile(c.ms, 0.5),
                quantile(c.ms, 0.0), quantile(c.ms, 0.9), quantile(c.rss_kib, 0.5), c.ms.size(),
                c.failures);
    if (c.failures)
      std::fprintf(stderr, "timer: %s failed %d times (last wait status %d)\n", c.label.c_str(),
                   c.failures, c.last_status);
  }
  return 0;
}

unsigned long long g_bytes = 0;
unsigned long long g_files = 0;

int visit(const char* path, const struct stat*, int type, FTW*) {
  if (type != FTW_F) return 0;
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    g_bytes += static_cast<unsigned long long>(n);
  }
  close(fd);
  ++g_files;
  return 0;
}

int cmd_walk(const char* dir) {
  const double t0 = now_ms();
  if (nftw(dir, visit, 64, FTW_PHYS) != 0) {
    std::perror("nftw");
    return 1;
  }
  std::printf("%llu files, %llu bytes, %.3f ms\n", g_files, g_bytes, now_ms() - t0);
  return g_files > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && (std::strcmp(argv[1], "run") == 0 || std::strcmp(argv[1], "inner") == 0))
    return cmd_run(std::atoi(argv[2]), std::atoi(argv[3]), argv[4],
                   std::strcmp(argv[1], "inner") == 0);
  if (argc == 3 && std::strcmp(argv[1], "walk") == 0) return cmd_walk(argv[2]);
  if (argc >= 3 && std::strcmp(argv[1], "exec") == 0) {
    execv(argv[2], argv + 2);
    std::perror(argv[2]);
    return 127;
  }
  std::fprintf(stderr,
               "usage: timer run|inner RUNS WARMUP SPEC | timer walk DIR | timer exec CMD...\n");
  return 2;
}
