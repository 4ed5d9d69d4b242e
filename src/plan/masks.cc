// The table of built-in masks. Each row is a path relative to a home
// directory (the caller's HOME, and every home directory a root contains:
// see protect_plan.cc). Secret stores are what lets a program act as the
// user elsewhere (keys, tokens, cloud credentials, browser sessions);
// start-up files are what the user's shell, desktop session, git or editor
// runs later on the host, so a write there outlives the sandbox.
#include "plan/masks.h"

#include <algorithm>
#include <array>

#include "aisbx/profile_cache.h"

namespace aisbx::plan {
namespace {

using enum MaskKind;

constexpr std::array kMasks{
    // Secret stores: hidden.
    BuiltinMask{"ssh", ".ssh", secret, "SSH keys, known hosts, authorized_keys"},
    BuiltinMask{"gnupg", ".gnupg", secret, "GnuPG private keys"},
    BuiltinMask{"aws", ".aws", secret, "AWS credentials (and credential_process commands)"},
    BuiltinMask{"gh", ".config/gh", secret, "GitHub CLI token"},
    BuiltinMask{"hub", ".config/hub", secret, "hub (GitHub) token"},
    BuiltinMask{"glab", ".config/glab-cli", secret, "GitLab CLI token"},
    BuiltinMask{"kube", ".kube", secret, "Kubernetes cluster credentials"},
    BuiltinMask{"docker", ".docker/config.json", secret, "Docker registry auth and credential helpers"},
    BuiltinMask{"netrc", ".netrc", secret, "passwords for curl, git, ftp"},
    BuiltinMask{"git-credentials", ".git-credentials", secret, "git's stored passwords"},
    BuiltinMask{"git-credentials", ".config/git/credentials", secret, "git's stored passwords"},
    BuiltinMask{"keyrings", ".local/share/keyrings", secret, "GNOME keyring"},
    BuiltinMask{"password-store", ".password-store", secret, "pass(1) password store"},
    BuiltinMask{"gcloud", ".config/gcloud", secret, "Google Cloud credentials"},
    BuiltinMask{"azure", ".azure", secret, "Azure CLI tokens"},
    BuiltinMask{"npmrc", ".npmrc", secret, "npm registry tokens"},
    BuiltinMask{"pypirc", ".pypirc", secret, "PyPI upload tokens"},
    BuiltinMask{"cargo-credentials", ".cargo/credentials.toml", secret, "crates.io token"},
    BuiltinMask{"cargo-credentials", ".cargo/credentials", secret, "crates.io token"},
    BuiltinMask{"terraform", ".terraform.d/credentials.tfrc.json", secret, "Terraform Cloud token"},
    BuiltinMask{"vault", ".vault-token", secret, "HashiCorp Vault token"},
    BuiltinMask{"pgpass", ".pgpass", secret, "PostgreSQL passwords"},
    BuiltinMask{"mysql", ".my.cnf", secret, "MySQL passwords"},
    BuiltinMask{"mozilla", ".mozilla", secret, "Firefox profiles: cookies, saved passwords"},
    BuiltinMask{"chrome", ".config/google-chrome", secret, "Chrome profiles: cookies, saved passwords"},
    BuiltinMask{"chromium", ".config/chromium", secret, "Chromium profiles: cookies, saved passwords"},
    // aisbx-ns's own: an entry written here would change what later
    // launches enforce (include/aisbx/profile_cache.h) or the repositories
    // they protect (host/walk_cache.h). Never unmasked.
    BuiltinMask{kAisbxCacheMask, profile::kProfileCacheDir, secret,
                "aisbx-ns's profile and git-walk caches: what later launches enforce"},
    // Overlay runs: what `aisbx-ns commit` writes into a project (the meta
    // names the roots, the upper dir the content), and other projects'
    // changes. A run that could edit another run's would choose what the
    // user's commit writes, and where.
    BuiltinMask{"aisbx-runs", ".ai-sandbox/runs", secret,
                "aisbx-ns's overlay runs: what `aisbx-ns commit` writes, and where"},
    // Private homes of every profile and project: code planted in one runs
    // in another project's sandbox, and each holds its project's state.
    BuiltinMask{kAisbxHomesMask, ".ai-sandbox/homes", secret,
                "aisbx-ns's private homes of other profiles and projects"},
    // Start-up files: read-only.
    // aisbx-ns's own profiles (the default --config): a run that rewrote
    // them would widen every later launch.
    BuiltinMask{"aisbx-config", ".config/aisbx", startup,
                "aisbx-ns's own profiles: what later launches enforce"},
    BuiltinMask{"bashrc", ".bashrc", startup, "run by every interactive bash"},
    BuiltinMask{"bash_profile", ".bash_profile", startup, "run by a login bash"},
    BuiltinMask{"bash_login", ".bash_login", startup, "run by a login bash"},
    BuiltinMask{"profile", ".profile", startup, "run by a login shell and the desktop session"},
    BuiltinMask{"bash_logout", ".bash_logout", startup, "run when a login bash exits"},
    BuiltinMask{"zshrc", ".zshrc", startup, "run by every interactive zsh"},
    BuiltinMask{"zshenv", ".zshenv", startup, "run by every zsh"},
    BuiltinMask{"zprofile", ".zprofile", startup, "run by a login zsh"},
    BuiltinMask{"zlogin", ".zlogin", startup, "run by a login zsh"},
    BuiltinMask{"zlogout", ".zlogout", startup, "run when a login zsh exits"},
    BuiltinMask{"fish", ".config/fish", startup, "fish configuration and functions"},
    BuiltinMask{"inputrc", ".inputrc", startup, "readline key bindings (can type commands)"},
    BuiltinMask{"xprofile", ".xprofile", startup, "run by the X session"},
    BuiltinMask{"xinitrc", ".xinitrc", startup, "run by startx"},
    BuiltinMask{"xsession", ".xsession", startup, "run by the X session"},
    BuiltinMask{"pam_environment", ".pam_environment", startup, "environment of every login"},
    BuiltinMask{"autostart", ".config/autostart", startup, "programs the desktop session starts"},
    BuiltinMask{"systemd-user", ".config/systemd/user", startup, "user services systemd starts"},
    BuiltinMask{"environment-d", ".config/environment.d", startup, "environment of the user's services"},
    BuiltinMask{"gitconfig", ".gitconfig", startup, "git configuration (core.fsmonitor, hooksPath, pager)"},
    BuiltinMask{"gitconfig", ".config/git", startup, "git configuration, attributes, ignore"},
    BuiltinMask{"local-bin", ".local/bin", startup, "on PATH: a program here shadows a system one"},
    BuiltinMask{"bin", "bin", startup, "on PATH: a program here shadows a system one"},
    BuiltinMask{"vimrc", ".vimrc", startup, "run by vim"},
    BuiltinMask{"vim", ".vim", startup, "vim plugins"},
    BuiltinMask{"nvim", ".config/nvim", startup, "neovim configuration and plugins"},
    BuiltinMask{"emacs", ".emacs", startup, "run by emacs"},
    BuiltinMask{"emacs", ".emacs.d", startup, "emacs configuration and packages"},
    BuiltinMask{"tmux", ".tmux.conf", startup, "run by tmux (run-shell)"},
};

}  // namespace

std::span<const BuiltinMask> builtin_masks() { return kMasks; }

bool is_mask_name(std::string_view name) {
  return std::any_of(kMasks.begin(), kMasks.end(),
                     [&](const BuiltinMask& m) { return m.name == name; });
}

std::vector<std::string_view> mask_names() {
  std::vector<std::string_view> out;
  for (const auto& m : kMasks)
    if (std::find(out.begin(), out.end(), m.name) == out.end()) out.push_back(m.name);
  return out;
}

}  // namespace aisbx::plan
