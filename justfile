# Operator and developer recipes for every service under services/.
# `just` comes from the rust-just npm package: after `./pnpm install`, run
# `./pnpm exec just <recipe>`, or put node_modules/.bin on your PATH and type `just <recipe>`.

set shell := ["bash", "-euo", "pipefail", "-c"]

# The project's pnpm on a supported Node.js (see ./pnpm).
pnpm := quote(justfile_directory() / "pnpm")
# Where units find the checkout and node (bin/src/install-layout.ts).
install_root := env_var("HOME") / ".local/share/hrserve"
unit_dir := env_var("HOME") / ".config/systemd/user"
config_dir := env_var("HOME") / ".config/hrserve"
cache_dir := env_var("HOME") / ".cache/hrserve"
# Versioned installs and unit links (bin/src/release-cli.ts), run by tsx: no pnpm needed.
release := quote(justfile_directory() / "bin/node_modules/.bin/tsx") + " " + quote(justfile_directory() / "bin/src/release-cli.ts")

# list the recipes
default:
    @{{quote(just_executable())}} --justfile {{quote(justfile())}} --list --unsorted

# install and build a service and what it depends on (then `just restart <service>`)
sync service: (_known service)
    {{pnpm}} install --frozen-lockfile
    {{pnpm}} exec turbo run build --filter={{service}}... --output-logs=errors-only
    @echo "{{service}} built. If its unit runs: just restart {{service}}"

# start a service's unit (systemctl --user)
start service: (_known service) _systemd
    systemctl --user start {{service}}
    @systemctl --user --no-pager --lines=0 status {{service}} || true

# stop a service's unit: it drains in-flight requests first
stop service: (_known service) _systemd
    systemctl --user stop {{service}}

# restart a service's unit
restart service: (_known service) _systemd
    systemctl --user restart {{service}}

# every service at a glance (unit, health, version, uptime, models, queue, RSS, telemetry); with a name, its unit's status
status service="":
    @if [ -z "{{service}}" ]; then {{pnpm}} --silent --filter @hrserve/bin status; else {{quote(just_executable())}} --justfile {{quote(justfile())}} _unit-status "{{service}}"; fi

# every service's /health at a glance, without systemd
health:
    @{{pnpm}} --silent --filter @hrserve/bin status --no-systemd

