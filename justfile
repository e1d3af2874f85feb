# Operator and developer recipes. `just` comes from the rust-just npm package:
# after install run `pnpm exec just <recipe>` (or put node_modules/.bin on PATH).

pnpm := "npx -y pnpm@10.34.8"

# list the recipes
default:
    @just --list

# install, then build every package
build:
    {{pnpm}} install --frozen-lockfile
    {{pnpm}} build

# lint, typecheck, build and run every test (what CI runs)
test:
    {{pnpm}} install --frozen-lockfile
    {{pnpm}} check

# run a service in the foreground with readable logs
dev service:
    {{pnpm}} turbo run build --filter={{service}}... --output-logs=errors-only
    {{pnpm}} --filter {{service}} start
