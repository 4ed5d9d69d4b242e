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
//   timer time CMD ARGS...       runs CMD (fork, exec, wait) and prints
//                                its time as "... ms" for `timer inner`:
//                                a workload's own time inside a sandbox,
//                                without the launch; fails when CMD does
//   timer exec CMD ARGS...       only execs CMD: built static, the
//                                cheapest possible launcher (the floor)
//   timer phases RUNS WARMUP SPEC  runs each command with
//                                AISBX_PHASE_TIMES=1 and reads the marks
//                                aisbx-ns writes to stderr (one clock for
//                                every process): prints per command the
//                                median ms of each phase, from the fork to
//                                the first mark, mark to mark, and from
//                                the last mark to the end of the wait
//
// SPEC: one command per line, `label<TAB>argv0<TAB>argv1...`.
// Output: label, median ms, min ms, p90 ms, median max RSS KiB (the
// largest of the process tree: launcher, its children, the command),
// runs, failures, median CPU ms (user + system of the whole tree, from
// wait4(): what the launch costs the machine, much less moved by other
// jobs than the time on the clock), median minor page faults of the tree.
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
  std::vector<double> cpu_ms;
  std::vector<long> minflt;
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
struct Phases {
  std::vector<std::string> names;                // in the order first seen
  std::vector<std::vector<double>> ms;           // per name, one per run
};
Phases* g_phases = nullptr;
const Command* g_first_command = nullptr;  // set by `timer phases`: stderr is read for marks

// "aisbx-ns: phase NAME SECONDS" lines -> (name, ms on CLOCK_MONOTONIC).
std::vector<std::pair<std::string, double>> marks_of(const std::string& err) {
  std::vector<std::pair<std::string, double>> out;
  std::size_t start = 0;
  while (start < err.size()) {
    auto nl = err.find('\n', start);
    if (nl == std::string::npos) nl = err.size();
    const std::string line = err.substr(start, nl - start);
    start = nl + 1;
    const std::string tag = "aisbx-ns: phase ";
    if (line.rfind(tag, 0) != 0) continue;
    const auto sp = line.find(' ', tag.size());
    if (sp == std::string::npos) continue;
    out.emplace_back(line.substr(tag.size(), sp - tag.size()), std::atof(line.c_str() + sp + 1) * 1e3);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  return out;
}

void add_phase(Phases& ph, const std::string& name, double ms) {
  auto it = std::find(ph.names.begin(), ph.names.end(), name);
  if (it == ph.names.end()) {
    ph.names.push_back(name);
    ph.ms.emplace_back();
    it = ph.names.end() - 1;
  }
  ph.ms[static_cast<std::size_t>(it - ph.names.begin())].push_back(ms);
}

bool run_once(Command& c, bool record, bool self_timed) {
  std::vector<char*> argv;
  for (auto& a : c.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2] = {-1, -1};
  const bool phased = g_phases != nullptr;
  if ((self_timed || phased) && pipe2(out, O_CLOEXEC) != 0) {
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
    dup2(phased ? out[1] : null, 2);
    if (phased) setenv("AISBX_PHASE_TIMES", "1", 1);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string text;
  if (self_timed || phased) {
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
  if (record && ok && phased) {
    Phases& ph = g_phases[&c - g_first_command];
    double prev = t0;
    std::string prev_name = "start";
    for (const auto& [name, at] : marks_of(text)) {
      add_phase(ph, prev_name + ">" + name, at - prev);
      prev = at;
      prev_name = name;
    }
    add_phase(ph, prev_name + ">end", t1 - prev);
  }
  if (record) {
    if (ok) {
      c.ms.push_back(ms);
      c.rss_kib.push_back(ru.ru_maxrss);
      const auto tv_ms = [](const timeval& tv) {
        return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
      };
      c.cpu_ms.push_back(tv_ms(ru.ru_utime) + tv_ms(ru.ru_stime));
      c.minflt.push_back(ru.ru_minflt);
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

int cmd_run(int runs, int warmup, const char* spec, bool self_timed, bool phased) {
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
  std::vector<Phases> phases(cmds.size());
  if (phased) {
    g_phases = phases.data();
    g_first_command = cmds.data();
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
  if (phased) {
    // label, then pairs: "from>to" and its median ms, in the order seen.
    for (std::size_t i = 0; i < cmds.size(); ++i) {
      std::printf("%s", cmds[i].label.c_str());
      for (std::size_t k = 0; k < phases[i].names.size(); ++k)
        std::printf("\t%s\t%.3f", phases[i].names[k].c_str(), quantile(phases[i].ms[k], 0.5));
      std::printf("\ttotal\t%.3f\n", quantile(cmds[i].ms, 0.5));
    }
    return 0;
  }
  for (const auto& c : cmds) {
    std::printf("%s\t%.3f\t%.3f\t%.3f\t%ld\t%zu\t%d\t%.3f\t%ld\n", c.label.c_str(),
                quantile(c.ms, 0.5), quantile(c.ms, 0.0), quantile(c.ms, 0.9),
                quantile(c.rss_kib, 0.5), c.ms.size(), c.failures, quantile(c.cpu_ms, 0.5),
                quantile(c.minflt, 0.5));
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
  if (argc == 5 && (std::strcmp(argv[1], "run") == 0 || std::strcmp(argv[1], "inner") == 0 ||
                    std::strcmp(argv[1], "phases") == 0))
    return cmd_run(std::atoi(argv[2]), std::atoi(argv[3]), argv[4],
                   std::strcmp(argv[1], "inner") == 0, std::strcmp(argv[1], "phases") == 0);
  if (argc == 3 && std::strcmp(argv[1], "walk") == 0) return cmd_walk(argv[2]);
  if (argc >= 3 && std::strcmp(argv[1], "time") == 0) {
    const double t0 = now_ms();
    const pid_t pid = fork();
    if (pid == 0) {
      const int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "timer: %s: wait status %d\n", argv[2], status);
      return 1;
    }
    std::printf("%s: %.3f ms\n", argv[2], now_ms() - t0);
    return 0;
  }
  if (argc >= 3 && std::strcmp(argv[1], "exec") == 0) {
    execv(argv[2], argv + 2);
    std::perror(argv[2]);
    return 127;
  }
  std::fprintf(stderr,
               "usage: timer run|inner|phases RUNS WARMUP SPEC | timer walk DIR | timer time CMD... | "
               "timer exec CMD...\n");
  return 2;
}