# restart every running service whose unit install-units linked (stopped ones stay stopped)
restart-all: _systemd
    #!/usr/bin/env bash
    set -uo pipefail
    failed=()
    root="$(cd "{{install_root}}" 2>/dev/null && pwd -L)" || exit 0
    for link in "{{unit_dir}}"/*.service; do
      case "$(readlink "$link" 2>/dev/null)" in "$root/current/systemd/"*) ;; *) continue ;; esac
      echo "restarting $(basename "$link") (if running)"
      systemctl --user try-restart "$(basename "$link")" || failed+=("$(basename "$link")")
    done
    if ((${#failed[@]})); then echo "did not restart: ${failed[*]} (journalctl --user -u <unit> says why)" >&2; exit 1; fi

_unit-status service: (_known service) _systemd
    systemctl --user --no-pager status {{service}}

# journald keeps each line as the service wrote it, JSON (`-o cat`: the message alone); the
# same formatter the service uses on a terminal makes it readable (bin/src/pretty-logs.ts).
# follow a service's logs (journald), one readable line per entry
logs service: (_known service) _systemd
    journalctl --user -u {{service}} -o cat -n 100 -f | {{pnpm}} --silent --filter @hrserve/bin pretty-logs

# The service reads its unit's settings file, ~/.config/hrserve/<service>.env, when there is one
# (parsed as systemd does, by hrserve/dev-settings); a variable given on the command line wins over
# the file: `LOG_LEVEL=debug just dev llmchat`. It writes readable lines to a terminal itself
# (LOG_FORMAT), no pipe, so Ctrl-C drains it and its stop lines are printed.
# The run line is `-` because just, which Ctrl-C interrupts too, exits 0 after an interrupted line
# only when the line may fail; the last line hands on the service's own exit status instead.
# run a service in the foreground, with its settings file and readable logs; Ctrl-C stops it gracefully
dev service: (_runnable service)
    {{pnpm}} exec turbo run build --filter={{service}}... --output-logs=errors-only
    -@cd "{{justfile_directory()}}/{{ if path_exists(justfile_directory() / "services" / service) == "true" { "services" } else { "examples" } }}/{{service}}" && node_bin="$({{pnpm}} exec node -p process.execPath)" && status=0 && HRSERVE_SETTINGS_FILE="{{config_dir}}/{{service}}.env" MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}" "$node_bin" --enable-source-maps --max-semi-space-size=16 --import hrserve/dev-settings --import ./dist/telemetry.js ./dist/main.js || status=$?; echo "$status" > "${TMPDIR:-/tmp}/hrserve-dev.$PPID"
    @status="$(cat "${TMPDIR:-/tmp}/hrserve-dev.$PPID" 2>/dev/null || echo 1)"; rm -f "${TMPDIR:-/tmp}/hrserve-dev.$PPID"; exit "$status"

# link every unit into ~/.config/systemd/user and reload systemd; the units run on the `node` on PATH,
# this checkout as it is (or the release `just upgrade` made, once there is one).
# It creates what the units may write (ReadWritePaths must exist before they start), owner only like the settings (API keys).
install-units: _supported_node
    mkdir -p "{{install_root}}" "{{unit_dir}}"
    install -d -m 0700 "{{config_dir}}" "{{cache_dir}}" "{{cache_dir}}/models"
    chmod 0700 "{{config_dir}}" "{{cache_dir}}"
    find "{{config_dir}}" -maxdepth 1 -name '*.env' -exec chmod 0600 {} +
    ln -sfn "$(command -v node)" "{{install_root}}/node"
    rm -f "{{install_root}}/checkout"
    current="$(readlink "{{install_root}}/current" 2>/dev/null || true)"; case "$current" in */hrserve/releases/*) echo "Units run release $(basename "$current"): just upgrade and just rollback change that.";; *) ln -sfn "{{justfile_directory()}}" "{{install_root}}/current";; esac
    {{release}} link-units
    @echo "Units linked into {{unit_dir}}; put local settings (e.g. LLMCHAT_MODEL=/path/model.gguf) in {{config_dir}}/<service>.env"
    @if systemctl --user show-environment >/dev/null 2>&1; then systemctl --user daemon-reload && echo "systemd reloaded; enable one with: systemctl --user enable --now <service>"; else echo "No systemd user manager here: units are linked, run 'systemctl --user daemon-reload' where one runs."; fi

# remove the units install-units linked (stopping and disabling them where systemd runs); settings, models, stored data and releases stay
uninstall-units:
    #!/usr/bin/env bash
    set -euo pipefail
    root="$(cd "{{install_root}}" 2>/dev/null && pwd -L)" || root="{{install_root}}"
    if systemctl --user show-environment >/dev/null 2>&1; then
      for link in "{{unit_dir}}"/*.service; do
        case "$(readlink "$link" 2>/dev/null)" in "$root/current/systemd/"*) systemctl --user disable --now "$(basename "$link")" || true ;; esac
      done
    fi
    {{release}} unlink-units
    if systemctl --user show-environment >/dev/null 2>&1; then systemctl --user daemon-reload; fi
    echo "Settings ({{config_dir}}), models ({{cache_dir}}) and releases ({{install_root}}/releases) are kept; remove them yourself if you want them gone."

# build this checkout's last commit into a release, switch the units to it, restart those running (just rollback undoes)
upgrade: _supported_node
    @{{release}} upgrade --repo "{{justfile_directory()}}"

# switch the units back to the release before the current one and restart those running
rollback:
    @{{release}} rollback

# the releases `just upgrade` built, which one the units run and which `just rollback` returns to
releases:
    @{{release}} list

# create a service's settings file, readable by you only, and print its path (then edit it)
config service: (_known service)
    install -d -m 0700 "{{config_dir}}"
    [ -e "{{config_dir}}/{{service}}.env" ] || install -m 0600 /dev/null "{{config_dir}}/{{service}}.env"
    chmod 0600 "{{config_dir}}/{{service}}.env"
    @echo "{{config_dir}}/{{service}}.env"

# regenerate systemd units and the port table from the service manifests
gen:
    {{pnpm}} gen

# print a service's port, from the generated port table
port service: (_known service)
    @node -e 'const ports = require("./systemd/ports.json"); console.log(ports[process.argv[1]])' "{{service}}"

# print each trace the services send as a tree (OTLP on 127.0.0.1:4317 and :4318, where a collector would listen); --help for options
[no-exit-message]
traces *args:
    @{{pnpm}} --silent --dir {{quote(justfile_directory() / "bin")}} exec tsx src/traces.ts {{args}}

# link the OpenTelemetry Collector's user unit (otelcol/: OTLP in on 4317 and 4318, traces out to Jaeger or Tempo); needs otelcol-contrib
install-otelcol:
    #!/usr/bin/env bash
    set -euo pipefail
    binary="${HRSERVE_OTELCOL_CONTRIB:-$(command -v otelcol-contrib || true)}"
    if [ -z "$binary" ] || [ ! -x "$binary" ]; then
      echo "otelcol-contrib is not installed (not on PATH). Get it from https://github.com/open-telemetry/opentelemetry-collector-releases/releases (the .deb or .rpm puts it in /usr/bin and starts a system service on the same ports: sudo systemctl disable --now otelcol-contrib), then run this again. Meanwhile 'just traces' prints traces in a terminal." >&2
      exit 1
    fi
    if [ ! -e "{{install_root}}/current/otelcol/hrserve-otelcol.service" ]; then
      echo "{{install_root}}/current/otelcol/hrserve-otelcol.service is missing: run 'just install-units' first (it makes {{install_root}}/current), or 'just upgrade' to a release that has otelcol/." >&2
      exit 1
    fi
    ln -sfn "$binary" "{{install_root}}/otelcol-contrib"
    mkdir -p "{{unit_dir}}"
    ln -sfn "{{install_root}}/current/otelcol/hrserve-otelcol.service" "{{unit_dir}}/hrserve-otelcol.service"
    echo "hrserve-otelcol linked, running $binary. Traces go to HRSERVE_TRACES_BACKEND (default 127.0.0.1:14317), set in {{config_dir}}/otelcol.env."
    if systemctl --user show-environment >/dev/null 2>&1; then systemctl --user daemon-reload && echo "Start it with: systemctl --user enable --now hrserve-otelcol"; else echo "No systemd user manager here: the unit is linked, run 'systemctl --user daemon-reload' where one runs."; fi

# stop, disable and unlink the collector's unit (install-otelcol undone); its settings file stays
uninstall-otelcol:
    #!/usr/bin/env bash
    set -euo pipefail
    if systemctl --user show-environment >/dev/null 2>&1; then systemctl --user disable --now hrserve-otelcol.service 2>/dev/null || true; fi
    rm -f "{{unit_dir}}/hrserve-otelcol.service" "{{install_root}}/otelcol-contrib"
    if systemctl --user show-environment >/dev/null 2>&1; then systemctl --user daemon-reload; fi
    echo "hrserve-otelcol unlinked; {{config_dir}}/otelcol.env is kept."

# lint, typecheck, build and run every test (what CI runs)
test:
    {{pnpm}} install --frozen-lockfile
    {{pnpm}} check

# benchmark llmchat against llama.cpp's llama-server (builds it once, minutes)
bench:
    {{pnpm}} bench

# which GPU backends this host gives llmchat (devices, memory) and a short generation with LLMCHAT_GPU=auto
gpu-check *args:
    {{pnpm}} gpu-check {{args}}

# fails, saying how to fix it, when the `node` on PATH is older than the units need
[no-exit-message]
_supported_node:
    #!/usr/bin/env bash
    set -euo pipefail
    node_bin="$(command -v node || true)"
    version="$([ -n "$node_bin" ] && "$node_bin" -p process.versions.node 2>/dev/null || echo none)"
    major="${version%%.*}" minor="$(cut -d. -f2 <<<"$version.")"
    if [[ "$major" =~ ^[0-9]+$ ]] && { ((major >= 26)) || ((major == 24 && minor >= 11)); }; then exit 0; fi
    echo "The units would run on Node.js ${version} (${node_bin:-no node on PATH}); hrserve needs 24.11+ or 26+." >&2
    echo "Run it through the project's wrapper, which brings Node.js 24 from the npm registry: ./pnpm exec just install-units" >&2
    echo "(or put Node.js 24 LTS first on PATH, from your distribution, nvm or nodejs.org, and run it again)." >&2
    exit 1

# fails clearly when there is no such service to run: a package under services/ or examples/
[no-exit-message]
_runnable service:
    @[ -f "services/{{service}}/package.json" ] || [ -f "examples/{{service}}/package.json" ] || { echo "Unknown service \"{{service}}\". Services: $(cd services && ls -d */ | tr -d / | paste -sd' '); examples: $(cd examples && ls -d */ | tr -d / | paste -sd' ')." >&2; exit 1; }

# fails clearly when the service is not in the port table
[no-exit-message]
_known service:
    @node -e 'const ports = require("./systemd/ports.json"); if (!(process.argv[1] in ports)) { console.error(`Unknown service "${process.argv[1]}". Services: ${Object.keys(ports).join(", ")}.`); process.exit(1); }' "{{service}}"

# fails clearly where no systemd user manager runs (containers, CI)
[no-exit-message]
_systemd:
    @systemctl --user show-environment >/dev/null 2>&1 || { echo "systemd is not available here (no user manager answers 'systemctl --user'). Run the service in the foreground with './pnpm exec just dev <service>' instead." >&2; exit 1; }
