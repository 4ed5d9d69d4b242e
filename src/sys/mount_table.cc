#include "aisbx/sys/mount_table.h"

#include <dlfcn.h>
#include <libmount/libmount.h>

#include <algorithm>
#include <memory>

namespace aisbx::sys {
namespace {

// The functions used, looked up once; each member has the type of the
// libmount function it names, so a changed prototype fails to compile.
struct LibMount {
  decltype(&::mnt_new_table_from_file) new_table_from_file;
  decltype(&::mnt_unref_table) unref_table;
  decltype(&::mnt_table_get_nents) table_get_nents;
  decltype(&::mnt_new_iter) new_iter;
  decltype(&::mnt_free_iter) free_iter;
  decltype(&::mnt_table_next_fs) table_next_fs;
  decltype(&::mnt_fs_get_target) fs_get_target;
  decltype(&::mnt_fs_get_root) fs_get_root;
  decltype(&::mnt_fs_get_source) fs_get_source;
  decltype(&::mnt_fs_get_fstype) fs_get_fstype;
  decltype(&::mnt_fs_get_vfs_options) fs_get_vfs_options;
  decltype(&::mnt_optstr_get_flags) optstr_get_flags;
  decltype(&::mnt_get_builtin_optmap) get_builtin_optmap;
};

constexpr const char* kSoname = "libmount.so.1";

template <class F>
bool find(void* lib, const char* name, F& fn, std::string& missing) {
  fn = reinterpret_cast<F>(::dlsym(lib, name));
  if (!fn) missing = name;
  return fn != nullptr;
}

struct Loaded {
  LibMount fns{};
  std::string error;  // why it could not be loaded; empty when it was
};

Loaded open_libmount() {
  Loaded l;
  // Never unloaded: the process execs or exits soon after.
  void* lib = ::dlopen(kSoname, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    l.error = std::string("dlopen ") + q(kSoname) + ": " + (why ? why : "unknown error");
    return l;
  }
  LibMount& f = l.fns;
  std::string missing;
  const bool ok = find(lib, "mnt_new_table_from_file", f.new_table_from_file, missing) &&
                  find(lib, "mnt_unref_table", f.unref_table, missing) &&
                  find(lib, "mnt_table_get_nents", f.table_get_nents, missing) &&
                  find(lib, "mnt_new_iter", f.new_iter, missing) &&
                  find(lib, "mnt_free_iter", f.free_iter, missing) &&
                  find(lib, "mnt_table_next_fs", f.table_next_fs, missing) &&
                  find(lib, "mnt_fs_get_target", f.fs_get_target, missing) &&
                  find(lib, "mnt_fs_get_root", f.fs_get_root, missing) &&
                  find(lib, "mnt_fs_get_source", f.fs_get_source, missing) &&
                  find(lib, "mnt_fs_get_fstype", f.fs_get_fstype, missing) &&
                  find(lib, "mnt_fs_get_vfs_options", f.fs_get_vfs_options, missing) &&
                  find(lib, "mnt_optstr_get_flags", f.optstr_get_flags, missing) &&
                  find(lib, "mnt_get_builtin_optmap", f.get_builtin_optmap, missing);
  if (!ok) l.error = std::string(kSoname) + " has no symbol " + q(missing);
  return l;
}

Expected<const LibMount*> load() {
  static const Loaded l = open_libmount();
  if (!l.error.empty()) return fail(l.error, "install libmount1 (apt install libmount1)");
  return &l.fns;
}

std::string text(const char* s) { return s ? s : ""; }

}  // namespace

Expected<void> load_mount_table_reader() {
  AISBX_TRY(load());
  return {};
}

Expected<std::vector<MountEntry>> read_mount_table(const std::string& mountinfo) {
  AISBX_ASSIGN(lm, load());
  const auto unref = [lm](libmnt_table* t) { lm->unref_table(t); };
  std::unique_ptr<libmnt_table, decltype(unref)> table(lm->new_table_from_file(mountinfo.c_str()),
                                                       unref);
  if (!table) return fail("libmount: cannot parse " + q(mountinfo));
  const auto free_iter = [lm](libmnt_iter* i) { lm->free_iter(i); };
  std::unique_ptr<libmnt_iter, decltype(free_iter)> it(lm->new_iter(MNT_ITER_FORWARD), free_iter);
  if (!it) return fail("libmount: mnt_new_iter failed (out of memory)");
  std::vector<MountEntry> entries;
  entries.reserve(static_cast<std::size_t>(std::max(0, lm->table_get_nents(table.get()))));
  const libmnt_optmap* linux_map = lm->get_builtin_optmap(MNT_LINUX_MAP);
  libmnt_fs* fs = nullptr;
  while (lm->table_next_fs(table.get(), it.get(), &fs) == 0) {
    MountEntry e;
    e.target = text(lm->fs_get_target(fs));
    e.root = text(lm->fs_get_root(fs));
    e.source = text(lm->fs_get_source(fs));
    e.fstype = text(lm->fs_get_fstype(fs));
    if (const char* vfs = lm->fs_get_vfs_options(fs))
      lm->optstr_get_flags(vfs, &e.flags, linux_map);
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace aisbx::sys
