/**
 * Where units find the checkout and node, independent of where either lives:
 * `just install-units` makes these two symlinks, so the committed units are the
 * same on every machine.
 *
 *   ~/.local/share/hrserve/checkout -> the repository
 *   ~/.local/share/hrserve/node     -> the node binary that built it
 */
export const INSTALL_ROOT = '%h/.local/share/hrserve';
export const CHECKOUT = `${INSTALL_ROOT}/checkout`;
export const NODE = `${INSTALL_ROOT}/node`;
/** Per-service local settings (model path, API keys), never committed. */
export const ENVIRONMENT_FILE = (service: string) => `%h/.config/hrserve/${service}.env`;
/** Model downloads and other caches services may write. */
export const CACHE_DIR = '%h/.cache/hrserve';
/** The collector every unit sends traces to. */
export const OTLP_ENDPOINT = 'http://localhost:4317';
