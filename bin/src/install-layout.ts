/**
 * Where units find the tree they run and node, independent of where either
 * lives: `just install-units` makes these symlinks, so the committed units are
 * the same on every machine.
 *
 *   ~/.local/share/hrserve/current -> this checkout, or a release (`just upgrade`, releases.ts)
 *   ~/.local/share/hrserve/node    -> the node binary that built it
 */
export const INSTALL_ROOT = '%h/.local/share/hrserve';
export const CURRENT = `${INSTALL_ROOT}/current`;
export const NODE = `${INSTALL_ROOT}/node`;
/** Per-service local settings (model path, API keys), never committed. */
export const ENVIRONMENT_FILE = (service: string) => `%h/.config/hrserve/${service}.env`;
/**
 * Model downloads: the one place a unit may write (ReadWritePaths). Only this
 * folder, not all of ~/.cache/hrserve: tools the operator runs keep things there
 * (a llama-server build for `just bench`), which a compromised service must not
 * be able to replace.
 */
export const MODELS_DIR = '%h/.cache/hrserve/models';

/**
 * A stateful service's own data (its SQLite store): `~/.local/share/hrserve/<service>`,
 * beside `current` and `node`, so releases and rollbacks leave it alone. The unit sets
 * DATA_DIR to it and may write there (ReadWritePaths); install-units creates it, 0700.
 */
export const DATA_DIR = (service: string) => `${INSTALL_ROOT}/${service}`;
