// A bounded ELF reader: the header, the program headers, PT_INTERP and the
// dynamic section's DT_NEEDED / DT_RUNPATH / DT_RPATH strings. The file is
// untrusted (a project's binary): every offset is checked against its size
// and every table has a cap, and it is read with pread, never mapped.
#include "check/elf.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "aisbx/sys/fd.h"

namespace aisbx::check {
namespace {

constexpr std::size_t kMaxPhdrs = 4096;
constexpr std::size_t kMaxDynEntries = 1 << 16;
constexpr std::size_t kMaxString = 4096;  // PATH_MAX: longer names are not paths

struct File {
  const std::string& path;
  int fd;
  std::uint64_t size;

  // Reads exactly n bytes at off, or fails naming what it was reading.
  Expected<void> read(void* buf, std::uint64_t off, std::size_t n,
                      const char* what) const {
    if (off > size || n > size - off)
      return fail("ELF " + q(path) + ": " + what + " lies outside the file",
                  "the file is truncated or not a valid ELF object");
    auto* p = static_cast<char*>(buf);
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd, p + done, n - done, static_cast<off_t>(off + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return sys_fail("read " + q(path));
      if (got == 0)
        return fail("ELF " + q(path) + ": " + what + ": unexpected end of file");
      done += static_cast<std::size_t>(got);
    }
    return {};
  }
};

struct Load {
  std::uint64_t vaddr, offset, filesz;
};

// The file offset of a virtual address, through the PT_LOAD segment holding it.
std::optional<std::uint64_t> to_offset(const std::vector<Load>& loads,
                                       std::uint64_t addr) {
  for (const auto& l : loads)
    if (addr >= l.vaddr && addr - l.vaddr < l.filesz) return l.offset + (addr - l.vaddr);
  return std::nullopt;
}

Expected<std::string> read_string(const File& f, std::uint64_t table,
                                  std::uint64_t table_size, std::uint64_t off) {
  if (off >= table_size || table >= f.size || off >= f.size - table)
    return fail("ELF " + q(f.path) +
                ": a dynamic string lies outside .dynstr or the file");
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(
      {table_size - off, std::uint64_t{kMaxString}, f.size - (table + off)}));
  std::string buf(n, '\0');
  AISBX_TRY(f.read(buf.data(), table + off, n, "a dynamic string"));
  const auto nul = buf.find('\0');
  if (nul == std::string::npos)
    return fail("ELF " + q(f.path) + ": an unterminated dynamic string");
  buf.resize(nul);
  return buf;
}

std::vector<std::string> split_colons(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    const auto j = s.find(':', i);
    std::string part = s.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (!part.empty()) out.push_back(std::move(part));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

Expected<void> read_dynamic(const File& f, const Elf64_Phdr& dyn,
                            const std::vector<Load>& loads, ElfInfo& info) {
  const std::size_t count = static_cast<std::size_t>(dyn.p_filesz / sizeof(Elf64_Dyn));
  if (count > kMaxDynEntries)
    return fail("ELF " + q(f.path) + ": dynamic section too large");
  std::vector<Elf64_Dyn> entries(count);
  AISBX_TRY(f.read(entries.data(), dyn.p_offset, count * sizeof(Elf64_Dyn),
                   "the dynamic section"));
  std::uint64_t strtab = 0, strsz = 0;
  bool have_strtab = false;
  std::vector<std::uint64_t> needed;
  std::optional<std::uint64_t> runpath, rpath;
  for (const auto& d : entries) {
    if (d.d_tag == DT_NULL) break;
    switch (d.d_tag) {
      case DT_STRTAB:
        strtab = d.d_un.d_ptr;
        have_strtab = true;
        break;
      case DT_STRSZ:
        strsz = d.d_un.d_val;
        break;
      case DT_NEEDED:
        needed.push_back(d.d_un.d_val);
        break;
      case DT_RUNPATH:
        runpath = d.d_un.d_val;
        break;
      case DT_RPATH:
        rpath = d.d_un.d_val;
        break;
      default:
        break;
    }
  }
  if (needed.empty() && !runpath && !rpath) return {};
  if (!have_strtab) return fail("ELF " + q(f.path) + ": DT_NEEDED without DT_STRTAB");
  const auto table = to_offset(loads, strtab);
  if (!table) return fail("ELF " + q(f.path) + ": DT_STRTAB is in no loaded segment");
  for (auto off : needed) {
    AISBX_ASSIGN(name, read_string(f, *table, strsz, off));
    info.needed.push_back(std::move(name));
  }
  if (runpath) {
    AISBX_ASSIGN(s, read_string(f, *table, strsz, *runpath));
    info.runpath = split_colons(s);
  }
  if (rpath) {
    AISBX_ASSIGN(s, read_string(f, *table, strsz, *rpath));
    info.rpath = split_colons(s);
  }
  return {};
}

}  // namespace

Expected<std::optional<ElfInfo>> read_elf(const std::string& path) {
  // O_NONBLOCK: a FIFO planted at the path must not hang the check.
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return sys_fail("open " + q(path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_fail("fstat " + q(path));
  if (!S_ISREG(st.st_mode)) return std::optional<ElfInfo>{};
  const File f{path, fd.get(), static_cast<std::uint64_t>(st.st_size)};

  unsigned char ident[EI_NIDENT];
  if (f.size < EI_NIDENT) return std::optional<ElfInfo>{};
  AISBX_TRY(f.read(ident, 0, EI_NIDENT, "the ELF identification"));
  if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) return std::optional<ElfInfo>{};

  ElfInfo info;
  info.elf_class = ident[EI_CLASS];
  info.little_endian = ident[EI_DATA] == ELFDATA2LSB;
  // e_machine sits at offset 18 in both classes.
  if (info.little_endian && f.size >= 20) {
    unsigned char m[2];
    AISBX_TRY(f.read(m, 18, 2, "e_machine"));
    info.machine = static_cast<std::uint16_t>(m[0] | (m[1] << 8));
  }
  // The structs below are read as this host lays them out: little-endian.
  if (info.elf_class != ELFCLASS64 || !info.little_endian ||
      std::endian::native != std::endian::little)
    return std::optional<ElfInfo>{info};
  info.supported = true;

  Elf64_Ehdr eh{};
  AISBX_TRY(f.read(&eh, 0, sizeof eh, "the ELF header"));
  if (eh.e_phnum == 0) return std::optional<ElfInfo>{info};
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > kMaxPhdrs)
    return fail("ELF " + q(path) + ": unexpected program header table (" +
                std::to_string(eh.e_phnum) + " entries of " +
                std::to_string(eh.e_phentsize) + " bytes)");
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  AISBX_TRY(f.read(ph.data(), eh.e_phoff, ph.size() * sizeof(Elf64_Phdr),
                   "the program headers"));

  std::vector<Load> loads;
  const Elf64_Phdr* dynamic = nullptr;
  for (const auto& p : ph) {
    if (p.p_type == PT_LOAD) loads.push_back({p.p_vaddr, p.p_offset, p.p_filesz});
    if (p.p_type == PT_DYNAMIC) dynamic = &p;
    if (p.p_type == PT_INTERP) {
      if (p.p_filesz == 0 || p.p_filesz > kMaxString)
        return fail("ELF " + q(path) + ": PT_INTERP of " + std::to_string(p.p_filesz) +
                    " bytes");
      std::string s(static_cast<std::size_t>(p.p_filesz), '\0');
      AISBX_TRY(f.read(s.data(), p.p_offset, s.size(), "PT_INTERP"));
      s.resize(std::strlen(s.c_str()));
      info.interp = std::move(s);
    }
  }
  if (dynamic) AISBX_TRY(read_dynamic(f, *dynamic, loads, info));
  return std::optional<ElfInfo>{info};
}

std::optional<std::string> read_shebang(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (fd.get() < 0) return std::nullopt;
  char buf[256];  // the kernel reads at most BINPRM_BUF_SIZE (256) bytes of it
  const ssize_t n = ::pread(fd.get(), buf, sizeof buf, 0);
  if (n < 3 || buf[0] != '#' || buf[1] != '!') return std::nullopt;
  const std::string line(buf + 2, static_cast<std::size_t>(n) - 2);
  const auto start = line.find_first_not_of(" \t");
  if (start == std::string::npos) return std::nullopt;
  const auto end = line.find_first_of(" \t\n", start);
  if (end == std::string::npos && static_cast<std::size_t>(n) == sizeof buf)
    return std::nullopt;
  return line.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string multiarch_triplet(std::uint16_t machine) {
  switch (machine) {
    case EM_X86_64:
      return "x86_64-linux-gnu";
    case EM_AARCH64:
      return "aarch64-linux-gnu";
    case EM_RISCV:
      return "riscv64-linux-gnu";
    case EM_PPC64:
      return "powerpc64le-linux-gnu";
    case EM_S390:
      return "s390x-linux-gnu";
    default:
      return {};
  }
}

}  // namespace aisbx::check
